from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from tests.factories import AccountFactory, ActivityFactory

UTC = ZoneInfo("UTC")
BASE = "/t/alpha/accounts"


def at(day: date, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_the_timesheet_adds_minutes_per_client_per_week(client, tenant_a, account, others_account, csm):
    # November 2026: Mondays are the 2nd, 9th, 16th, 23rd, 30th; October 26th starts the first week.
    for day, minutes in [(date(2026, 11, 3), 30), (date(2026, 11, 5), 45), (date(2026, 11, 17), 60),
                         (date(2026, 10, 30), 99)]:
        ActivityFactory(tenant=tenant_a, account=account, logged_by=csm, occurred_at=at(day), minutes_spent=minutes)
    client.force_login(csm)
    response = client.get(f"{BASE}/timesheet/?month=2026-11")
    sheet = response.context["sheet"]
    assert [w.isoformat() for w in sheet["weeks"]] == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16",
                                                        "2026-11-23", "2026-11-30"]
    [row] = sheet["rows"]
    assert row["account"] == "Initech" and row["cells"] == [0, 75, 0, 60, 0, 0] and row["total"] == 135
    assert sheet["week_totals"] == [0, 75, 0, 60, 0, 0]
    assert sheet["month_totals"] == [(date(2026, 11, 1), 135)]
    assert b"135 min" in response.content


def test_a_csm_sees_only_their_own_time(client, tenant_a, csm, other_csm):
    client.force_login(csm)
    assert client.get(f"{BASE}/timesheet/?user={other_csm.pk}").status_code == 403
    assert client.get(f"{BASE}/timesheet/?user=team").status_code == 403


def test_a_manager_sees_the_teams_time(client, tenant_a, account, others_account, csm, other_csm, manager):
    day = timezone.localdate()
    ActivityFactory(tenant=tenant_a, account=account, logged_by=csm, occurred_at=at(day), minutes_spent=40)
    ActivityFactory(tenant=tenant_a, account=others_account, logged_by=other_csm, occurred_at=at(day), minutes_spent=50)
    client.force_login(manager)
    team = client.get(f"{BASE}/timesheet/?user=team")
    assert [r["person"] for r in team.context["sheet"]["rows"]] == ["Chris Carter"]  # other_csm is not in the team
    assert client.get(f"{BASE}/timesheet/?user={other_csm.pk}").status_code == 403
    assert client.get(f"{BASE}/timesheet/?user={csm.pk}").status_code == 200


def test_the_workplan_lists_open_next_steps_of_the_coming_week_and_overdue(client, tenant_a, account, csm):
    today = timezone.localdate()
    ActivityFactory(tenant=tenant_a, account=account, logged_by=csm, next_step="Send QBR deck",
                    next_step_due=today + timedelta(days=2))
    ActivityFactory(tenant=tenant_a, account=account, logged_by=csm, next_step="Chase invoice",
                    next_step_due=today - timedelta(days=3))
    ActivityFactory(tenant=tenant_a, account=account, logged_by=csm, next_step="Already done",
                    next_step_due=today, next_step_done=True)
    ActivityFactory(tenant=tenant_a, account=account, logged_by=csm, next_step="Next month",
                    next_step_due=today + timedelta(days=30))
    client.force_login(csm)
    page = client.get(f"{BASE}/workplan/").content.decode()
    assert "Send QBR deck" in page and "Chase invoice" in page and "overdue" in page
    assert "Already done" not in page and "Next month" not in page
    assert page.index("Chase invoice") < page.index("Send QBR deck")


def test_the_book_of_business_counts_per_csm_and_flags_untouched(client, tenant_a, csm, other_csm, manager, executive):
    fresh = AccountFactory(tenant=tenant_a, csm=csm, name="Fresh Co")
    AccountFactory(tenant=tenant_a, csm=csm, name="Forgotten Co")
    AccountFactory(tenant=tenant_a, csm=other_csm, name="Other Team Co")
    ActivityFactory(tenant=tenant_a, account=fresh, logged_by=csm)
    with tenant_context(tenant_a):
        from accounts.models import Account

        Account.objects.filter(pk=fresh.pk).update(last_touch_at=timezone.now())
    client.force_login(manager)
    response = client.get(f"{BASE}/book/")
    rows = list(response.context["rows"])
    assert [(r["csm__full_name"], r["accounts"], r["untouched"]) for r in rows] == [("Chris Carter", 2, 1)]
    assert b"Forgotten Co" in response.content and b"Other Team Co" not in response.content
    client.force_login(executive)
    everyone = client.get(f"{BASE}/book/")
    assert {r["csm__full_name"] for r in everyone.context["rows"]} == {"Chris Carter", "Olga Other"}


def test_a_csm_has_no_book_of_business_page(client, csm):
    client.force_login(csm)
    assert client.get(f"{BASE}/book/").status_code == 403


def test_the_book_query_count_does_not_grow_with_the_accounts(client, tenant_a, csm, manager):
    client.force_login(manager)
    AccountFactory.create_batch(2, tenant=tenant_a, csm=csm)
    with CaptureQueriesContext(connection) as few:
        client.get(f"{BASE}/book/")
    AccountFactory.create_batch(25, tenant=tenant_a, csm=csm)
    with CaptureQueriesContext(connection) as many:
        client.get(f"{BASE}/book/")
    assert len(many) == len(few)


def test_a_csm_ticks_off_a_next_step_from_the_workplan(client, tenant_a, account, others_account, csm):
    today = timezone.localdate()
    step = ActivityFactory(tenant=tenant_a, account=account, logged_by=csm, next_step="Send QBR deck",
                           next_step_due=today)
    foreign = ActivityFactory(tenant=tenant_a, account=others_account, next_step="Not mine", next_step_due=today)
    client.force_login(csm)
    assert client.post(f"{BASE}/next-steps/{step.pk}/done/", HTTP_HX_REQUEST="true").status_code == 200
    assert b"Send QBR deck" not in client.get(f"{BASE}/workplan/").content
    assert client.post(f"{BASE}/next-steps/{foreign.pk}/done/").status_code == 403
    with tenant_context(tenant_a):
        step.refresh_from_db()
        foreign.refresh_from_db()
    assert step.next_step_done and not foreign.next_step_done
