"""Ops change the amount, the period and the on/off switch of the tenant's targets. Nothing else is editable: what a
metric counts is code (catalogue.py)."""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from ..models import Target
from .catalogue import spec_for

EDITABLE = ("amount", "period", "is_active")
MAX_AMOUNT = Decimal("99999999.99")  # the column holds 10 digits, 2 after the point


class TargetsInvalid(Exception):
    """Refused changes: {target id: {field: [reasons]}}; nothing was written."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        super().__init__("Some targets were refused.")
        self.errors = errors


def target_errors(*, target: Target, amount=None, period=None, is_active=None) -> dict[str, list[str]]:
    """Field-level reasons why these values do not fit this target's metric (empty: they fit). None = unchanged."""
    errors: dict[str, list[str]] = {}
    spec = spec_for(target.metric)
    if amount is not None:
        try:
            value = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            errors["amount"] = ["Enter a number."]
        else:
            if not value.is_finite():
                errors["amount"] = ["Enter a number."]
            elif value < 0:
                errors["amount"] = ["The amount cannot be negative."]
            elif spec.max_amount is not None and value > spec.max_amount:
                errors["amount"] = [f"At most {spec.max_amount} ({spec.unit})."]
            elif value > MAX_AMOUNT:
                errors["amount"] = [f"At most {MAX_AMOUNT}."]
            elif value.as_tuple().exponent < -2:
                errors["amount"] = ["At most two decimal places."]
    if period is not None and period not in Target.Period.values:
        errors["period"] = [f"Choose one of: {', '.join(Target.Period.values)}."]
    if is_active is not None and not isinstance(is_active, bool):
        errors["is_active"] = ["Must be true or false."]
    return errors


def targets_update(*, tenant, changes: dict[int, dict]) -> list[Target]:
    """Applies {target id: {"amount"?, "period"?, "is_active"?}} to the current tenant's targets in one
    transaction: all of them or none (TargetsInvalid with every field's reasons). Returns the changed targets."""
    targets = Target.objects.in_bulk(list(changes))
    errors: dict[int, dict[str, list[str]]] = {}
    for target_id, values in changes.items():
        target = targets.get(target_id)
        if target is None or target.tenant_id != tenant.pk:
            errors[target_id] = {"target": ["No such target."]}
            continue
        unknown = set(values) - set(EDITABLE)
        found = target_errors(target=target, **{k: v for k, v in values.items() if k in EDITABLE})
        if unknown:
            found["target"] = [f"Not editable: {', '.join(sorted(unknown))}."]
        if found:
            errors[target_id] = found
    if errors:
        raise TargetsInvalid(errors)
    changed = []
    with transaction.atomic():
        for target_id, values in changes.items():
            target = targets[target_id]
            fields = {k: (Decimal(str(v)) if k == "amount" else v) for k, v in values.items()
                      if getattr(target, k) != (Decimal(str(v)) if k == "amount" else v)}
            if fields:
                Target.objects.filter(pk=target_id).update(**fields)
                for key, value in fields.items():
                    setattr(target, key, value)
                changed.append(target)
    return changed
