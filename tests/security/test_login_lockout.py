"""Failed logins lock an email (5) and a client address (20) for 15 minutes, with a message that says what to do."""

from datetime import timedelta

import pytest
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from csplatform.security.lockout import LoginAttemptHandler
from csplatform.tenancy.services import api_token_create
from tests.factories import UserFactory

PASSWORD = "correct horse battery"  # tests/factories.py
WRONG = "not the password"
LOCKED_TEXT = "Too many failed logins"


def login(client, email, password, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def fail(client, email, times):
    return [login(client, email, WRONG).status_code for _ in range(times)]


def logged_in(client) -> bool:
    return client.get("/t/alpha/members/").status_code == 200


def test_it_uses_the_database_handler_so_every_web_process_sees_the_same_counts():
    assert settings.AXES_HANDLER == "csplatform.security.lockout.LoginAttemptHandler"
    assert issubclass(LoginAttemptHandler, AxesDatabaseHandler)
    assert (settings.AXES_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_LIMIT) == (5, 20)
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)


def test_it_locks_an_email_after_five_failures_and_says_for_how_long_and_whom_to_ask(client, tenant_a, owner):
    assert fail(client, "owner@alpha.test", 4) == [200] * 4
    locked = login(client, "owner@alpha.test", WRONG)
    html = locked.content.decode()
    assert locked.status_code == 429 and locked["Retry-After"] == "900"
    assert LOCKED_TEXT in html and "15 minutes" in html and "ops or admin person of your workspace" in html
    assert 'name="username"' in html and "owner@alpha.test" in html  # the login form, not a bare error page
    # The right password does not get in while the lock holds, from another address either.
    assert login(client, "owner@alpha.test", PASSWORD).status_code == 429 and not logged_in(client)
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert login(other, "owner@alpha.test", PASSWORD).status_code == 429 and not logged_in(other)


def test_failures_below_the_limit_do_not_stop_the_right_password(client, tenant_a, owner):
    assert fail(client, "owner@alpha.test", 4) == [200] * 4
    assert login(client, "owner@alpha.test", PASSWORD).status_code == 302
    assert logged_in(client)


def test_it_counts_spellings_of_one_email_together(client, tenant_a, owner):
    for spelling in ["Owner@alpha.test", "OWNER@ALPHA.TEST", " owner@alpha.test", "owner@Alpha.test"]:
        assert login(client, spelling, WRONG).status_code == 200
    assert login(client, "owner@alpha.test", WRONG).status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"owner@alpha.test"}


def test_it_locks_a_client_address_after_twenty_failures_across_emails(tenant_a, owner):
    guesser = Client(REMOTE_ADDR="203.0.113.50")
    for n in range(19):
        assert login(guesser, f"nobody{n}@alpha.test", WRONG).status_code == 200
    assert login(guesser, "nobody19@alpha.test", WRONG).status_code == 429
    # Every email from that address is refused now, even with its password...
    assert login(guesser, "owner@alpha.test", PASSWORD).status_code == 429
    # ...while the email itself is not locked elsewhere.
    elsewhere = Client(REMOTE_ADDR="198.51.100.1")
    assert login(elsewhere, "owner@alpha.test", PASSWORD).status_code == 302


def test_the_lock_ends_when_the_cool_off_has_passed(client, tenant_a, owner):
    fail(client, "owner@alpha.test", 5)
    assert login(client, "owner@alpha.test", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert login(client, "owner@alpha.test", PASSWORD).status_code == 302


def test_failures_during_the_lock_do_not_extend_it(client, tenant_a, owner):
    fail(client, "owner@alpha.test", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    assert fail(client, "owner@alpha.test", 3) == [429] * 3
    assert AccessAttempt.objects.get().failures_since_start == 5
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert login(client, "owner@alpha.test", PASSWORD).status_code == 302


def test_the_admin_login_is_locked_the_same_way(client, db):
    UserFactory(email="staff@platform.test", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    for _ in range(4):
        assert client.post(url, {"username": "staff@platform.test", "password": WRONG}).status_code == 200
    assert client.post(url, {"username": "staff@platform.test", "password": WRONG}).status_code == 429
    assert client.post(url, {"username": "staff@platform.test", "password": PASSWORD}).status_code == 429


def test_api_tokens_keep_working_for_a_locked_email(client, tenant_a, owner):
    _, raw = api_token_create(tenant=tenant_a, user=owner, name="sync")
    fail(client, "owner@alpha.test", 5)
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200 and response.json()["email"] == "owner@alpha.test"


def test_force_login_and_an_open_session_are_not_checked(client, tenant_a, owner):
    client.force_login(owner)
    Client().post(reverse("login"), {"username": "owner@alpha.test", "password": WRONG})
    fail(Client(), "owner@alpha.test", 5)
    assert logged_in(client)  # a lock stops new logins; it does not end sessions


@pytest.mark.parametrize("proxies, forwarded, counted_as", [
    (0, "198.51.100.7", "10.0.0.2"),  # no trusted proxy: the header is the client's word, REMOTE_ADDR counts
    (1, "198.51.100.7", "198.51.100.7"),
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own entry on the left is ignored
    (2, "198.51.100.7, 10.0.0.9", "198.51.100.7"),
    (1, "not-an-address", None),
])
def test_it_counts_the_address_the_trusted_proxies_saw(client, tenant_a, settings, proxies, forwarded, counted_as):
    settings.TRUSTED_PROXY_COUNT = proxies
    login(client, "nobody@alpha.test", WRONG, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert AccessAttempt.objects.get().ip_address == counted_as
