import pytest

from csplatform.tenancy.models import Role
from tests.factories import AccountFactory, MembershipFactory


@pytest.fixture
def other_csm(tenant_a):
    """A CSM of tenant A in nobody's team."""
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="other@alpha.test",
                             user__full_name="Olga Other").user


@pytest.fixture
def executive(tenant_a):
    return MembershipFactory(tenant=tenant_a, role=Role.EXECUTIVE, user__email="exec@alpha.test").user


@pytest.fixture
def account(tenant_a, csm):
    return AccountFactory(tenant=tenant_a, csm=csm, name="Initech")


@pytest.fixture
def others_account(tenant_a, other_csm):
    return AccountFactory(tenant=tenant_a, csm=other_csm, name="Umbrella")


@pytest.fixture
def foreign_account(tenant_b):
    return AccountFactory(tenant=tenant_b, name="Bravo Secret Customer")
