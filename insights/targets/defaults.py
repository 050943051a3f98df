"""The targets every new tenant starts with; ops change amounts and periods, or switch a target off."""

from decimal import Decimal

from ..models import Target

M = Target.Metric
P = Target.Period

DEFAULT_TARGETS = [
    (M.APPROVED_GOALS, Decimal("2"), P.YEAR),
    (M.EXPANSIONS_FLAGGED, Decimal("36"), P.YEAR),
    (M.REFERRALS, Decimal("5"), P.YEAR),
    (M.FEEDBACK_SOLICITED, Decimal("1"), P.QUARTER),
    (M.CASE_STUDIES, Decimal("1"), P.YEAR),
    (M.REPORTS_DELIVERED, Decimal("1"), P.MONTH),
    (M.ACTIVITY_DAYS, Decimal("1"), P.MONTH),
    (M.GREEN_ACCOUNTS, Decimal("80"), P.MONTH),
    (M.GREEN_ARR, Decimal("80"), P.MONTH),
    (M.RED_ARR, Decimal("10"), P.MONTH),
    (M.NPS, Decimal("60"), P.YEAR),
]


def targets_default_ensure() -> int:
    """Creates the default targets the current tenant lacks (idempotent); returns how many were created."""
    existing = set(Target.objects.values_list("metric", flat=True))
    missing = [Target(metric=metric, amount=amount, period=period, position=position)
               for position, (metric, amount, period) in enumerate(DEFAULT_TARGETS) if metric not in existing]
    Target.objects.bulk_create(missing)
    return len(missing)
