"""Demo data for insights, called by `manage.py seed_demo` inside the tenant's context after compensation."""

from .coverage.demo import seed as seed_coverage
from .reports.demo import seed as seed_reports


def seed(*, tenant, people) -> dict:
    return {**seed_coverage(tenant=tenant, people=people), **seed_reports(tenant=tenant, people=people)}
