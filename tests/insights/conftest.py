import pytest

from csplatform.tenancy.models import Role
from tests.factories import MembershipFactory


@pytest.fixture
def other_csm(tenant_a, manager):
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=manager, user__email="other@alpha.test",
                             user__full_name="Olive Other").user

