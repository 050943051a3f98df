"""Adjustment lines: an approved statement is locked, so a change to the records behind it (a lead source moved,
an amount corrected, a renewal closed in another month) is paid or clawed back on the CSM's next draft instead.

For every approved month of the plan year before the draft's month, the month's lines are recomputed from the
records as they are now and compared, per (rule, source record), with what was recorded: the approved lines plus
adjustments for that month already booked on other approved statements or on earlier drafts. Each difference is
one line. The draft's own lines are rewritten on every run, so regenerating never books an adjustment twice."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Q

from .engine import LineDraft, money
from .models import CompAssignment, CompLine, CompRule, CompStatement
from .yearend import month_lines

ZERO = Decimal("0")


def _key(kind, source_type, source_id):
    return (kind, source_type or "", source_id)


def adjustment_lines(*, assignment: CompAssignment, month_start: date, exclude_statement_id=None) -> list[LineDraft]:
    """The adjustment lines for the draft of `month_start` (`exclude_statement_id`: that draft, if it exists)."""
    approved = list(CompStatement.objects.filter(
        plan=assignment.plan, csm=assignment.csm, status=CompStatement.Status.APPROVED,
        period_start__lt=month_start).order_by("period_start"))
    if not approved:
        return []
    months = [s.period_start for s in approved]
    # Booked for a month: its own lines, and adjustments for it on other approved statements or earlier drafts.
    booked_on = (CompLine.objects
                 .filter(statement__csm=assignment.csm, statement__plan=assignment.plan)
                 .filter(Q(adjusts_period__isnull=True, statement__in=approved)
                         | (Q(adjusts_period__in=months)
                            & (Q(statement__status=CompStatement.Status.APPROVED)
                               | Q(statement__period_start__lt=month_start))))
                 .exclude(statement_id=exclude_statement_id)
                 .values_list("statement__period_start", "adjusts_period", "rule_kind", "source_type", "source_id",
                              "amount", "basis"))
    recorded: dict[date, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    labels: dict[tuple, str] = {}
    for period, adjusts, kind, source_type, source_id, amount, basis in booked_on:
        key = _key(kind, source_type, source_id)
        recorded[adjusts or period][key] += amount
        if adjusts is None:
            labels.setdefault(key, basis)
    out: list[LineDraft] = []
    for month in months:
        now: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
        for line in month_lines(assignment=assignment, month_start=month):
            key = _key(line.rule_kind, line.source_type, line.source_id)
            now[key] += line.amount
            labels[key] = line.basis
        was = recorded[month]
        for key in sorted(set(now) | set(was), key=lambda k: (k[0], k[1], k[2] or 0)):
            diff = money(now[key] - was[key])
            if diff == 0:
                continue
            kind, source_type, source_id = key
            what = labels.get(key) or CompRule.Kind(kind).label
            out.append(LineDraft(
                kind, f"Adjustment for {month:%B %Y}", diff,
                f"{what}: recorded {was[key]:,.2f}, now {now[key]:,.2f} (the records changed after approval)"[:300],
                source_type=source_type, source_id=source_id, adjusts_period=month))
    return out
