import pytest

from csplatform.notifications.models import Notification
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from tests.factories import AccountFactory, MembershipFactory


@pytest.fixture
def account(tenant_a, csm):
    return AccountFactory(tenant=tenant_a, csm=csm, name="Initech")


@pytest.fixture
def admin(tenant_a):
    return MembershipFactory(
        tenant=tenant_a, role=Role.ADMIN, user__email="admin@alpha.test", user__full_name="Ada Admin"
    ).user


def notifications(tenant, **filters) -> list[Notification]:
    """The tenant's notifications, oldest first."""
    with tenant_context(tenant):
        return list(Notification.objects.filter(**filters).order_by("created_at", "id"))


def of(tenant, user, kind=None) -> list[Notification]:
    return notifications(tenant, recipient=user, **({"kind": kind} if kind else {}))
