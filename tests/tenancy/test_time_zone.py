"""Pages show and read date-times in the signed-in user's zone; the API and the business day stay in UTC."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Activity
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import User
from csplatform.tenancy.timezones import UserTimeZoneMiddleware, business_day
from tests.factories import AccountFactory, JobRunFactory

STARTED = datetime(2026, 3, 10, 20, 15, tzinfo=UTC)  # 05:15 the next morning in Tokyo


def _zone_seen_by(path: str, user) -> str:
    request = RequestFactory().get(path)
    request.user = user
    seen = {}

    def view(_request):
        seen["zone"] = timezone.get_current_timezone_name()
        return "response"

    UserTimeZoneMiddleware(view)(request)
    return seen["zone"]


def test_it_shows_a_tokyo_user_the_time_in_tokyo(client, tenant_a, owner):
    run = JobRunFactory(tenant=tenant_a, started_at=STARTED, finished_at=STARTED)
    client.force_login(owner)
    assert "2026-03-10 20:15:00" in client.get(f"/t/alpha/ops/jobs/{run.pk}/").content.decode()

    User.objects.filter(pk=owner.pk).update(time_zone="Asia/Tokyo")
    page = client.get(f"/t/alpha/ops/jobs/{run.pk}/").content.decode()
    assert "2026-03-11 05:15:00" in page and "2026-03-10 20:15:00" not in page


def test_an_unknown_zone_falls_back_to_utc(client, tenant_a, owner):
    run = JobRunFactory(tenant=tenant_a, started_at=STARTED, finished_at=STARTED)
    User.objects.filter(pk=owner.pk).update(time_zone="Mars/Olympus_Mons")
    client.force_login(owner)
    response = client.get(f"/t/alpha/ops/jobs/{run.pk}/")
    assert response.status_code == 200 and "2026-03-10 20:15:00" in response.content.decode()


def test_a_time_typed_in_a_form_is_read_in_the_users_zone(client, tenant_a, teammate):
    account = AccountFactory(tenant=tenant_a, csm=teammate)
    User.objects.filter(pk=teammate.pk).update(time_zone="Asia/Tokyo")
    client.force_login(teammate)
    response = client.post(
        f"/t/alpha/accounts/{account.pk}/activities/",
        {"kind": "call", "subject": "Kick-off", "occurred_at": "2026-03-11T09:00", "minutes_spent": 30},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        activity = Activity.objects.get(account_id=account.pk)
    assert activity.occurred_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo


def test_the_zone_is_switched_back_after_the_request():
    tokyo = SimpleNamespace(is_authenticated=True, time_zone="Asia/Tokyo")
    assert _zone_seen_by("/t/alpha/accounts/", tokyo) == "Asia/Tokyo"
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_api_and_anonymous_visitors_stay_in_utc():
    tokyo = SimpleNamespace(is_authenticated=True, time_zone="Asia/Tokyo")
    assert _zone_seen_by("/api/v1/accounts/", tokyo) == "UTC"
    assert _zone_seen_by("/survey/x/", SimpleNamespace(is_authenticated=False)) == "UTC"


def test_the_business_day_ignores_the_users_zone(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: STARTED)
    with timezone.override("Pacific/Kiritimati"):  # UTC+14: already the 11th there
        assert timezone.localdate() == date(2026, 3, 11)
        assert business_day() == date(2026, 3, 10)
