from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, Activity, Contact, Escalation
from accounts.services import activity_log
from csplatform.tenancy.context import tenant_context
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, EscalationFactory, SegmentFactory

BASE = "/t/alpha/accounts"


def test_it_starts_a_csm_on_their_own_accounts(client, account, others_account, csm):
    client.force_login(csm)
    mine = client.get(f"{BASE}/")
    assert b"Initech" in mine.content and b"Umbrella" not in mine.content
    everyone = client.get(f"{BASE}/?csm=")
    assert b"Initech" in everyone.content and b"Umbrella" in everyone.content


def test_it_filters_and_searches_accounts(client, tenant_a, account, others_account, manager):
    enterprise = SegmentFactory(tenant=tenant_a, name="Enterprise")
    with tenant_context(tenant_a):
        Account.objects.filter(pk=others_account.pk).update(segment=enterprise)
    client.force_login(manager)
    assert b"Initech" not in client.get(f"{BASE}/?segment={enterprise.pk}").content
    found = client.get(f"{BASE}/?q=umbr")
    assert b"Umbrella" in found.content and b"Initech" not in found.content


def test_it_never_lists_another_tenants_accounts(client, account, foreign_account, manager):
    client.force_login(manager)
    assert b"Bravo Secret Customer" not in client.get(f"{BASE}/?csm=").content


def test_the_list_query_count_does_not_grow_with_the_accounts(client, tenant_a, csm, manager):
    client.force_login(manager)
    AccountFactory.create_batch(3, tenant=tenant_a, csm=csm)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{BASE}/").status_code == 200
    AccountFactory.create_batch(30, tenant=tenant_a, csm=csm, segment=SegmentFactory(tenant=tenant_a))
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"{BASE}/").status_code == 200
    assert len(many) == len(few)


def test_the_account_page_shows_facts_stakeholders_and_timeline(client, tenant_a, account, csm, manager):
    sponsor = ContactFactory(tenant=tenant_a, account=account, name="Vera Sponsor", persona="executive_sponsor")
    ContactFactory(tenant=tenant_a, account=account, name="Carl Champion", persona="champion", reports_to=sponsor)
    with tenant_context(tenant_a):
        activity_log(account=account, by=csm, kind="call", subject="Older call",
                     occurred_at=timezone.now() - timedelta(days=3))
        activity_log(account=account, by=csm, kind="email", subject="Newest email")
    client.force_login(csm)
    page = client.get(f"{BASE}/{account.pk}/").content.decode()
    assert "Maya Manager" in page  # the CSM's manager
    assert "Executive sponsor" in page and "Vera Sponsor" in page and "Carl Champion" in page
    assert page.index("Newest email") < page.index("Older call")


