import pytest
from django.utils import timezone

from compensation.engine import plan_year_bounds
from compensation.models import CompPlan
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals.periods import fiscal_quarter
from tests.factories import MembershipFactory


@pytest.fixture
def other_csm(tenant_a, manager):
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=manager, user__email="other@alpha.test",
                             user__full_name="Olive Other").user


@pytest.fixture
def plan(tenant_a):
    """The tenant's default plan for the current fiscal year (created with the tenant)."""
    with tenant_context(tenant_a):
        return CompPlan.objects.get(is_default=True, year=fiscal_quarter(tenant_a, timezone.localdate()).year)


@pytest.fixture
def year(tenant_a, plan):
    """(first day, last day) of the plan year."""
    with tenant_context(tenant_a):
        return plan_year_bounds(plan)
