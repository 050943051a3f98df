"""Email digests: who gets which one when (their local 07:00, Mondays for the weekly), once per day, never empty,
never when switched off, a failed send tried again; and what they say, with links into the product."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command

from csplatform.notifications.digests import digests_send_due
from csplatform.notifications.models import DigestDelivery
from csplatform.notifications.tasks import digests_fan_out
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Role
from health.models import HealthAlert
from renewals.models import ForecastLine
from success_plans.models import Task
from tests.factories import AccountFactory, MembershipFactory
from tests.renewals.test_forecast import renewal

MONDAY = date(2026, 1, 5)  # winter: Paris is UTC+1, New York UTC-5


def utc(day: date, hour: int, minute: int = 5) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://cs.example.com"


@pytest.fixture
def paris_csm(csm):
    csm.time_zone = "Europe/Paris"
    csm.save()
    return csm


@pytest.fixture
def ny_manager(manager):
    manager.time_zone = "America/New_York"
    manager.save()
    return manager


@pytest.fixture
def account(tenant_a, csm):
    return AccountFactory(tenant=tenant_a, csm=csm, name="Initech")


def task(account, title, due, owner=None, **fields):
    with tenant_context(account.tenant):
        return Task.objects.create(account=account, title=title, due_date=due, owner=owner or account.csm, **fields)


def sent_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def deliveries(tenant):
    with tenant_context(tenant):
        return list(DigestDelivery.objects.order_by("user_id", "kind").values_list("user_id", "kind", "status"))


def test_the_daily_digest_goes_at_seven_in_each_members_own_time_zone(tenant_a, paris_csm, account, other_csm):
    other_csm.time_zone = "America/New_York"
    other_csm.save()
    task(account, "Call the sponsor", MONDAY)
    task(AccountFactory(tenant=tenant_a, csm=other_csm), "Send the deck", MONDAY)

    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 5))  # 06:05 in Paris: too early for anyone
    assert mail.outbox == []
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 6))  # 07:05 in Paris, 01:05 in New York
    assert [m.to for m in mail.outbox] == [[paris_csm.email]]
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 12))  # 07:05 in New York; Paris already had theirs
    assert [m.to for m in mail.outbox] == [[paris_csm.email], [other_csm.email]]
    assert deliveries(tenant_a) == [(paris_csm.pk, "daily", "sent"), (other_csm.pk, "daily", "sent")]


def test_the_weekly_digest_goes_to_managers_on_monday_morning_only(tenant_a, ny_manager, paris_csm, account):
    task(account, "Overdue follow-up", MONDAY - timedelta(days=3))
    digests_send_due(tenant=tenant_a, at=utc(MONDAY + timedelta(days=1), 12), kinds={"weekly"})  # a Tuesday
    assert mail.outbox == []
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 12), kinds={"weekly"})  # Monday 07:05 in New York
    [weekly] = mail.outbox
    assert weekly.to == [ny_manager.email] and weekly.subject == "Alpha Inc: your team's week, 1 overdue task"
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 6), kinds={"weekly"})  # the CSM's 07:05: not theirs
    assert len(mail.outbox) == 1


def test_a_member_who_switched_the_digest_off_gets_none(tenant_a, paris_csm, account):
    Membership.objects.filter(tenant=tenant_a, user=paris_csm).update(daily_digest=False)
    task(account, "Call the sponsor", MONDAY)
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 6))
    assert mail.outbox == [] and deliveries(tenant_a) == []


def test_it_sends_each_digest_once_however_often_it_is_asked(tenant_a, paris_csm, account):
    task(account, "Call the sponsor", MONDAY)
    for hour in (6, 6, 7, 9):  # the same run twice (a redelivered task), then later runs of the morning
        digests_send_due(tenant=tenant_a, at=utc(MONDAY, hour))
    call_command(
        "send_digests", "--tenant", "alpha", "--kind", "daily", "--date", MONDAY.isoformat(), stdout=StringIO()
    )
    assert len(sent_to(paris_csm)) == 1


def test_an_empty_digest_is_not_sent(tenant_a, paris_csm, account):
    task(account, "Next month", MONDAY + timedelta(days=30))
    task(account, "Done already", MONDAY, status=Task.Status.DONE)
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 6))
    assert mail.outbox == [] and deliveries(tenant_a) == [(paris_csm.pk, "daily", "empty")]


def test_a_send_that_fails_is_not_recorded_as_sent_and_goes_out_on_the_next_run(
    tenant_a, paris_csm, account, monkeypatch
):
    task(account, "Call the sponsor", MONDAY)
    real_send = EmailMultiAlternatives.send

    def refused(self, *args, **kwargs):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refused)
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 6))
    assert mail.outbox == [] and deliveries(tenant_a) == [(paris_csm.pk, "daily", "failed")]
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 7))  # 08:05 in Paris: still the morning
    assert len(sent_to(paris_csm)) == 1
    with tenant_context(tenant_a):
        row = DigestDelivery.objects.get(user=paris_csm)
    assert (row.status, row.attempts, row.error, row.items) == ("sent", 2, "", 1)


def test_the_daily_digest_lists_today_and_overdue_with_links_and_says_how_to_switch_it_off(
    tenant_a, paris_csm, account
):
    task(account, "Call the sponsor", MONDAY, priority=Task.Priority.HIGH)
    task(account, "Send the QBR deck", MONDAY - timedelta(days=2))
    task(AccountFactory(tenant=tenant_a), "Someone else's", MONDAY)
    digests_send_due(tenant=tenant_a, at=utc(MONDAY, 6))
    [message] = mail.outbox
    assert message.subject == "Alpha Inc: 1 task due today, 1 overdue (Mon 05 Jan)"
    text, (html, mime) = message.body, message.alternatives[0]
    assert mime == "text/html"
    link = f"https://cs.example.com/t/alpha/accounts/{account.pk}/"
    assert f"- Call the sponsor (Initech, High priority): {link}" in text
    assert "- Send the QBR deck (Initech, due 2026-01-03)" in text and "Someone else's" not in text
    assert f'<a href="{link}">Call the sponsor</a>' in html
    assert "https://cs.example.com/t/alpha/settings/me/" in text
    assert '<a href="https://cs.example.com/t/alpha/settings/me/">My settings</a>' in html


def test_the_weekly_digest_covers_the_managers_team_at_risk_forecast_and_overdue(
    tenant_a, ny_manager, paris_csm, account, other_csm
):
    outside = MembershipFactory(tenant=tenant_a, role=Role.CSM, user__full_name="Out Side").user  # another team
    theirs = AccountFactory(tenant=tenant_a, csm=outside, name="Not Our Co")
    task(account, "Late one", MONDAY - timedelta(days=1))
    task(account, "Later one", MONDAY - timedelta(days=9))
    task(
        AccountFactory(tenant=tenant_a, csm=other_csm), "Olive's late one", MONDAY - timedelta(days=1), owner=other_csm
    )
    task(theirs, "Not ours", MONDAY - timedelta(days=1))
    moved = renewal(account, category="commit", stage="verbal", current="12000", close=MONDAY + timedelta(days=50))
    with tenant_context(tenant_a):
        HealthAlert.objects.create(
            account=account, reason="red", opened_on=MONDAY - timedelta(days=4), score=Decimal("31")
        )
        HealthAlert.objects.create(account=theirs, reason="red", opened_on=MONDAY, score=Decimal("20"))
        for day, category in ((MONDAY - timedelta(days=7), "commit"), (MONDAY, "at_risk")):
            ForecastLine.objects.create(
                day=day,
                renewal=moved,
                account=account,
                csm=paris_csm,
                close_date=moved.close_date,
                stage="verbal",
                category=category,
                band="yellow",
                current_arr=Decimal("12000"),
                expected_arr=Decimal("12000"),
                probability=Decimal("0.5"),
                weighted_arr=Decimal("6000"),
            )
    call_command(
        "send_digests", "--tenant", "alpha", "--kind", "weekly", "--date", MONDAY.isoformat(), stdout=StringIO()
    )
    [message] = sent_to(ny_manager)
    text = message.body
    assert message.subject == "Alpha Inc: your team's week, 1 at risk, 2 forecast changes, 3 overdue tasks"
    assert "AT-RISK ACCOUNTS (1)\n- Initech (Chris Carter): Fell to red, score 31, open 4 days:" in text
    assert "Not Our Co" not in text and "Not ours" not in text
    assert "Category changes (1)\n  - Initech (Chris Carter): Commit → At risk:" in text
    assert "OVERDUE TASKS PER CSM (3)\n- Chris Carter: 2: https://cs.example.com/t/alpha/plans/my-work/?user=" in text
    assert "- Olive Other: 1:" in text
    assert "https://cs.example.com/t/alpha/forecast/" in text


def test_beat_fans_out_one_task_per_tenant_judged_at_the_beats_time(
    tenant_a, tenant_b, paris_csm, account, django_capture_on_commit_callbacks
):
    task(account, "Call the sponsor", MONDAY)
    with django_capture_on_commit_callbacks(execute=True) as sends:
        assert digests_fan_out(utc(MONDAY, 6).isoformat()) == 2  # the tasks run in-process in tests
    assert len(sends) == 2 and [m.to for m in mail.outbox] == [[paris_csm.email]]
