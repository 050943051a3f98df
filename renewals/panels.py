"""The "Renewals and ARR" section of the Account 360 page (registered when apps.py imports this module):
today's ARR, contracts with their lines, month-end ARR over 24 months, the open and past renewals, and the
expansion opportunities with the "Flag an expansion" form.

A fixed number of queries whatever the account's history: the ARR history is walked in Python over the
account's contracts, loaded once."""

from datetime import timedelta

from django.utils import timezone

from accounts.panels import register_account_panel
from accounts.permissions import account_writable
from health.models import Band

from . import selectors
from .forms import ExpansionFlagForm
from .models import ExpansionOpportunity
from .probability import probability, probability_table

HISTORY_MONTHS = 24
PAST_RENEWALS = 10
FLAG_CLOSE_DAYS = 60
SPARK_WIDTH, SPARK_HEIGHT = 480, 80


def sparkline(points: list[dict]) -> str:
    """The SVG polyline of the ARR history (decoration: the table beside it carries the numbers)."""
    top = max((p["arr"] for p in points), default=0) or 1
    step = SPARK_WIDTH / max(len(points) - 1, 1)
    return " ".join(f"{i * step:.1f},{SPARK_HEIGHT - float(p['arr']) / float(top) * (SPARK_HEIGHT - 4) - 2:.1f}"
                    for i, p in enumerate(points))


def history_summary(points: list[dict]) -> dict | None:
    if not points:
        return None
    first, last = points[0], points[-1]
    high = max(points, key=lambda p: p["arr"])
    change = last["arr"] - first["arr"]
    return {"first": first, "last": last, "high": high, "change": change, "delta": abs(change)}


def renewals_panel(request, account) -> dict:
    membership = request.membership
    today = timezone.localdate()
    contracts = selectors.contracts_of(account=account)
    history = selectors.arr_history(contracts=contracts, today=today, months=HISTORY_MONTHS)
    band = selectors.band_today(account=account, today=today)
    table = probability_table()
    renewals = selectors.renewals_of(account=account)
    open_renewals = [r for r in renewals if r.is_open]
    for renewal in open_renewals:
        renewal.probability = probability(category=renewal.category, stage=renewal.stage, band=band, table=table)
    past = sorted((r for r in renewals if not r.is_open), key=lambda r: (r.closed_on, r.pk), reverse=True)
    expansions = selectors.expansions_of(account=account)
    closed_stages = (ExpansionOpportunity.Stage.WON, ExpansionOpportunity.Stage.LOST)
    flag_form = getattr(request, "renewals_flag_form", None) or ExpansionFlagForm(
        initial={"expected_close": today + timedelta(days=FLAG_CLOSE_DAYS), "kind": ExpansionOpportunity.Kind.UPSELL})
    return {
        "currency": request.tenant.currency,
        "arr": account.arr,
        "contracts": contracts,
        "history": history,
        "history_months": HISTORY_MONTHS,
        "history_summary": history_summary(history),
        "spark": sparkline(history),
        "spark_size": (SPARK_WIDTH, SPARK_HEIGHT),
        "band": band,
        "band_label": Band(band).label,
        "open_renewals": open_renewals,
        "past_renewals": past[:PAST_RENEWALS],
        "past_more": max(len(past) - PAST_RENEWALS, 0),
        "open_expansions": [e for e in expansions if e.stage not in closed_stages],
        "closed_expansions": [e for e in expansions if e.stage in closed_stages],
        "expansion_stages": ExpansionOpportunity.Stage.choices,
        "kinds": ExpansionOpportunity.Kind.choices,
        "flag_form": flag_form,
        "move_errors": getattr(request, "renewals_move_errors", []),
        "notice": getattr(request, "renewals_notice", ""),
        "can_flag": account_writable(membership, account, "expansions.flag"),
        "can_edit_renewals": account_writable(membership, account, "renewals.edit"),
        "today": today,
    }


register_account_panel(name="renewals", order=12, template="renewals/_account_panel.html", context=renewals_panel)
