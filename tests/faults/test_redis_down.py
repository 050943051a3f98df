"""Redis down: pages and logins keep working, ingest keeps accepting (its rows are committed before anything is
queued), the refresh it could not queue is picked up by the next batch once Redis is back or by the night, and
workers carry on when Redis returns. Redis is "down" as a closed port, or as a redis-server of the test's own that
the test shuts down (never the shared one)."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from csplatform.jobs import queue
from csplatform.jobs.models import JobRun
from csplatform.jobs.services import nightly_run_for_tenant
from csplatform.jobs.tasks import run_job_for_tenant
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore, Measure, PendingRefresh, Scorecard, UsageBatch, UsageDaily
from tests.api import count
from tests.factories import AccountFactory

from .processes import Worker, broker_at, free_port, wait_for

TODAY = timezone.localdate()
AN_HOUR_AGO = (timezone.now() - timedelta(hours=1)).isoformat()


def closed_port_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def score_usage_events(tenant):
    """Health = usage events in the window: 0 is red, 10 is green (so 4 events score 40)."""
    with tenant_context(tenant):
        card = Scorecard.objects.get(is_default=True)
        card.measures.all().delete()
        Measure.objects.create(scorecard=card, kind=Measure.Kind.USAGE_EVENTS, weight=1, red_threshold=0,
                               green_threshold=10, window_days=30, position=0, direction="higher")


def usage_batch(batch_id, account):
    return {"batch_id": batch_id, "events": [
        {"account": account.external_id, "occurred_at": AN_HOUR_AGO, "event": "login", "user_id": user}
        for user in ("ann", "bob", "cy", "dee")]}


def today_scores(tenant):
    with tenant_context(tenant):
        return dict(HealthScore.objects.filter(day=TODAY).values_list("account_id", "score"))


@pytest.mark.django_db
def test_it_accepts_a_usage_batch_while_the_broker_is_down_and_the_night_scores_it(
        ops_api, tenant_a, caplog, django_capture_on_commit_callbacks):
    account = AccountFactory(tenant=tenant_a)
    score_usage_events(tenant_a)
    with broker_at(closed_port_url()), caplog.at_level(logging.WARNING, logger="csplatform"), \
            django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = ops_api.post("/usage-events/", usage_batch("b-1", account))
        assert response.status_code == 201, response.content
    assert len(callbacks) == 1  # the refresh was asked for, and could not be sent
    assert "Not sent (the broker is down): csplatform.jobs.tasks.run_job_for_tenant" in caplog.text
    assert count(UsageBatch, tenant_a) == 1 and count(UsageDaily, tenant_a) == 1
    with tenant_context(tenant_a):
        assert list(PendingRefresh.objects.values_list("account_id", flat=True)) == [account.pk]
    assert today_scores(tenant_a) == {}

    nightly_run_for_tenant(tenant=tenant_a, day=TODAY, trigger="command")  # drains what the lost task left
    assert today_scores(tenant_a) == {account.pk: 40}
    assert count(PendingRefresh, tenant_a) == 0


@pytest.mark.django_db
def test_it_skips_the_broker_for_a_while_after_it_failed(tenant_a, monkeypatch):
    with broker_at(closed_port_url()):
        assert queue.publish(run_job_for_tenant, ("health.refresh", tenant_a.pk, TODAY.isoformat())) is False
        assert queue.broker.is_open()

        def must_not_be_called(*args, **kwargs):
            raise AssertionError("published while the breaker was open")

        monkeypatch.setattr(run_job_for_tenant, "apply_async", must_not_be_called)
        assert queue.publish(run_job_for_tenant, ("health.refresh", tenant_a.pk, TODAY.isoformat())) is False


@pytest.mark.django_db
def test_it_serves_pages_logins_and_survey_links_while_the_cache_is_down(client, tenant_a, owner, settings):
    settings.CACHES = {"default": {"BACKEND": "csplatform.cache.TolerantRedisCache", "LOCATION": closed_port_url(),
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    client.raise_request_exception = False
    assert client.post("/login/", {"username": owner.email, "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": owner.email, "password": "correct horse battery"}).status_code == 302
    assert client.get("/t/alpha/accounts/").status_code == 200
    # Public and rate limited in the cache: limits are open while it is down, the page still answers.
    assert client.get("/survey/alpha/not-a-real-token/").status_code == 404


@pytest.mark.django_db
def test_it_says_nothing_was_queued_when_run_now_finds_the_broker_down(client, tenant_a, owner):
    client.force_login(owner)
    with broker_at(closed_port_url()):
        response = client.post("/t/alpha/ops/jobs/run-now/", follow=True)
    assert response.status_code == 200
    assert "The job queue (Redis) is not answering, so nothing was queued" in response.content.decode()
    assert count(JobRun, tenant_a) == 0


@pytest.mark.postgres  # the worker process reads the test's data: not an in-memory SQLite database
@pytest.mark.django_db(transaction=True)
def test_it_queues_the_lost_refresh_with_the_next_batch_once_redis_is_back_and_the_worker_runs_it(
        ops_api, tenant_a, own_redis, settings):
    settings.HEALTH_REFRESH_DELAY_SECONDS = 0
    settings.HEALTH_REFRESH_LOST_AFTER_SECONDS = 0  # a refresh not run by now was lost (5 minutes in production)
    first, second = AccountFactory(tenant=tenant_a), AccountFactory(tenant=tenant_a)
    score_usage_events(tenant_a)
    worker = Worker(own_redis.url)  # the default queue: nobody else uses this Redis
    try:
        with broker_at(own_redis.url):
            own_redis.stop()
            assert ops_api.post("/usage-events/", usage_batch("b-1", first)).status_code == 201
            assert queue.broker.is_open()  # the refresh could not be sent

            own_redis.start()
            queue.broker.reset()  # as after the breaker's cooldown (15 s)
            assert ops_api.post("/usage-events/", usage_batch("b-2", second)).status_code == 201
            wait_for(lambda: today_scores(tenant_a) == {first.pk: 40, second.pk: 40},
                     "the worker, reconnected to Redis, to rescore both batches' accounts")
    finally:
        worker.stop()
    assert count(PendingRefresh, tenant_a) == 0
    with tenant_context(tenant_a):
        runs = list(JobRun.objects.filter(job="health.refresh").values_list("status", "rows_written"))
    assert runs == [("succeeded", 2)]
