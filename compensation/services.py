"""Writes for compensation. Keyword-only, one transaction each, inside the current tenant."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from csplatform.tenancy.context import current_tenant
from renewals.periods import fiscal_quarter, month_start

from .adjustments import adjustment_lines
from .engine import plan_year_bounds
from .models import CompAssignment, CompLine, CompPlan, CompRule, CompStatement
from .yearend import month_lines

K = CompRule.Kind
# The default plan a new tenant (and seed_demo) gets: exactly these numbers (docs/compensation.md).
DEFAULT_RULES = [
    {"kind": K.BASE_SALARY},
    {"kind": K.NEW_BUSINESS, "rate": Decimal("0.025")},
    {"kind": K.RETENTION, "rate": Decimal("0.05")},
    {"kind": K.QUOTA_BONUS, "amount": Decimal("1500"), "threshold": 36},
    {"kind": K.CHURN_REDUCTION, "rate": Decimal("0.05"), "year_end": True},
    {"kind": K.PROCESS_DOC_SPIFF, "amount": Decimal("50"), "threshold": 4},
]


@transaction.atomic
def comp_plan_default_ensure(*, year: int | None = None) -> CompPlan:
    """The tenant's default plan for the fiscal year (the current one unless given), with the default rules."""
    tenant = current_tenant()
    year = year or fiscal_quarter(tenant, timezone.localdate()).year
    plan = CompPlan.objects.filter(year=year, is_default=True).first()
    if plan is None:
        plan = CompPlan.objects.create(name="CSM plan", year=year, is_default=True)
        CompRule.objects.bulk_create([CompRule(plan=plan, position=i, **rule) for i, rule in enumerate(DEFAULT_RULES)])
    return plan


@transaction.atomic
def comp_assign(*, plan: CompPlan, csm, annual_base: Decimal, starts_on: date | None = None,
                ends_on: date | None = None) -> CompAssignment:
    """Puts a CSM on a plan for the part of its year they work it (pay is prorated by day)."""
    year_start, year_end = plan_year_bounds(plan)
    errors = {}
    if not plan.base_min <= annual_base <= plan.base_max:
        errors["annual_base"] = f"The plan's base range is {plan.base_min:,.2f} to {plan.base_max:,.2f}."
    starts_on = max(starts_on or year_start, year_start)
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The assignment cannot end before it starts."
    if errors:
        raise ValidationError(errors)
    assignment, _ = CompAssignment.objects.update_or_create(
        plan=plan, csm=csm, defaults={"annual_base": annual_base, "starts_on": starts_on,
                                      "ends_on": min(ends_on, year_end) if ends_on else None})
    return assignment


@transaction.atomic
def statement_generate(*, assignment: CompAssignment, month: date) -> CompStatement | None:
    """Writes the CSM's draft statement for the month from the records as they are now (rerunning replaces the
    draft's lines): the monthly rules, the year-end items on the plan year's last month, and adjustment lines
    for approved months whose figures changed since. An approved statement is locked and left alone. None when
    the month is outside the plan."""
    start = month_start(month)
    statement = CompStatement.objects.filter(csm=assignment.csm, period_start=start).first()
    if statement is not None and statement.status == CompStatement.Status.APPROVED:
        return statement
    drafts = month_lines(assignment=assignment, month_start=start)
    if drafts:  # outside the plan year there are no lines, and nothing to adjust either
        drafts += adjustment_lines(assignment=assignment, month_start=start,
                                   exclude_statement_id=statement.pk if statement else None)
    if not drafts and statement is None:
        return None
    if statement is None:
        statement = CompStatement(plan=assignment.plan, csm=assignment.csm, period_start=start)
    statement.generated_at = timezone.now()
    statement.total = sum((d.amount for d in drafts), Decimal("0"))
    statement.save()
    CompLine.objects.filter(statement=statement).delete()
    CompLine.objects.bulk_create([
        CompLine(statement=statement, position=i, rule_kind=d.rule_kind, basis=d.basis[:200],
                 basis_amount=d.basis_amount, rate=d.rate, amount=d.amount, explanation=d.explanation[:300],
                 source_type=d.source_type, source_id=d.source_id, adjusts_period=d.adjusts_period)
        for i, d in enumerate(drafts)])
    return statement


def statement_approve(*, statement: CompStatement, by) -> bool:
    """Compare-and-set: a draft is approved once, and then locked."""
    return CompStatement.objects.filter(pk=statement.pk, status=CompStatement.Status.DRAFT).update(
        status=CompStatement.Status.APPROVED, approved_by=by, approved_at=timezone.now()) == 1


def statements_generate_for_month(*, month: date) -> int:
    """Draft statements for every CSM on a plan covering the month (the nightly job)."""
    count = 0
    for assignment in CompAssignment.objects.select_related("plan", "csm"):
        if statement_generate(assignment=assignment, month=month) is not None:
            count += 1
    return count
