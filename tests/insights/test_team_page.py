"""The Team page: a manager's team (targets, this cycle's report delivery, coverage) on one page; executives and
ops see every CSM; CSMs are refused; another tenant's members get 404; the query count does not grow."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from insights.models import MonthlyReport
from insights.reports.selectors import report_cycle_month
from tests.factories import MembershipFactory

from .coverage_helpers import accounts

PAGE = "/t/alpha/team/"


def report(tenant, account, csm, *, delivered=False):
    month = report_cycle_month(timezone.localdate())
    with tenant_context(tenant):
        return MonthlyReport.objects.create(
            account=account, csm=csm, month=month, drafted_at=timezone.now(),
            status="delivered" if delivered else "draft", delivered_at=timezone.now() if delivered else None)


def test_it_shows_a_manager_their_teams_targets_reports_and_coverage(client, tenant_a, manager, csm, other_csm):
    stranger = MembershipFactory(tenant=tenant_a, role=Role.CSM, user__full_name="Sam Stranger").user
    chris = accounts(tenant_a, 3, csm=csm, prefix="Chris")
    accounts(tenant_a, 2, csm=stranger, prefix="Sam")
    report(tenant_a, chris[0], csm, delivered=True)
    report(tenant_a, chris[1], csm)
    client.force_login(manager)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Chris Carter" in page and "Olive Other" in page
    assert "Sam Stranger" not in page  # not in Maya's team
    delivery = {row["person"].pk: row for row in response.context["delivery_rows"]}
    assert (delivery[csm.pk]["reports"], delivery[csm.pk]["delivered"]) == (2, 1)
    assert delivery[other_csm.pk]["reports"] == 0
    coverage = {row["user_id"]: row["accounts"] for row in response.context["coverage"]["rows"]}
    assert coverage.get(csm.pk) == 3 and stranger.pk not in coverage
    assert {row["user_id"] for row in response.context["targets"]["people"]} == {manager.pk, csm.pk, other_csm.pk}


def test_it_shows_executives_and_ops_every_csm_and_refuses_csms(client, tenant_a, manager, csm, owner):
    executive = MembershipFactory(tenant=tenant_a, role=Role.EXECUTIVE).user
    stranger = MembershipFactory(tenant=tenant_a, role=Role.CSM, user__full_name="Sam Stranger").user
    for user in (executive, owner):
        client.force_login(user)
        assert "Sam Stranger" in client.get(PAGE).content.decode()
    client.force_login(stranger)
    assert client.get(PAGE).status_code == 403


def test_it_answers_404_to_another_tenants_member(client, tenant_a, manager, outsider):
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 404


def test_it_reads_with_a_fixed_number_of_queries_whatever_the_team_and_book_size(client, tenant_a, manager, csm):
    client.force_login(manager)
    accounts(tenant_a, 20, csm=csm)
    client.get(PAGE)  # warm the caches a first request fills
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE).status_code == 200
    MembershipFactory.create_batch(4, tenant=tenant_a, role=Role.CSM, manager=manager)
    more = accounts(tenant_a, 180, csm=csm)
    for account in more[:30]:
        report(tenant_a, account, csm, delivered=account.pk % 2 == 0)
    with CaptureQueriesContext(connection) as many:
        assert client.get(PAGE).status_code == 200
    assert len(few) == len(many), [q["sql"] for q in many.captured_queries]

