"""President's Club (rule 8): each criterion met and not met, progress during the plan year, and a yes/no only
once the plan year has ended; a fixed number of queries; shown on My compensation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from compensation import services
from compensation.models import CompPlan
from compensation.presidents_club import presidents_club
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals import services as renewals
from renewals.models import ChurnReason, RenewalOpportunity
from renewals.periods import fiscal_quarter
from success_plans import services as success_plans
from tests.factories import AccountFactory, ContactFactory, MembershipFactory

TODAY = timezone.localdate()


@pytest.fixture
def assignment(tenant_a, plan, csm):
    with tenant_context(tenant_a):
        return services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("48000"))


def client_with_roi(tenant, csm, on, arr="20000", value="20000", validated=True, name="Acme"):
    """An account of the CSM paying `arr`, with `value` realised on `on` (validated by a customer contact)."""
    account = AccountFactory(tenant=tenant, csm=csm, name=name)
    set_arr(tenant, account, arr)
    with tenant_context(tenant):
        contact = ContactFactory(tenant=tenant, account=account)
        success_plans.value_record(account=account, by=csm, kind="cost_avoidance", amount=Decimal(value),
                                   realised_on=on, how_measured="Invoices",
                                   validated_by=contact if validated else None)
    return account


def set_arr(tenant, account, arr):
    with tenant_context(tenant):
        Account.objects.filter(pk=account.pk).update(arr=Decimal(arr))


def won(tenant, account, csm, amount, on):
    with tenant_context(tenant):
        found = renewals.expansion_flag(account=account, by=csm, product="Add-on", amount=Decimal(amount),
                                        expected_close=on)
        return renewals.expansion_move(expansion=found, stage="won", closed_on=on)


def churn(tenant, account, credited, on):
    with tenant_context(tenant):
        contract = renewals.contract_save(account=account, start_date=on - timedelta(days=365), end_date=on,
                                          lines=[{"product": "Platform", "arr": "5000"}])
        RenewalOpportunity.objects.create(
            account=account, contract=contract, current_arr=Decimal("5000"), expected_arr=Decimal("5000"),
            close_date=on, stage=RenewalOpportunity.Stage.CLOSED, outcome=RenewalOpportunity.Outcome.CHURNED,
            renewed_arr=Decimal("0"), reason=ChurnReason.objects.first(), closed_on=on, credited_csm=credited)


def status(tenant, assignment, upto):
    with tenant_context(tenant):
        club = presidents_club(assignment, upto)
    return club, {c.name: c for c in club.criteria}


def test_it_qualifies_a_csm_meeting_all_three_only_once_the_year_has_ended(tenant_a, assignment, csm, year):
    mid = year[0] + timedelta(days=60)
    account = client_with_roi(tenant_a, csm, mid)
    won(tenant_a, account, csm, "125000", mid)
    set_arr(tenant_a, account, "20000")  # the won expansion raised it
    club, criteria = status(tenant_a, assignment, mid)
    assert all(c.met for c in criteria.values())
    assert club.qualified is None and not club.year_end  # progress only during the year
    club, criteria = status(tenant_a, assignment, year[1])
    assert club.year_end and club.qualified is True
    assert criteria["business"].actual == Decimal("125000.00") and criteria["business"].target == Decimal("125000")
    assert criteria["retention"].actual == Decimal("100.00") and criteria["roi"].actual == Decimal("100.00")


def test_it_needs_125000_of_closed_won_business_found_by_the_csm(tenant_a, assignment, csm, year):
    account = client_with_roi(tenant_a, csm, year[0])
    won(tenant_a, account, csm, "124999.99", year[0] + timedelta(days=5))
    set_arr(tenant_a, account, "20000")
    club, criteria = status(tenant_a, assignment, year[1])
    assert not criteria["business"].met and criteria["business"].actual == Decimal("124999.99")
    assert "124,999.99 of 125,000.00" in criteria["business"].detail
    assert club.qualified is False


def test_it_fails_retention_on_a_churn_credited_to_the_csm_only(tenant_a, assignment, csm, year):
    kept = client_with_roi(tenant_a, csm, year[0])
    lost = AccountFactory(tenant=tenant_a, csm=csm, name="Gone", status="churned")
    other = MembershipFactory(tenant=tenant_a, role=Role.CSM).user
    churn(tenant_a, kept, other, year[0] + timedelta(days=10))  # credited to someone else: not this CSM's churn
    _, criteria = status(tenant_a, assignment, year[1])
    assert criteria["retention"].met
    churn(tenant_a, lost, csm, year[0] + timedelta(days=20))
    _, criteria = status(tenant_a, assignment, year[1])
    assert not criteria["retention"].met and criteria["retention"].actual == Decimal("50.00")
    assert "1 of 2 clients retained, 1 churned" in criteria["retention"].detail
    churn_last_year = AccountFactory(tenant=tenant_a, csm=csm, name="Old")
    churn(tenant_a, churn_last_year, csm, year[0] - timedelta(days=1))  # last plan year: does not count
    _, criteria = status(tenant_a, assignment, year[1])
    assert criteria["retention"].actual == Decimal("66.67")


def test_it_needs_validated_value_of_at_least_the_arr_on_every_paying_client(tenant_a, assignment, csm, year):
    client_with_roi(tenant_a, csm, year[0] + timedelta(days=3), arr="20000", value="20000", name="Acme")
    AccountFactory(tenant=tenant_a, csm=csm, name="Free")  # ARR 0: not paying, left out
    _, criteria = status(tenant_a, assignment, year[1])
    assert criteria["roi"].met and "1 of 1 paying client" in criteria["roi"].detail
    short = client_with_roi(tenant_a, csm, year[0] + timedelta(days=3), arr="10000", value="9999.99", name="Initech")
    client_with_roi(tenant_a, csm, year[0] + timedelta(days=3), arr="10000", value="50000", validated=False,
                    name="Hooli")  # not validated by the customer
    client_with_roi(tenant_a, csm, year[0] - timedelta(days=3), arr="10000", value="50000",
                    name="Globex")  # last plan year
    _, criteria = status(tenant_a, assignment, year[1])
    assert not criteria["roi"].met and criteria["roi"].actual == Decimal("25.00")
    with tenant_context(tenant_a):
        contact = ContactFactory(tenant=tenant_a, account=short)
        success_plans.value_record(account=short, by=csm, kind="other", amount=Decimal("0.01"),
                                   realised_on=year[0] + timedelta(days=9), how_measured="x", validated_by=contact)
    _, criteria = status(tenant_a, assignment, year[1])
    assert criteria["roi"].actual == Decimal("50.00")  # Initech now at 100%


def test_it_meets_no_client_criterion_without_clients(tenant_a, assignment, year):
    club, criteria = status(tenant_a, assignment, year[1])
    assert not criteria["retention"].met and not criteria["roi"].met and club.qualified is False


def test_it_uses_a_fixed_number_of_queries(tenant_a, assignment, csm, year):
    def count():
        with tenant_context(tenant_a), CaptureQueriesContext(connection) as queries:
            presidents_club(assignment, year[1])
        return len(queries)
    client_with_roi(tenant_a, csm, year[0], name="A0")
    one = count()
    for i in range(1, 6):
        client_with_roi(tenant_a, csm, year[0], name=f"A{i}")
    assert count() == one


def test_it_shows_progress_on_my_compensation(client, tenant_a, csm):
    with tenant_context(tenant_a):
        plan = CompPlan.objects.get(is_default=True, year=fiscal_quarter(tenant_a, TODAY).year)
        services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("48000"))
    client.force_login(csm)
    page = client.get(f"/t/{tenant_a.slug}/compensation/").content.decode()
    assert 'id="presidents-club"' in page and 'id="club-business"' in page
    assert "0.00 of 125,000.00" in page and "not yet" in page
    assert 'id="club-result"' not in page  # no yes/no before the plan year ends
