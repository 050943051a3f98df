"""Sections that apps above `accounts` add to the Account 360 page.

`accounts` cannot import the apps that depend on it, so they register a panel here (in their
AppConfig.ready): a template and a function that returns its context. The page renders them in order.
A panel's context function must not run a query per row (it runs on every page view).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountPanel:
    name: str
    order: int
    template: str
    context: Callable  # (request, account) -> dict


_PANELS: dict[str, AccountPanel] = {}


def register_account_panel(*, name: str, order: int, template: str, context: Callable) -> None:
    _PANELS[name] = AccountPanel(name=name, order=order, template=template, context=context)


def panels_for(request, account) -> list[dict]:
    return [
        {"name": panel.name, "template": panel.template, **panel.context(request, account)}
        for panel in sorted(_PANELS.values(), key=lambda p: p.order)
    ]
