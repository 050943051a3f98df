"""Sections that apps above `success_plans` add to the My work page (for example targets, monthly reports).

Like accounts.panels: an app registers a template and a function returning its context in AppConfig.ready.
The context function gets the request, the user ids the page shows (one person, or a manager's team) and
today; it must run a fixed number of queries whatever the number of accounts.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class MyWorkSection:
    name: str
    order: int
    template: str
    context: Callable  # (request, user_ids: list[int], today: date) -> dict, or None to leave the section out


_SECTIONS: dict[str, MyWorkSection] = {}


def register_mywork_section(*, name: str, order: int, template: str, context: Callable) -> None:
    _SECTIONS[name] = MyWorkSection(name=name, order=order, template=template, context=context)


def sections_for(request, user_ids, today) -> list[dict]:
    sections = []
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        context = section.context(request, user_ids, today)
        if context is not None:
            sections.append({"name": section.name, "template": section.template, **context})
    return sections
