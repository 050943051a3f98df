"""Freshness beyond nightly: a usage batch, ticket or survey answer rescores the accounts it touched for today
(a debounced health.refresh run), and only those."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore, Measure, PendingRefresh
from tests.api import count
from tests.factories import AccountFactory, ContactFactory, SentimentPulseFactory

from .conftest import TODAY, compute, days_ago, use_measures

K = Measure.Kind
AN_HOUR_AGO = (timezone.now() - timedelta(hours=1)).isoformat()


@pytest.fixture
def bystander(tenant_a):
    return AccountFactory(tenant=tenant_a, name="Untouched Ltd")


def today_score(tenant, account):
    with tenant_context(tenant):
        return HealthScore.objects.get(account=account, day=TODAY)


def refresh_runs(tenant):
    with tenant_context(tenant):
        return list(JobRun.objects.filter(job="health.refresh").values_list("status", "trigger", "rows_written"))


def usage_batch(batch_id, *accounts, users=("ann", "bob", "cy", "dee")):
    return {"batch_id": batch_id, "events": [
        {"account": a.external_id, "occurred_at": AN_HOUR_AGO, "event": "login", "user_id": u}
        for a in accounts for u in users]}


def test_it_rescores_the_accounts_of_a_usage_batch_and_only_those(
        ops_api, tenant_a, account, bystander, django_capture_on_commit_callbacks):
    use_measures(tenant_a, (K.USAGE_EVENTS, 1, 0, 10))
    compute(tenant_a)
    before = today_score(tenant_a, bystander)
    assert today_score(tenant_a, account).score is None  # no usage yet

    with django_capture_on_commit_callbacks(execute=True):
        assert ops_api.post("/usage-events/", usage_batch("b-1", account)).status_code == 201

    scored = today_score(tenant_a, account)
    assert scored.score == 40 and scored.band == "yellow" and scored.components[0][1] == 4
    untouched = today_score(tenant_a, bystander)
    assert untouched.computed_at == before.computed_at and untouched.score is None
    assert count(PendingRefresh, tenant_a) == 0
    assert refresh_runs(tenant_a) == [("succeeded", "signal", 1)]


def test_it_rescores_once_for_signals_that_arrive_close_together(
        ops_api, tenant_a, account, bystander, django_capture_on_commit_callbacks):
    use_measures(tenant_a, (K.USAGE_EVENTS, 1, 0, 10))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ops_api.post("/usage-events/", usage_batch("b-1", account))
        ops_api.post("/usage-events/", usage_batch("b-2", bystander, users=("x",)))
    assert len(callbacks) == 1  # the second batch rode along with the refresh the first one scheduled
    assert today_score(tenant_a, account).score == 40 and today_score(tenant_a, bystander).score == 10
    assert refresh_runs(tenant_a) == [("succeeded", "signal", 2)]
    assert count(PendingRefresh, tenant_a) == 0


def test_it_rescores_an_account_when_a_priority_ticket_opens_and_closes(
        ops_api, tenant_a, account, bystander, django_capture_on_commit_callbacks):
    use_measures(tenant_a, (K.OPEN_PRIORITY_TICKETS, 1, 3, 0))
    opened = (timezone.now() - timedelta(days=1)).isoformat()
    ticket = {"external_id": "ZD-9", "account": account.external_id, "priority": "urgent", "opened_at": opened}
    with django_capture_on_commit_callbacks(execute=True):
        assert ops_api.post("/support-tickets/", ticket).status_code == 201
    assert float(today_score(tenant_a, account).score) == pytest.approx(66.67)
    with tenant_context(tenant_a):
        assert not HealthScore.objects.filter(account=bystander).exists()

    with django_capture_on_commit_callbacks(execute=True):
        closed = timezone.now() - timedelta(minutes=5)
        assert ops_api.post("/support-tickets/", {"external_id": "ZD-9", "closed_at": closed.isoformat()}
                            ).status_code == 200
    assert today_score(tenant_a, account).score == 100
    assert [run[0] for run in refresh_runs(tenant_a)] == ["succeeded", "succeeded"]


def test_it_rescores_an_account_when_a_survey_response_arrives(
        ops_api, tenant_a, account, bystander, django_capture_on_commit_callbacks):
    use_measures(tenant_a, (K.NPS, 1, -20, 40, 90))
    contact = ContactFactory(tenant=tenant_a, account=account)
    compute(tenant_a)
    assert today_score(tenant_a, account).band == "none"
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_api.post("/survey-responses/", {"account_id": account.pk, "contact_id": contact.pk,
                                                       "kind": "nps", "score": 10})
        assert response.status_code == 201
    scored = today_score(tenant_a, account)
    assert scored.score == 100 and scored.band == "green"
    assert today_score(tenant_a, bystander).band == "none"
    assert count(PendingRefresh, tenant_a) == 0 and len(refresh_runs(tenant_a)) == 1


def test_it_leaves_scores_alone_when_a_batch_is_rejected_or_repeated(
        ops_api, tenant_a, account, django_capture_on_commit_callbacks):
    use_measures(tenant_a, (K.USAGE_EVENTS, 1, 0, 10))
    with django_capture_on_commit_callbacks(execute=True):
        ops_api.post("/usage-events/", usage_batch("b-1", account))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert ops_api.post("/usage-events/", usage_batch("b-1", account)).json()["duplicate"] is True
        bad = usage_batch("b-2", account)
        bad["events"][0]["occurred_at"] = "soon"
        assert ops_api.post("/usage-events/", bad).status_code == 400
    assert callbacks == [] and count(PendingRefresh, tenant_a) == 0
    assert len(refresh_runs(tenant_a)) == 1


# --- manage.py health_backfill --------------------------------------------------------------------------


def test_it_backfills_the_last_days_oldest_first_one_job_run_per_day(tenant_a, tenant_b, account, capsys):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5, 90))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=2, as_of=days_ago(5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=5, as_of=days_ago(1))
    call_command("health_backfill", "--tenant", "alpha", "--days", "3")
    out = capsys.readouterr().out
    assert f"alpha {days_ago(2)}: 1 scores" in out and "[1/1] alpha: 3 scores over 3 day(s)" in out
    with tenant_context(tenant_a):
        runs = list(JobRun.objects.filter(job="health.scores").order_by("pk").values_list("day", "trigger"))
        scores = dict(HealthScore.objects.filter(account=account).values_list("day", "score"))
    assert runs == [(days_ago(2), "backfill"), (days_ago(1), "backfill"), (TODAY, "backfill")]
    assert scores == {days_ago(2): 25, days_ago(1): 100, TODAY: 100}

    call_command("health_backfill", "--days", "1")  # every active tenant
    assert "for 2 tenant(s)" in capsys.readouterr().out
    with tenant_context(tenant_b):
        assert JobRun.objects.filter(job="health.scores", day=TODAY).count() == 1


def test_it_refuses_an_unknown_tenant_or_day_count(tenant_a):
    with pytest.raises(CommandError, match="No active tenant"):
        call_command("health_backfill", "--tenant", "nope", "--days", "3")
    with pytest.raises(CommandError, match="--days"):
        call_command("health_backfill", "--tenant", "alpha", "--days", "0")


@pytest.mark.postgres
def test_it_lets_usage_batches_mark_accounts_while_a_refresh_runs_and_rescores_them_next_time(
        transactional_db, tenant_a, account, bystander, monkeypatch):
    """The refresh only reads the marks until it commits: a batch arriving mid-run neither waits for it (a 2 s
    lock timeout would fail the batch) nor loses its mark."""
    import threading

    from django.db import connection

    from csplatform.jobs.services import job_run
    from health import jobs
    from health.services import refresh_soon

    use_measures(tenant_a, (K.USAGE_EVENTS, 1, 0, 10))
    with tenant_context(tenant_a):  # a mark whose refresh is due (refresh_soon would run it at once here)
        PendingRefresh.objects.create(account=account, queued_at=timezone.now())
    batch_mid_run = []

    def another_batch_arrives():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            with tenant_context(tenant_a):
                refresh_soon(tenant=tenant_a, account_ids=[account.pk, bystander.pk])
            batch_mid_run.append("marked")
        except Exception as error:  # noqa: BLE001 - the assertion below shows it
            batch_mid_run.append(repr(error))
        finally:
            connection.close()

    compute = jobs.scores_compute

    def compute_while_a_batch_arrives(**kwargs):
        rows = compute(**kwargs)
        if not batch_mid_run:  # the first run only; the follow-up it schedules runs in-process here
            thread = threading.Thread(target=another_batch_arrives)
            thread.start()
            thread.join(timeout=15)
        return rows

    scheduled = []
    monkeypatch.setattr(jobs, "scores_compute", compute_while_a_batch_arrives)
    monkeypatch.setattr(jobs, "refresh_schedule", lambda *, tenant: scheduled.append(tenant.slug))
    outcome = job_run(job_name="health.refresh", tenant=tenant_a, day=TODAY, trigger="signal")

    assert batch_mid_run == ["marked"]
    assert outcome.status == "succeeded" and outcome.rows == 1
    # Both marks were touched after the run began: they survive it, and it schedules the next run, which has them.
    with tenant_context(tenant_a):
        assert sorted(PendingRefresh.objects.values_list("account_id", flat=True)) == sorted([account.pk, bystander.pk])
    assert scheduled == ["alpha"]
    outcome = job_run(job_name="health.refresh", tenant=tenant_a, day=TODAY, trigger="signal")
    assert outcome.status == "succeeded" and outcome.rows == 2
    assert count(PendingRefresh, tenant_a) == 0 and scheduled == ["alpha"]
