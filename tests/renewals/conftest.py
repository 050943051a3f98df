from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals.services import contract_save
from tests.factories import AccountFactory, MembershipFactory

TODAY = timezone.localdate()


@pytest.fixture
def other_csm(tenant_a):
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="other@alpha.test").user


@pytest.fixture
def account(tenant_a, csm):
    return AccountFactory(tenant=tenant_a, csm=csm, name="Initech")


@pytest.fixture
def foreign_account(tenant_b):
    return AccountFactory(tenant=tenant_b, name="Bravo Secret Customer")


def contract(account, *, start: date, end: date | None = None, arr="12000", **fields):
    """A one-line contract saved through the service (so ARR and Account.arr follow)."""
    end = end or start + timedelta(days=364)
    with tenant_context(account.tenant):
        return contract_save(account=account, start_date=start, end_date=end,
                             lines=[{"product": "Platform", "quantity": 1, "unit_price": Decimal(arr)}], **fields)
