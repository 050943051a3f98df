"""The monthly report page: review, recommend, deliver (one email, frozen snapshot, once), schedule the follow-up
call; who may do what; the printable copy; fixed query counts."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Activity
from csplatform.tenancy.context import tenant_context
from insights.models import MonthlyReport, ReportRecipient
from insights.reports import services
from success_plans.models import Goal, Task
from tests.factories import ContactFactory

from .reports_support import MONTH, TODAY, account_for, add_story, draft_all, report_for

pytest_plugins = ["tests.insights.reports_fixtures"]  # its fixtures: account, contacts, report, executive

pytestmark = pytest.mark.postgres


def checkbox(html, contact) -> str:
    return re.search(rf'<input type="checkbox" name="contacts" value="{contact.pk}"[^>]*>', html).group(0)


def url(report, suffix=""):
    return f"/t/alpha/reports/{report.pk}/{suffix}"


def reload(report, tenant):
    with tenant_context(tenant):
        return MonthlyReport.objects.select_related("follow_up_task").get(pk=report.pk)


def deliver(client, report, *contacts, minutes=""):
    return client.post(url(report, "deliver/"), {"contacts": [c.pk for c in contacts], "minutes_spent": minutes})


def write_recommendation(client, report, text="Roll out SSO to the sales team, then review adoption."):
    return client.post(url(report, "recommendation/"), {"recommendation": text})


def test_it_shows_a_draft_with_its_figures_goals_decisions_and_answers(client, csm, report, contacts):
    client.force_login(csm)
    response = client.get(url(report))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ["Initech: monthly report for", MONTH.strftime("%B %Y"), "Goal 0 of Initech", "Decision 0",
                 "Comment 0", "Print or save as PDF", "Refresh figures", "Save recommendation", "Deliver by email"]:
        assert text in html, text
    # The executive sponsor and the champion with an email are ticked by default; the end user is not.
    assert "checked" in checkbox(html, contacts["sponsor"]) and "checked" in checkbox(html, contacts["champion"])
    assert "checked" not in checkbox(html, contacts["user"])
    assert "Nemo" not in html  # no email address, cannot be chosen


def test_it_saves_the_recommendation_of_a_draft(client, csm, report, tenant_a):
    client.force_login(csm)
    response = write_recommendation(client, report, "  Train the new admins.  ")
    assert response.status_code == 302
    assert reload(report, tenant_a).recommendation == "Train the new admins."


def test_it_refuses_a_recommendation_too_long_with_the_reason_next_to_the_field(client, csm, report, tenant_a):
    client.force_login(csm)
    response = write_recommendation(client, report, "x" * (services.RECOMMENDATION_MAX + 1))
    assert response.status_code == 400
    assert 'id="id_recommendation-error"' in response.content.decode()
    assert reload(report, tenant_a).recommendation == ""


def test_delivery_sends_one_email_to_the_chosen_contacts_and_freezes_the_report(client, csm, report, contacts,
                                                                                   tenant_a):
    client.force_login(csm)
    write_recommendation(client, report)
    response = deliver(client, report, contacts["sponsor"], contacts["user"], minutes="25")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert sorted(email.to) == ["sara@initech.test", "una@initech.test"]
    assert MONTH.strftime("%B %Y") in email.subject and "Initech" in email.subject
    assert "Roll out SSO" in email.body and "Goal 0 of Initech" in email.body
    html, mime = email.alternatives[0]
    assert mime == "text/html" and "Goal 0 of Initech" in html and "What we recommend" in html
    delivered = reload(report, tenant_a)
    assert delivered.status == "delivered" and delivered.delivered_by_id == csm.pk
    assert [g["title"] for g in delivered.snapshot["goals"]] == ["Goal 0 of Initech"]
    with tenant_context(tenant_a):
        assert sorted(ReportRecipient.objects.values_list("email", flat=True)) == ["sara@initech.test",
                                                                                   "una@initech.test"]
        activity = Activity.objects.get(account_id=report.account_id)
        assert (activity.kind, activity.subject) == ("email", f"Monthly report for {MONTH:%B %Y} sent")
        assert activity.minutes_spent == 25  # on the CSM's timesheet
        assert set(activity.contacts.values_list("name", flat=True)) == {"Sara Sponsor", "Una User"}
        # Changing the goal afterwards does not change the delivered report.
        Goal.objects.update(title="Renamed goal", current_value=199)
    page = client.get(url(report)).content.decode()
    assert "Goal 0 of Initech" in page and "Renamed goal" not in page
    assert "Deliver by email" not in page and "Save recommendation" not in page and "Refresh figures" not in page
    assert "sara@initech.test" in page


def test_delivering_twice_sends_once(client, csm, report, contacts, tenant_a):
    client.force_login(csm)
    write_recommendation(client, report)
    assert deliver(client, report, contacts["sponsor"]).status_code == 302
    assert deliver(client, report, contacts["champion"]).status_code == 409
    with tenant_context(tenant_a):
        with pytest.raises(services.ReportDelivered):
            services.report_deliver(report=report, by=csm, contacts=[contacts["champion"]])
        assert ReportRecipient.objects.count() == 1
        assert Activity.objects.filter(kind="email").count() == 1
    assert len(mail.outbox) == 1


def test_delivered_reports_are_no_longer_edited_or_refreshed(client, csm, report, contacts, tenant_a):
    client.force_login(csm)
    write_recommendation(client, report, "As sent.")
    deliver(client, report, contacts["sponsor"])
    assert write_recommendation(client, report, "Changed afterwards").status_code == 409
    assert client.post(url(report, "refresh/")).status_code == 409
    assert reload(report, tenant_a).recommendation == "As sent."


@pytest.mark.parametrize("case", ["no contact", "no recommendation", "other account's contact"])
def test_bad_delivery_answers_400_with_the_reason_and_writes_nothing(client, csm, report, contacts, tenant_a, case):
    client.force_login(csm)
    chosen = [contacts["sponsor"]]
    if case != "no recommendation":
        write_recommendation(client, report)
    if case == "no contact":
        chosen = []
    if case == "other account's contact":
        chosen = [ContactFactory(tenant=tenant_a, email="someone@else.test")]
    response = deliver(client, report, *chosen)
    assert response.status_code == 400
    html = response.content.decode()
    # The reason is shown next to its field (the checkboxes, or the recommendation's textarea).
    expected = {"no contact": '<small class="error" id="-error">Choose at least one contact',
                "no recommendation": '<small class="error" id="id_recommendation-error">Write what we recommend',
                "other account's contact": '<small class="error" id="-error">Select a valid choice'}[case]
    assert expected in html
    assert reload(report, tenant_a).status == "draft"
    with tenant_context(tenant_a):
        assert not ReportRecipient.objects.exists() and not Activity.objects.exists()
    assert mail.outbox == []


def test_a_failed_send_leaves_the_draft_as_it_was(csm, report, contacts, tenant_a, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    with tenant_context(tenant_a):
        MonthlyReport.objects.filter(pk=report.pk).update(recommendation="Go.")
        with pytest.raises(ConnectionRefusedError):
            services.report_deliver(report=report, by=csm, contacts=[contacts["sponsor"]])
    assert reload(report, tenant_a).status == "draft"
    with tenant_context(tenant_a):
        assert not ReportRecipient.objects.exists() and not Activity.objects.exists()


def test_the_follow_up_call_is_a_task_for_the_accounts_csm_with_its_due_date(client, manager, csm, report, tenant_a):
    client.force_login(manager)  # a manager schedules it for their CSM's account
    due = TODAY + timedelta(days=5)
    response = client.post(url(report, "follow-up/"), {"due_date": due.isoformat()})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        task = Task.objects.get()
    assert (task.type, task.owner_id, task.due_date, task.account_id, task.status) == (
        "follow_up", csm.pk, due, report.account_id, "open")
    assert task.title == f"Follow-up call on the {MONTH:%B} report"
    assert reload(report, tenant_a).follow_up_task_id == task.pk
    # A second one is refused while the first is open, with the reason; nothing else is written.
    again = client.post(url(report, "follow-up/"), {"due_date": due.isoformat(), "title": "Another"})
    assert again.status_code == 400 and "already scheduled" in again.content.decode()
    with tenant_context(tenant_a):
        assert Task.objects.count() == 1
        Task.objects.filter(pk=task.pk).update(status="done")
    # Once it is done, the next one may be scheduled.
    second = client.post(url(report, "follow-up/"), {"due_date": due.isoformat(), "title": "Second call"})
    assert second.status_code == 302
    assert reload(report, tenant_a).follow_up_task.title == "Second call"


@pytest.mark.parametrize("due, reason", [("", "Choose the day"), ("past", "cannot be due in the past"),
                                         ("31/12/2030", "Enter a valid date")])
def test_a_follow_up_needs_a_valid_future_date(client, csm, report, tenant_a, due, reason):
    client.force_login(csm)
    if due == "past":
        due = (TODAY - timedelta(days=1)).isoformat()
    response = client.post(url(report, "follow-up/"), {"due_date": due})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_due_date-error"' in html and reason in html
    with tenant_context(tenant_a):
        assert not Task.objects.exists()


def test_the_follow_up_may_be_scheduled_after_delivery(client, csm, report, contacts, tenant_a):
    client.force_login(csm)
    write_recommendation(client, report)
    deliver(client, report, contacts["sponsor"])
    due = TODAY + timedelta(days=3)
    assert client.post(url(report, "follow-up/"), {"due_date": due.isoformat()}).status_code == 302
    page = client.get(url(report)).content.decode()
    assert f"due {due:%Y-%m-%d}" in page


def test_refresh_figures_rereads_the_data_of_a_draft(client, csm, report, tenant_a):
    from health.models import UsageDaily

    client.force_login(csm)
    write_recommendation(client, report, "Keep it.")
    with tenant_context(tenant_a):
        UsageDaily.objects.create(account_id=report.account_id, day=MONTH + timedelta(days=4), events=321)
    assert client.post(url(report, "refresh/")).status_code == 302
    refreshed = reload(report, tenant_a)
    assert (refreshed.usage_events, refreshed.recommendation) == (321, "Keep it.")


WRITES = ["recommendation/", "deliver/", "follow-up/", "refresh/"]


def test_another_csm_reads_but_cannot_write(client, other_csm, report, tenant_a):
    client.force_login(other_csm)
    page = client.get(url(report))
    assert page.status_code == 200
    assert "Deliver by email" not in page.content.decode() and "Refresh figures" not in page.content.decode()
    for suffix in WRITES:
        assert client.post(url(report, suffix), {"recommendation": "x", "due_date": TODAY.isoformat()}
                           ).status_code == 403, suffix
    assert reload(report, tenant_a).recommendation == ""


def test_an_executive_reads_only(client, executive, report):
    client.force_login(executive)
    assert client.get(url(report)).status_code == 200
    assert client.get(url(report, "print/")).status_code == 200
    for suffix in WRITES:
        assert client.post(url(report, suffix), {}).status_code == 403, suffix


def test_a_user_of_another_tenant_gets_404_on_every_report_url(client, outsider, report, tenant_b):
    client.force_login(outsider)
    # Their own tenant's URLs with tenant A's report id: not found, never forbidden.
    for suffix in ["", "print/"]:
        assert client.get(f"/t/bravo/reports/{report.pk}/{suffix}").status_code == 404, suffix
    for suffix in WRITES:
        assert client.post(f"/t/bravo/reports/{report.pk}/{suffix}", {}).status_code == 404, suffix
    # Tenant A's URLs: not a member there.
    for suffix in ["", "print/"]:
        assert client.get(url(report, suffix)).status_code == 404, suffix
    assert client.get("/t/alpha/reports/").status_code == 404


def test_the_printable_copy_has_no_navigation_and_says_how_to_save_a_pdf(client, csm, report):
    client.force_login(csm)
    response = client.get(url(report, "print/"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<nav" not in html and "@media print" in html and "Save as PDF" in html
    assert "Goal 0 of Initech" in html and "Alpha Inc" in html


def _count(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_report_page_runs_the_same_queries_whatever_the_number_of_goals(client, csm, tenant_a, contacts):
    small = account_for(tenant_a, csm, name="Small")
    large = account_for(tenant_a, csm, name="Large")
    ContactFactory(tenant=tenant_a, account=large, persona="champion")
    ContactFactory(tenant=tenant_a, account=large, persona="executive_sponsor")
    ContactFactory(tenant=tenant_a, account=small, persona="champion")
    add_story(tenant_a, small, n=1)
    add_story(tenant_a, large, n=6)
    draft_all(tenant_a)
    client.force_login(csm)
    few = _count(client, url(report_for(tenant_a, small)))
    many = _count(client, url(report_for(tenant_a, large)))
    assert few == many


def test_the_list_page_runs_the_same_queries_whatever_the_number_of_accounts(client, csm, manager, tenant_a):
    account_for(tenant_a, csm)
    draft_all(tenant_a)
    client.force_login(manager)
    few = _count(client, "/t/alpha/reports/?user=team")
    for _ in range(6):
        account_for(tenant_a, csm)
    draft_all(tenant_a)
    assert _count(client, "/t/alpha/reports/?user=team") == few
