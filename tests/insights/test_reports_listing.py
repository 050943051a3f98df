"""Where monthly reports are listed: the cycle's list page, the Account 360 panel, My work, and the Team page's
per-CSM delivery counts."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from insights.models import MonthlyReport
from insights.reports.selectors import delivery_by_csm, report_cycle_month
from insights.reports.services import report_deliver, report_follow_up_schedule
from success_plans.models import Task

from .reports_support import MONTH, TODAY, account_for, draft_all, report_for

pytest_plugins = ["tests.insights.reports_fixtures"]  # its fixtures: account, contacts, report, executive

pytestmark = pytest.mark.postgres


def deliver(tenant, report, by, contact, follow_up_in=None):
    with tenant_context(tenant):
        MonthlyReport.objects.filter(pk=report.pk).update(recommendation="Go on.")
        report_deliver(report=report, by=by, contacts=[contact])
        if follow_up_in is not None:
            report_follow_up_schedule(report=report, by=by, due_date=TODAY + timedelta(days=follow_up_in))


def test_the_cycle_is_the_month_before():
    assert report_cycle_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert report_cycle_month(date(2026, 3, 31)) == date(2026, 2, 1)


def test_a_csm_lists_their_reports_of_the_cycle(client, csm, other_csm, tenant_a, report, contacts):
    other = account_for(tenant_a, other_csm, name="Globex")
    draft_all(tenant_a)
    deliver(tenant_a, report, csm, contacts["sponsor"], follow_up_in=4)
    client.force_login(csm)
    response = client.get("/t/alpha/reports/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Monthly reports for {MONTH:%B %Y}" in html
    assert "Initech" in html and "Globex" not in html
    assert f"{(TODAY + timedelta(days=4)):%Y-%m-%d}" in html  # follow-up due
    assert "<strong>0</strong> to deliver, <strong>1</strong> delivered" in html
    # Someone else's reports are for leads only.
    assert client.get(f"/t/alpha/reports/?user={other_csm.pk}").status_code == 403
    assert client.get("/t/alpha/reports/?month=2020-01").status_code == 200
    bad = client.get("/t/alpha/reports/?month=January")
    assert bad.status_code == 400 and "YYYY-MM" in bad.content.decode()
    assert other  # drafted for the other CSM, not listed for this one


def test_a_manager_picks_a_csm_or_the_team(client, manager, csm, other_csm, tenant_a, report):
    account_for(tenant_a, other_csm, name="Globex")
    draft_all(tenant_a)
    client.force_login(manager)
    team = client.get("/t/alpha/reports/?user=team").content.decode()
    assert "Initech" in team and "Globex" in team and "Chris Carter" in team
    one = client.get(f"/t/alpha/reports/?user={other_csm.pk}").content.decode()
    assert "Globex" in one and "Initech" not in one


def test_ops_and_executives_start_on_the_whole_team(client, owner, executive, tenant_a, report):
    for user in (owner, executive):
        client.force_login(user)
        assert "Initech" in client.get("/t/alpha/reports/").content.decode()


def test_the_account_page_lists_the_draft_and_the_delivered_reports(client, csm, tenant_a, report, contacts, account):
    client.force_login(csm)
    html = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert 'id="report-draft"' in html and f"/t/alpha/reports/{report.pk}/" in html
    deliver(tenant_a, report, csm, contacts["sponsor"])
    html = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert 'id="report-draft"' not in html
    panel = html.split('id="reports-delivered"')[1].split("</table>")[0]
    assert f"{MONTH:%B %Y}" in panel and timezone.localdate().isoformat() in panel and "Chris Carter" in panel
    assert '<td class="num">1</td>' in panel  # recipients


def test_my_work_shows_what_is_left_to_deliver(client, csm, tenant_a, report, contacts):
    account_for(tenant_a, csm, name="Second")
    draft_all(tenant_a)
    client.force_login(csm)
    html = client.get("/t/alpha/plans/my-work/").content.decode()
    section = html.split('id="mywork-reports"')[1].split("</section>")[0]
    assert f"Monthly reports for {MONTH:%B}" in section
    assert "<strong>2</strong> to deliver, <strong>0</strong> delivered" in section
    deliver(tenant_a, report, csm, contacts["sponsor"])
    html = client.get("/t/alpha/plans/my-work/").content.decode()
    assert "<strong>1</strong> to deliver, <strong>1</strong> delivered" in html


def test_my_work_leaves_the_section_out_without_reports(client, other_csm, report):
    client.force_login(other_csm)
    assert 'id="mywork-reports"' not in client.get("/t/alpha/plans/my-work/").content.decode()


def test_delivery_by_csm_counts_reports_deliveries_and_follow_ups_in_one_query(tenant_a, csm, other_csm, manager,
                                                                                report, contacts):
    second = account_for(tenant_a, csm, name="Second")
    third = account_for(tenant_a, other_csm, name="Third")
    draft_all(tenant_a)
    deliver(tenant_a, report, csm, contacts["sponsor"], follow_up_in=2)
    with tenant_context(tenant_a):
        # A follow-up on a draft counts; a cancelled one does not.
        report_follow_up_schedule(report=report_for(tenant_a, second), by=csm, due_date=TODAY)
        cancelled = report_follow_up_schedule(report=report_for(tenant_a, third), by=other_csm, due_date=TODAY)
        Task.objects.filter(pk=cancelled.pk).update(status="cancelled")
        MonthlyReport.objects.create(account=third, month=date(2020, 1, 1), csm=other_csm, drafted_at=timezone.now())
        with CaptureQueriesContext(connection) as queries:
            rows = delivery_by_csm(user_ids=[csm.pk, other_csm.pk, manager.pk], month=MONTH)
    assert len(queries) == 1
    assert rows == {csm.pk: {"reports": 2, "delivered": 1, "follow_ups": 2},
                    other_csm.pk: {"reports": 1, "delivered": 0, "follow_ups": 0},
                    manager.pk: {"reports": 0, "delivered": 0, "follow_ups": 0}}


def test_the_team_partial_renders_the_rows(rf, csm, tenant_a):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.tenant = tenant_a
    html = render_to_string("insights/reports/_team_delivery.html", {
        "delivery_rows": [{"person": csm, "reports": 4, "delivered": 3, "follow_ups": 2}],
        "report_month": MONTH}, request=request)
    assert "Chris Carter" in html and "75% delivered" in html and f"{MONTH:%B %Y}" in html
    assert f"/t/alpha/reports/?month={MONTH:%Y-%m}&amp;user={csm.pk}" in html
