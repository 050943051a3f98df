"""Ops' plan writes: a plan's name and base range, a rule's parameters, and next year's default plan copied from
this year's. Keyword-only, one transaction each, inside the current tenant. Statements are never touched here:
drafts pick the new parameters up on their next run, approved statements stay locked."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from csplatform.tenancy.context import current_tenant
from renewals.periods import fiscal_quarter

from .models import CompAssignment, CompPlan, CompRule, CompStatement

K = CompRule.Kind
ZERO = Decimal("0")
# The parameters each kind of rule uses (the engine reads no others); churn reduction is always year-end.
RULE_FIELDS: dict[str, tuple[str, ...]] = {
    K.BASE_SALARY: (),
    K.NEW_BUSINESS: ("rate", "year_end"),
    K.RETENTION: ("rate", "year_end"),
    K.QUOTA_BONUS: ("amount", "threshold", "count_won_only", "year_end"),
    K.CHURN_REDUCTION: ("rate",),
    K.PROCESS_DOC_SPIFF: ("amount", "threshold", "year_end"),
}
COPIED = ("kind", "rate", "amount", "threshold", "count_won_only", "year_end", "position")


@transaction.atomic
def comp_plan_update(*, plan: CompPlan, name: str, base_min: Decimal, base_max: Decimal) -> CompPlan:
    """Renames the plan and sets its base range; refused (field errors, nothing written) when the range is
    reversed, the name is taken in the plan's year, or an assignment's annual base would fall outside it."""
    plan = CompPlan.objects.select_for_update().get(pk=plan.pk)
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "A plan needs a name."
    elif CompPlan.objects.filter(year=plan.year, name=name).exclude(pk=plan.pk).exists():
        errors["name"] = f"FY{plan.year} already has a plan named {name}."
    if base_min < ZERO:
        errors["base_min"] = "The base cannot be negative."
    if base_max < base_min:
        errors["base_max"] = "The maximum base cannot be below the minimum."
    if not errors:
        bases = CompAssignment.objects.filter(plan=plan).aggregate(low=Min("annual_base"), high=Max("annual_base"))
        if bases["low"] is not None and bases["low"] < base_min:
            errors["base_min"] = (f"An assignment on this plan has an annual base of {bases['low']:,.2f}; change it "
                                  "first or keep the minimum at or below it.")
        if bases["high"] is not None and bases["high"] > base_max:
            errors["base_max"] = (f"An assignment on this plan has an annual base of {bases['high']:,.2f}; change "
                                  "it first or keep the maximum at or above it.")
    if errors:
        raise ValidationError(errors)
    plan.name, plan.base_min, plan.base_max = name, base_min, base_max
    plan.save(update_fields=["name", "base_min", "base_max"])
    return plan


@transaction.atomic
def comp_rule_update(*, rule: CompRule, rate: Decimal | None = None, amount: Decimal | None = None,
                     threshold: int | None = None, count_won_only: bool | None = None,
                     year_end: bool | None = None) -> CompRule:
    """Sets the parameters given (None: unchanged). Rates are shares (0.025 for 2.5%) between 0 and 1, amounts
    are not negative, a threshold is at least 1; a parameter the rule's kind does not use is refused."""
    rule = CompRule.objects.select_for_update().get(pk=rule.pk)
    # Adjustments re-price approved months with the plan's current rules, so a mid-year change would pay (or claw
    # back) months already approved. Rules change from next year's plan instead.
    if CompStatement.objects.filter(plan=rule.plan, status=CompStatement.Status.APPROVED).exists():
        raise ValidationError({"rate": "This plan already has approved statements: changing a rule now would re-price "
                                       "approved months. Change it in next year's plan."})
    given = {"rate": rate, "amount": amount, "threshold": threshold, "count_won_only": count_won_only,
             "year_end": year_end}
    used = RULE_FIELDS.get(rule.kind, ())
    errors: dict[str, str] = {}
    for field, value in given.items():
        if value is not None and field not in used:
            errors[field] = f"The {rule.get_kind_display().lower()} rule has no {field.replace('_', ' ')}."
    if rate is not None and not ZERO <= rate <= 1:
        errors["rate"] = "A rate is a share between 0 and 1 (0.025 for 2.5%)."
    if amount is not None and amount < ZERO:
        errors["amount"] = "The amount cannot be negative."
    if threshold is not None and threshold < 1:
        errors["threshold"] = "The threshold is at least 1."
    if errors:
        raise ValidationError(errors)
    changed = [field for field, value in given.items() if value is not None]
    for field in changed:
        setattr(rule, field, given[field])
    if changed:
        rule.save(update_fields=changed)
    return rule


@transaction.atomic
def comp_plan_next_year_create(*, year: int | None = None) -> CompPlan:
    """Copies the default plan of `year` (the current fiscal year unless given), base range and rules, to year + 1
    as that year's default. Refused when there is no default to copy or year + 1 already has one."""
    year = year or fiscal_quarter(current_tenant(), timezone.localdate()).year
    source = CompPlan.objects.filter(year=year, is_default=True).prefetch_related("rules").first()
    if source is None:
        raise ValidationError(f"FY{year} has no default plan to copy.")
    if CompPlan.objects.filter(year=year + 1, is_default=True).exists():
        raise ValidationError(f"FY{year + 1} already has a default plan.")
    if CompPlan.objects.filter(year=year + 1, name=source.name).exists():
        raise ValidationError(f"FY{year + 1} already has a plan named {source.name}.")
    try:
        with transaction.atomic():
            plan = CompPlan.objects.create(name=source.name, year=year + 1, is_default=True,
                                           base_min=source.base_min, base_max=source.base_max)
    except IntegrityError as error:  # another request created it meanwhile
        raise ValidationError(f"FY{year + 1} already has a default plan.") from error
    CompRule.objects.bulk_create([CompRule(plan=plan, **{f: getattr(r, f) for f in COPIED})
                                  for r in source.rules.all()])
    return plan
