"""Every tenant starts with one coverage rule for all accounts; ops add rules per segment."""

from ..models import CoverageRule

DEFAULT_ACCOUNTS_PER_CSM = 50


def coverage_default_ensure() -> bool:
    """Creates the current tenant's catch-all rule if it has none (idempotent); True when it was created."""
    if CoverageRule.objects.filter(segment__isnull=True).exists():
        return False
    CoverageRule.objects.create(segment=None, accounts_per_csm=DEFAULT_ACCOUNTS_PER_CSM)
    return True
