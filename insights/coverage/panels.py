"""Registers this area's sections on shared pages: the Account 360 "CSM changes" trail (nothing when the
account never changed hands)."""

from accounts.panels import register_account_panel

from .selectors import assignment_trail


def assignment_trail_panel(request, account) -> dict:
    return {"trail": assignment_trail(account=account)}  # one query


register_account_panel(name="assignment_trail", order=40, template="insights/coverage/_account_trail.html",
                       context=assignment_trail_panel)
