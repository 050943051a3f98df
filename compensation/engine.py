"""What a CSM earned in a month, line by line, each line naming the record that earned it.

Monthly rules (this module): base salary, new-business commission, retention commission, the opportunity
quota bonus and the process documentation spiff. The year-end rules behind the qualification gates are in
yearend.py, adjustment lines for approved months in adjustments.py. Rules and numbers: docs/compensation.md."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from csplatform.tenancy.context import current_tenant
from renewals.models import ExpansionOpportunity, RenewalOpportunity
from renewals.periods import month_end, quarter_bounds
from success_plans.models import ProcessDoc

from .models import CompAssignment, CompRule

CENT = Decimal("0.01")
K = CompRule.Kind


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class LineDraft:
    rule_kind: str
    basis: str
    amount: Decimal
    explanation: str
    basis_amount: Decimal | None = None
    rate: Decimal | None = None
    source_type: str = ""
    source_id: int | None = None
    adjusts_period: date | None = None  # an adjustment line: the approved month it corrects


def plan_year_bounds(plan) -> tuple[date, date]:
    tenant = current_tenant()
    return quarter_bounds(tenant, plan.year, 1).start, quarter_bounds(tenant, plan.year, 4).end


def _days_on_plan(assignment: CompAssignment, start: date, end: date) -> int:
    first = max(start, assignment.starts_on)
    last = min(end, assignment.ends_on or end)
    return max(0, (last - first).days + 1)


def _base(assignment, rule, start, end) -> list[LineDraft]:
    days = _days_on_plan(assignment, start, end)
    if not days:
        return []
    month_days = (end - start).days + 1
    amount = money(assignment.annual_base / 12 * days / month_days)
    return [LineDraft(K.BASE_SALARY, f"Annual base {assignment.annual_base:,.2f}", amount,
                      f"{assignment.annual_base:,.2f} / 12 x {days}/{month_days} days on the plan",
                      basis_amount=assignment.annual_base)]


def _new_business(assignment, rule, start, end) -> list[LineDraft]:
    won = (ExpansionOpportunity.objects.filter(lead_source=assignment.csm, stage=ExpansionOpportunity.Stage.WON,
                                               closed_on__range=(start, end))
           .select_related("account").order_by("closed_on", "pk"))
    return [LineDraft(K.NEW_BUSINESS, f"{e.get_kind_display()} {e.product} at {e.account.name}",
                      money(e.amount * rule.rate),
                      f"{rule.rate * 100:g}% of {e.amount:,.2f} ARR won on {e.closed_on:%Y-%m-%d}, you found it",
                      basis_amount=e.amount, rate=rule.rate, source_type="renewals.expansionopportunity",
                      source_id=e.pk) for e in won]


def _retention(assignment, rule, start, end) -> list[LineDraft]:
    renewed = (RenewalOpportunity.objects
               .filter(credited_csm=assignment.csm, stage=RenewalOpportunity.Stage.CLOSED,
                       closed_on__range=(start, end))
               .exclude(outcome=RenewalOpportunity.Outcome.CHURNED)
               .select_related("account").order_by("closed_on", "pk"))
    return [LineDraft(K.RETENTION, f"Renewal of {r.account.name} ({r.get_outcome_display().lower()})",
                      money(r.renewed_arr * rule.rate),
                      f"{rule.rate * 100:g}% of {r.renewed_arr:,.2f} renewed ARR, closed {r.closed_on:%Y-%m-%d} "
                      "while the account was yours",
                      basis_amount=r.renewed_arr, rate=rule.rate, source_type="renewals.renewalopportunity",
                      source_id=r.pk) for r in renewed]


def opportunities_counted(assignment, rule, upto: date) -> int:
    """Opportunities with the CSM as lead source that count toward the quota, from the plan year's start."""
    year_start, _ = plan_year_bounds(assignment.plan)
    found = ExpansionOpportunity.objects.filter(lead_source=assignment.csm)
    if rule.count_won_only:
        return found.filter(stage=ExpansionOpportunity.Stage.WON, closed_on__range=(year_start, upto)).count()
    return found.filter(created_at__date__range=(year_start, upto)).count()


def _quota_bonus(assignment, rule, start, end) -> list[LineDraft]:
    before = opportunities_counted(assignment, rule, start - timedelta(days=1))
    now = opportunities_counted(assignment, rule, end)
    if before >= rule.threshold or now < rule.threshold:
        return []  # paid once: in the month the count reaches the quota
    what = "won opportunities" if rule.count_won_only else "opportunities flagged"
    return [LineDraft(K.QUOTA_BONUS, f"{now} {what} this plan year", money(rule.amount),
                      f"Quota of {rule.threshold} {what} reached this month ({before} before it); paid once a year")]


def approved_docs(assignment, upto: date) -> int:
    year_start, _ = plan_year_bounds(assignment.plan)
    return ProcessDoc.objects.filter(author=assignment.csm, status=ProcessDoc.Status.APPROVED,
                                     approved_at__date__range=(year_start, upto)).count()


def _spiff(assignment, rule, start, end) -> list[LineDraft]:
    before = approved_docs(assignment, start - timedelta(days=1))
    now = approved_docs(assignment, end)
    earned = now // rule.threshold - before // rule.threshold
    if earned <= 0:
        return []
    return [LineDraft(K.PROCESS_DOC_SPIFF, f"{now} approved process documents this plan year",
                      money(rule.amount * earned),
                      f"{rule.amount:,.2f} for every {rule.threshold} approved: {earned} more set(s) completed this "
                      f"month ({before} before it, {now % rule.threshold} carried toward the next)",
                      basis_amount=Decimal(now), source_type="", source_id=None)]


MONTHLY = {K.BASE_SALARY: _base, K.NEW_BUSINESS: _new_business, K.RETENTION: _retention,
           K.QUOTA_BONUS: _quota_bonus, K.PROCESS_DOC_SPIFF: _spiff}


def monthly_lines(*, assignment: CompAssignment, month_start: date) -> list[LineDraft]:
    """The lines of the monthly rules of the assignment's plan for the month starting `month_start`."""
    end = month_end(month_start)
    year_start, year_end = plan_year_bounds(assignment.plan)
    if end < year_start or month_start > year_end:
        return []
    lines: list[LineDraft] = []
    for rule in assignment.plan.rules.all():
        compute = MONTHLY.get(rule.kind)
        if compute is not None and not rule.year_end:
            lines += compute(assignment, rule, month_start, end)
    return lines