def test_the_timeline_filters_by_kind_without_a_full_page(client, tenant_a, account, csm):
    ActivityFactory(tenant=tenant_a, account=account, kind="call", subject="A call")
    ActivityFactory(tenant=tenant_a, account=account, kind="email", subject="An email")
    client.force_login(csm)
    response = client.get(f"{BASE}/{account.pk}/?kind=email", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline")
    assert b"An email" in response.content and b"A call" not in response.content
    assert b"<html" not in response.content


def test_another_tenants_account_answers_404(client, foreign_account, manager):
    client.force_login(manager)
    assert client.get(f"{BASE}/{foreign_account.pk}/").status_code == 404
    assert client.post(f"{BASE}/{foreign_account.pk}/activities/", {"subject": "x"}).status_code == 404


def _call(**extra):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return {"kind": "call", "subject": "Renewal check-in", "occurred_at": now, "minutes_spent": "25", **extra}


def test_a_csm_logs_a_call_from_the_account_page(client, tenant_a, account, csm):
    champion = ContactFactory(tenant=tenant_a, account=account, name="Carl Champion")
    client.force_login(csm)
    response = client.post(f"{BASE}/{account.pk}/activities/", _call(contacts=[champion.pk], next_step="Send deck",
                                                                      next_step_due="2030-01-02"),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"Renewal check-in" in response.content and b"Activity logged." in response.content
    with tenant_context(tenant_a):
        activity = Activity.objects.get()
        assert activity.logged_by == csm and activity.minutes_spent == 25
        assert list(activity.contacts.all()) == [champion]
        assert Account.objects.get(pk=account.pk).last_touch_at == activity.occurred_at
        assert Contact.objects.get(pk=champion.pk).last_engaged_at == activity.occurred_at


def test_it_explains_a_bad_activity_next_to_the_field(client, tenant_a, account, csm):
    client.force_login(csm)
    response = client.post(f"{BASE}/{account.pk}/activities/", _call(subject="", minutes_spent="-5"),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert b"greater than or equal to 0" in response.content
    with tenant_context(tenant_a):
        assert not Activity.objects.exists()


def test_it_refuses_a_contact_of_another_account(client, tenant_a, account, others_account, csm):
    stranger = ContactFactory(tenant=tenant_a, account=others_account)
    client.force_login(csm)
    response = client.post(f"{BASE}/{account.pk}/activities/", _call(contacts=[stranger.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert not Activity.objects.exists()


def test_a_csm_cannot_log_on_another_csms_account_unless_the_tenant_allows_it(
    client, tenant_a, others_account, csm
):
    client.force_login(csm)
    assert client.post(f"{BASE}/{others_account.pk}/activities/", _call()).status_code == 403
    tenant_a.csms_edit_all_accounts = True
    tenant_a.save()
    assert client.post(f"{BASE}/{others_account.pk}/activities/", _call()).status_code == 302


def test_a_manager_writes_on_the_teams_accounts_only(client, account, others_account, manager):
    client.force_login(manager)
    assert client.post(f"{BASE}/{account.pk}/activities/", _call()).status_code == 302
    assert client.post(f"{BASE}/{others_account.pk}/activities/", _call()).status_code == 403


def test_an_executive_reads_but_cannot_write(client, account, executive):
    client.force_login(executive)
    assert client.get(f"{BASE}/{account.pk}/").status_code == 200
    assert client.post(f"{BASE}/{account.pk}/activities/", _call()).status_code == 403
    assert client.get(f"{BASE}/{account.pk}/contacts/new/").status_code == 403


def test_a_csm_adds_a_stakeholder_reporting_to_a_colleague(client, tenant_a, account, others_account, csm):
    boss = ContactFactory(tenant=tenant_a, account=account, name="Bea Boss")
    elsewhere = ContactFactory(tenant=tenant_a, account=others_account)
    client.force_login(csm)
    bad = client.post(f"{BASE}/{account.pk}/contacts/new/", {"name": "Al", "persona": "admin", "influence": "low",
                                                             "sentiment": "neutral", "reports_to": elsewhere.pk})
    assert bad.status_code == 400 and b"Select a valid choice" in bad.content
    good = client.post(f"{BASE}/{account.pk}/contacts/new/", {"name": "Al", "persona": "admin", "influence": "low",
                                                              "sentiment": "neutral", "reports_to": boss.pk,
                                                              "receives_surveys": "on"})
    assert good.status_code == 302
    with tenant_context(tenant_a):
        al = Contact.objects.get(name="Al")
        assert al.account == account and al.reports_to == boss and al.receives_surveys


def test_an_escalation_keeps_its_status_trail(client, tenant_a, account, csm, manager):
    client.force_login(csm)
    response = client.post(f"{BASE}/{account.pk}/escalations/new/",
                           {"title": "SSO outage", "severity": "critical", "escalated_to": manager.pk})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        escalation = Escalation.objects.get()
    url = f"{BASE}/escalations/{escalation.pk}/"
    refused = client.post(url, {"status": "resolved", "seen_status": "open"})
    assert refused.status_code == 400 and b"Say how it was resolved." in refused.content
    client.post(url, {"status": "investigating", "seen_status": "open", "note": "Vendor ticket filed"})
    client.post(url, {"status": "resolved", "seen_status": "investigating", "resolution": "Certificate renewed"})
    with tenant_context(tenant_a):
        escalation.refresh_from_db()
        trail = list(escalation.events.values_list("from_status", "to_status", "by"))
    assert escalation.status == "resolved" and escalation.closed_at is not None
    assert trail == [("", "open", csm.pk), ("open", "investigating", csm.pk), ("investigating", "resolved", csm.pk)]
    assert b"Vendor ticket filed" in client.get(url).content


def test_a_stale_escalation_move_does_not_win(client, tenant_a, account, csm):
    escalation = EscalationFactory(tenant=tenant_a, account=account, status="investigating")
    client.force_login(csm)
    response = client.post(f"{BASE}/escalations/{escalation.pk}/", {"status": "waiting", "seen_status": "open"})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        escalation.refresh_from_db()
    assert escalation.status == "investigating"
    assert b"changed meanwhile" in client.get(f"{BASE}/escalations/{escalation.pk}/").content
