"""The same job delivered twice (a redelivery while the first attempt still runs, or two workers): the second
attempt waits for the job's lock for a few seconds, then records "skipped" and writes nothing; when the first
attempt goes away within the wait (its worker died and PostgreSQL ended its session), the second takes over."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from csplatform.jobs import services
from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore
from tests.factories import AccountFactory

from .processes import pg_connect, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = timezone.localdate()


@pytest.fixture
def other_attempt(tenant_a):
    """Another session holding health.scores' lock for tenant A and DAY, as a running attempt does."""
    conn = pg_connect()
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       [services.job_lock_key("health.scores", tenant_a.pk, DAY)])
    yield conn
    conn.close()


def runs(tenant):
    with tenant_context(tenant):
        return list(JobRun.objects.filter(job="health.scores").order_by("pk").values_list("status", "error"))


def test_a_second_attempt_skips_after_waiting_while_the_first_one_runs(tenant_a, other_attempt, monkeypatch):
    AccountFactory(tenant=tenant_a)
    monkeypatch.setattr(services, "LOCK_WAIT_SECONDS", 0.5)
    outcome = services.job_run(job_name="health.scores", tenant=tenant_a, day=DAY)
    assert outcome.status == "skipped"
    assert runs(tenant_a) == [("skipped", f"health.scores for tenant {tenant_a.pk} on {DAY} is running elsewhere")]
    with tenant_context(tenant_a):
        assert not HealthScore.objects.exists()


def test_a_second_attempt_takes_over_when_the_first_goes_away_within_the_wait(tenant_a, other_attempt):
    AccountFactory(tenant=tenant_a)
    outcome = {}

    def second_attempt():
        try:
            outcome["status"] = services.job_run(job_name="health.scores", tenant=tenant_a, day=DAY).status
        finally:
            connection.close()

    thread = threading.Thread(target=second_attempt)
    thread.start()
    wait_for(lambda: runs(tenant_a) == [("running", "")], "the second attempt to start waiting for the lock")
    other_attempt.rollback()  # the first attempt's session ends
    thread.join(timeout=60)
    assert outcome == {"status": "succeeded"}
    with tenant_context(tenant_a):
        assert HealthScore.objects.filter(day=DAY).count() == 1
