"""The year-end items of the plan year's last statement: the churn-reduction bonus (rule 5), any other rule
marked year-end (paid on its whole-year figure), and the qualification gates (rule 7) that can withhold them.

"Client" means an account assigned to the CSM now (`Account.csm`): the gates look at the book the CSM holds at
year end. Churned ARR is credited like retention: to the CSM recorded on the renewal when it closed."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Sum

from accounts.models import Account
from csplatform.tenancy.context import current_tenant
from renewals.models import RenewalOpportunity
from renewals.periods import month_end, month_start, quarter_bounds
from success_plans.models import Advocacy, Goal

from .engine import MONTHLY, LineDraft, money, monthly_lines, plan_year_bounds
from .models import CompAssignment, CompRule

K = CompRule.Kind
ZERO = Decimal("0.00")
NAMES_SHOWN = 5


@dataclass
class Gate:
    name: str
    passed: bool
    detail: str
    failing_account_ids: list[int] = field(default_factory=list)


def is_last_month(plan, month: date) -> bool:
    _, year_end = plan_year_bounds(plan)
    return month_start(month) == month_start(year_end)


def churned_arr(csm, start: date, end: date):
    """Current ARR of the renewals closed as churned between the dates, credited to the CSM at close."""
    total = (RenewalOpportunity.objects
             .filter(credited_csm=csm, outcome=RenewalOpportunity.Outcome.CHURNED, closed_on__range=(start, end))
             .aggregate(total=Sum("current_arr"))["total"])
    return money(total or ZERO)


def _names(accounts: list[str]) -> str:
    shown = ", ".join(accounts[:NAMES_SHOWN])
    more = len(accounts) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def gates_status(assignment: CompAssignment, upto: date) -> list[Gate]:
    """The year-end qualification gates as they stand on `upto` (case studies count from the plan year's start)."""
    csm, (year_start, _) = assignment.csm, plan_year_bounds(assignment.plan)
    case_studies = Advocacy.objects.filter(
        account__csm=csm, kind=Advocacy.Kind.CASE_STUDY, status=Advocacy.Status.COMPLETED,
        happened_on__range=(year_start, upto)).count()
    gates = [Gate("case_study", case_studies > 0,
                  f"{case_studies} completed case stud{'y' if case_studies == 1 else 'ies'} from your clients this "
                  "plan year" if case_studies else "No completed case study from your clients this plan year")]
    # Any time: a goal the customer approved before this plan year still documents the client's goals.
    missing = list(Account.objects
                   .filter(csm=csm, status=Account.Status.ACTIVE)
                   .exclude(Exists(Goal.objects.filter(account=OuterRef("pk"), approved_by__isnull=False)))
                   .order_by("name", "pk").values_list("pk", "name"))
    gates.append(Gate(
        "approved_goals", not missing,
        f"Clients without a customer-approved goal: {_names([n for _, n in missing])}" if missing
        else "Every client has a customer-approved goal",
        [pk for pk, _ in missing]))
    return gates


def _churn_reduction(assignment, rule, year_start, year_end) -> list[LineDraft]:
    tenant = current_tenant()
    year = assignment.plan.year
    before_start, before_end = quarter_bounds(tenant, year - 1, 1).start, quarter_bounds(tenant, year - 1, 4).end
    before = churned_arr(assignment.csm, before_start, before_end)
    now = churned_arr(assignment.csm, year_start, year_end)
    reduced = before - now
    if reduced <= 0:
        return []  # no reduction: no line, never a negative one
    return [LineDraft(K.CHURN_REDUCTION, f"Churned ARR on your accounts: {before:,.2f} in FY{year - 1}, "
                                         f"{now:,.2f} in FY{year}",
                      money(reduced * rule.rate),
                      f"{rule.rate * 100:g}% of {reduced:,.2f} less churn than last plan year "
                      f"({before:,.2f} - {now:,.2f})",
                      basis_amount=reduced, rate=rule.rate)]


def _whole_year(assignment, rule, year_start, year_end) -> list[LineDraft]:
    return MONTHLY[rule.kind](assignment, rule, year_start, year_end)


def _withheld(line: LineDraft, failed: list[Gate]) -> LineDraft:
    why = "; ".join(g.detail for g in failed)
    label = CompRule.Kind(line.rule_kind).label
    return LineDraft(line.rule_kind, f"{label} of {line.amount:,.2f} withheld", ZERO,
                     f"Withheld, qualification gate failed: {why}"[:300], basis_amount=line.basis_amount,
                     rate=line.rate, source_type=line.source_type, source_id=line.source_id)


def year_end_lines(*, assignment: CompAssignment, month_start: date) -> list[LineDraft]:
    """The year-end lines, on the plan year's last month only; withheld (a zero line saying why) when a gate fails.
    A CSM whose assignment ended before the last month gets none."""
    plan = assignment.plan
    if not is_last_month(plan, month_start):
        return []
    if assignment.ends_on is not None and assignment.ends_on < month_start:
        return []
    year_start, year_end = plan_year_bounds(plan)
    earned: list[LineDraft] = []
    for rule in plan.rules.all():
        if rule.kind == K.CHURN_REDUCTION:
            earned += _churn_reduction(assignment, rule, year_start, year_end)
        elif rule.year_end and rule.kind in MONTHLY and rule.kind != K.BASE_SALARY:
            earned += _whole_year(assignment, rule, year_start, year_end)
    earned = [line for line in earned if line.amount > 0]
    if not earned:
        return []
    failed = [g for g in gates_status(assignment, month_end(month_start)) if not g.passed]
    return [_withheld(line, failed) for line in earned] if failed else earned


def month_lines(*, assignment: CompAssignment, month_start: date) -> list[LineDraft]:
    """Everything the month's statement earns from the records as they are now: the monthly rules, then the
    year-end items when it is the plan year's last month (adjustments for approved months are separate)."""
    return (monthly_lines(assignment=assignment, month_start=month_start)
            + year_end_lines(assignment=assignment, month_start=month_start))
