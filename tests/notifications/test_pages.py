"""The bell, the notifications page, opening and marking read, and My settings."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.models import Membership
from tests.factories import NotificationFactory

from .conftest import notifications

PAGE = "/t/alpha/notifications/"


def _notes(tenant, user, n, **fields):
    now = timezone.now()
    return [
        NotificationFactory(tenant=tenant, recipient=user, created_at=now - timedelta(minutes=i), **fields)
        for i in range(n)
    ]


def test_the_bell_says_how_many_are_unread_and_caps_the_badge(client, tenant_a, csm, manager):
    client.force_login(csm)
    page = client.get("/t/alpha/accounts/").content.decode()
    assert 'aria-label="Notifications, none unread"' in page and 'class="count"' not in page
    _notes(tenant_a, csm, 3)
    _notes(tenant_a, manager, 2)  # someone else's
    NotificationFactory(tenant=tenant_a, recipient=csm, read_at=timezone.now())  # already read
    page = client.get("/t/alpha/accounts/").content.decode()
    assert 'aria-label="Notifications, 3 unread"' in page and '<span class="count" aria-hidden="true">3</span>' in page
    _notes(tenant_a, csm, 9)
    bell = client.get("/t/alpha/notifications/bell/").content.decode()  # what htmx polls
    assert 'aria-label="Notifications, 9+ unread"' in bell and ">9+</span>" in bell and 'hx-trigger="every 60s"' in bell


def test_the_page_lists_newest_first_with_the_unread_marked(client, tenant_a, csm):
    old = NotificationFactory(
        tenant=tenant_a,
        recipient=csm,
        title="Older, read",
        read_at=timezone.now(),
        created_at=timezone.now() - timedelta(days=1),
    )
    new = NotificationFactory(tenant=tenant_a, recipient=csm, title="Overdue: call Initech")
    client.force_login(csm)
    page = client.get(PAGE).content.decode()
    assert page.index("Overdue: call Initech") < page.index("Older, read")
    assert page.count('class="notification unread"') == 1 and "Mark all read" in page
    assert f'href="/t/alpha/notifications/{new.pk}/"' in page and f'href="/t/alpha/notifications/{old.pk}/"' in page


def test_the_page_says_so_when_there_is_nothing(client, tenant_a, csm):
    client.force_login(csm)
    page = client.get(PAGE).content.decode()
    assert "No notifications yet" in page and "Mark all read" not in page


def test_opening_one_marks_it_read_and_goes_to_what_it_is_about(client, tenant_a, csm):
    [note] = _notes(tenant_a, csm, 1, url="accounts/42/")
    client.force_login(csm)
    answer = client.get(f"{PAGE}{note.pk}/")
    assert answer.status_code == 302 and answer["Location"] == "/t/alpha/accounts/42/"
    assert notifications(tenant_a)[0].read_at is not None


def test_mark_all_read_clears_the_bell(client, tenant_a, csm, manager):
    _notes(tenant_a, csm, 4)
    _notes(tenant_a, manager, 1)
    client.force_login(csm)
    answer = client.post(f"{PAGE}read-all/", follow=True)
    assert "4 notifications marked read." in answer.content.decode()
    assert 'aria-label="Notifications, none unread"' in answer.content.decode()
    assert [n.read_at is None for n in notifications(tenant_a, recipient=manager)] == [True]


def test_someone_elses_notification_answers_404_in_this_tenant_and_in_another(
    client, tenant_a, tenant_b, csm, manager, outsider
):
    [theirs] = _notes(tenant_a, manager, 1)
    [foreign] = _notes(tenant_b, outsider, 1)
    client.force_login(csm)
    assert client.get(f"{PAGE}{theirs.pk}/").status_code == 404
    assert client.get(f"{PAGE}{foreign.pk}/").status_code == 404
    assert notifications(tenant_a, pk=theirs.pk)[0].read_at is None
    assert notifications(tenant_b)[0].read_at is None


def test_the_page_costs_the_same_queries_with_few_or_many_notifications(client, tenant_a, csm):
    _notes(tenant_a, csm, 2)
    client.force_login(csm)
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE).status_code == 200
    _notes(tenant_a, csm, 40)
    with CaptureQueriesContext(connection) as many:
        page = client.get(PAGE)
    assert page.status_code == 200 and "Page 1 of 2" in page.content.decode()
    assert len(many) == len(few)


# --- My settings ---------------------------------------------------------------------------------------------------

SETTINGS = "/t/alpha/settings/me/"


def test_my_settings_refuses_an_unknown_time_zone_next_to_the_field(client, tenant_a, csm):
    client.force_login(csm)
    answer = client.post(SETTINGS, {"time_zone": "Mars/Olympus_Mons", "daily_digest": "on"})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert 'id="id_time_zone-error"' in page and "Choose a time zone from the list" in page
    csm.refresh_from_db()
    assert csm.time_zone == "UTC"


def test_my_settings_saves_the_time_zone_and_switches_the_digest_off(client, tenant_a, csm):
    client.force_login(csm)
    page = client.get(SETTINGS).content.decode()
    assert "Email me the daily digest" in page and "weekly digest" not in page  # a CSM gets the daily one only
    answer = client.post(SETTINGS, {"time_zone": "Europe/Paris"})  # the box left unticked
    assert answer.status_code == 302
    csm.refresh_from_db()
    membership = Membership.objects.get(tenant=tenant_a, user=csm)
    assert csm.time_zone == "Europe/Paris" and membership.daily_digest is False and membership.weekly_digest is True


def test_a_manager_switches_each_digest_on_its_own(client, tenant_a, manager):
    client.force_login(manager)
    assert client.post(SETTINGS, {"time_zone": "America/New_York", "daily_digest": "on"}).status_code == 302
    membership = Membership.objects.get(tenant=tenant_a, user=manager)
    assert (membership.daily_digest, membership.weekly_digest) == (True, False)
