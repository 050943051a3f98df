"""Fixtures of the monthly report tests (loaded with `pytest_plugins`): one drafted report on the CSM's account,
with stakeholders, a goal, a decision and an NPS answer in the month reported on."""

import pytest

from csplatform.tenancy.models import Role
from tests.factories import ContactFactory, MembershipFactory

from .reports_support import account_for, add_story, draft_all, report_for


@pytest.fixture
def executive(tenant_a):
    return MembershipFactory(tenant=tenant_a, role=Role.EXECUTIVE, user__email="exec@alpha.test").user


@pytest.fixture
def account(tenant_a, csm):
    return account_for(tenant_a, csm, name="Initech", licensed_seats=20)


@pytest.fixture
def contacts(tenant_a, account):
    return {
        "sponsor": ContactFactory(tenant=tenant_a, account=account, name="Sara Sponsor", persona="executive_sponsor",
                                  email="sara@initech.test"),
        "champion": ContactFactory(tenant=tenant_a, account=account, name="Carl Champion", persona="champion",
                                   email="carl@initech.test"),
        "user": ContactFactory(tenant=tenant_a, account=account, name="Una User", persona="end_user",
                               email="una@initech.test"),
        "no_email": ContactFactory(tenant=tenant_a, account=account, name="Nemo", persona="champion", email=""),
    }


@pytest.fixture
def report(tenant_a, account, contacts):
    add_story(tenant_a, account)
    draft_all(tenant_a)
    return report_for(tenant_a, account)
