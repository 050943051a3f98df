"""The renewal probability table. A renewal's probability (0-100) is its forecast category's base, plus its
stage's adjustment, plus its account's current health band's adjustment, clamped to 0-100. Each tenant
gets these defaults (documented in docs/renewals.md) and may change them."""

from decimal import Decimal

from django.db import transaction

from csplatform.tenancy.context import current_tenant

from .models import ProbabilityRule

DEFAULT_RULES = {
    ProbabilityRule.Dimension.CATEGORY: {"commit": 90, "best_case": 65, "pipeline": 45, "at_risk": 20, "omitted": 0},
    ProbabilityRule.Dimension.STAGE: {"not_started": -10, "engaged": 0, "proposal": 5, "verbal": 10},
    ProbabilityRule.Dimension.BAND: {"green": 5, "yellow": 0, "red": -20, "none": 0},
}


@transaction.atomic
def probability_rules_ensure() -> int:
    """Adds the default rows the tenant does not have yet (never overwrites its own). Returns rows added."""
    tenant = current_tenant()
    have = set(ProbabilityRule.objects.values_list("dimension", "key"))
    missing = [ProbabilityRule(tenant=tenant, dimension=dimension, key=key, points=Decimal(points))
               for dimension, rules in DEFAULT_RULES.items() for key, points in rules.items()
               if (dimension, key) not in have]
    ProbabilityRule.objects.bulk_create(missing)
    return len(missing)


def probability_table() -> dict[str, dict[str, Decimal]]:
    table: dict[str, dict[str, Decimal]] = {dimension: {} for dimension in DEFAULT_RULES}
    for dimension, key, points in ProbabilityRule.objects.values_list("dimension", "key", "points"):
        table.setdefault(dimension, {})[key] = points
    return table


def probability(*, category: str, stage: str, band: str, table=None) -> Decimal:
    """The same rule as the forecast SQL, for one renewal (pages, tests)."""
    table = table or probability_table()
    points = (table["category"].get(category, Decimal(0)) + table["stage"].get(stage, Decimal(0))
              + table["band"].get(band or "none", Decimal(0)))
    return max(Decimal(0), min(Decimal(100), points))
