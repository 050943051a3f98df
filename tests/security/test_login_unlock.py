"""Ops and admins of a tenant see its members' failed logins and lift a lock; nobody else's, and no addresses."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from csplatform.tenancy.models import Role
from tests.api import member

PASSWORD = "correct horse battery"
PAGE = "/t/alpha/ops/security/"
GUESSER_IP = "203.0.113.77"


def fail(email, times, ip="198.51.100.20"):
    guesser = Client(REMOTE_ADDR=ip)
    for _ in range(times):
        guesser.post(reverse("login"), {"username": email, "password": "wrong"})


def unlock_url(user, slug="alpha"):
    return f"/t/{slug}/ops/security/{user.pk}/unlock/"


def can_log_in(email) -> bool:
    response = Client(REMOTE_ADDR="192.0.2.200").post(reverse("login"), {"username": email, "password": PASSWORD})
    return response.status_code == 302


@pytest.fixture
def ops(client, owner):
    client.force_login(owner)
    return client


def test_it_lists_this_tenants_locked_members_and_never_another_tenants_or_an_address(
        ops, tenant_a, teammate, csm, outsider):
    fail("teammate@alpha.test", 5, ip=GUESSER_IP)
    fail("csm@alpha.test", 2)
    fail("outsider@bravo.test", 5, ip=GUESSER_IP)
    fail("stranger@nowhere.test", 3, ip=GUESSER_IP)
    response = ops.get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "teammate@alpha.test" in html and "Locked until" in html
    assert "csm@alpha.test" in html and "Not locked" in html
    assert "outsider@bravo.test" not in html and "stranger@nowhere.test" not in html
    assert GUESSER_IP not in html and "198.51.100.20" not in html
    assert html.index("teammate@alpha.test") < html.index("csm@alpha.test")  # locked first


def test_it_says_when_a_members_network_is_locked_without_naming_it(ops, tenant_a, teammate):
    fail("teammate@alpha.test", 1, ip=GUESSER_IP)
    for n in range(19):
        fail(f"spray{n}@bravo.test", 1, ip=GUESSER_IP)
    html = ops.get(PAGE).content.decode()
    assert "Their network is locked until" in html and GUESSER_IP not in html


def test_it_says_so_when_nobody_failed(ops, tenant_a):
    assert "No member of Alpha Inc has failed to log in" in ops.get(PAGE).content.decode()


def test_unlocking_asks_first_then_lifts_the_lock(ops, tenant_a, teammate):
    fail("teammate@alpha.test", 5)
    assert not can_log_in("teammate@alpha.test")
    confirm = ops.get(unlock_url(teammate))
    assert confirm.status_code == 200 and "Unlock" in confirm.content.decode()
    assert AccessAttempt.objects.filter(username="teammate@alpha.test").exists()  # a GET changes nothing
    response = ops.post(unlock_url(teammate))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not AccessAttempt.objects.filter(username="teammate@alpha.test").exists()
    assert can_log_in("teammate@alpha.test")


def test_unlocking_needs_the_csrf_token(tenant_a, owner, teammate):
    fail("teammate@alpha.test", 5)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(unlock_url(teammate)).status_code == 403
    assert AccessAttempt.objects.filter(username="teammate@alpha.test").exists()


def test_another_tenants_user_answers_404_and_stays_locked(ops, tenant_a, outsider):
    fail("outsider@bravo.test", 5)
    assert ops.get(unlock_url(outsider)).status_code == 404
    assert ops.post(unlock_url(outsider)).status_code == 404
    assert AccessAttempt.objects.filter(username="outsider@bravo.test").exists()


def test_a_non_member_gets_404_for_the_page(client, tenant_a, outsider, teammate):
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 404
    assert client.post(unlock_url(teammate)).status_code == 404


@pytest.mark.parametrize("role, status", [(Role.CSM, 403), (Role.MANAGER, 403), (Role.EXECUTIVE, 403),
                                          (Role.OPS, 200), (Role.ADMIN, 200)])
def test_only_ops_and_admins_open_the_page(client, tenant_a, role, status):
    client.force_login(member(tenant_a, role, f"{role}@alpha.test"))
    assert client.get(PAGE).status_code == status


def test_a_csm_cannot_unlock_anyone(client, tenant_a, teammate, csm):
    fail("csm@alpha.test", 5)
    client.force_login(teammate)
    assert client.post(unlock_url(csm)).status_code == 403
    assert AccessAttempt.objects.filter(username="csm@alpha.test").exists()


def test_old_failures_are_not_listed(ops, tenant_a, teammate):
    fail("teammate@alpha.test", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert "teammate@alpha.test" not in ops.get(PAGE).content.decode()


def test_ops_find_the_page_in_the_menu(ops, tenant_a):
    html = ops.get("/t/alpha/", follow=True).content.decode()
    assert PAGE in html and "/t/alpha/ops/tokens/" in html
