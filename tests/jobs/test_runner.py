from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from csplatform.jobs import registry
from csplatform.jobs.models import JobRun, TableVolume
from csplatform.jobs.services import job_run, nightly_enqueue
from csplatform.tenancy.context import tenant_context

DAY = date(2026, 11, 2)


def _runs(tenant):
    with tenant_context(tenant):
        return list(JobRun.objects.order_by("id").values("job", "day", "status", "rows_written", "error"))


@pytest.fixture
def failing_job():
    def explode(*, tenant, day):
        if tenant.slug == "alpha":
            TableVolume.objects.create(day=day, table_name="half-written", row_count=1)
            raise RuntimeError("upstream data is broken")
        return 7

    job = registry.Job(name="test.explode", func=explode, order=1)
    registry.register(job)
    yield job
    registry.unregister(job.name)


def test_it_records_a_successful_run_with_its_row_count(tenant_a):
    outcome = job_run(job_name="platform.table_volume", tenant=tenant_a, day=DAY)
    assert outcome.status == "succeeded"
    [run] = _runs(tenant_a)
    assert run["status"] == "succeeded" and run["day"] == DAY and run["rows_written"] == outcome.rows


def test_it_records_the_error_and_traceback_and_keeps_nothing_half_written(tenant_a, failing_job):
    outcome = job_run(job_name="test.explode", tenant=tenant_a, day=DAY)
    assert outcome.status == "failed"
    with tenant_context(tenant_a):
        run = JobRun.objects.get()
        assert run.error == "RuntimeError: upstream data is broken"
        assert "Traceback" in run.traceback and "explode" in run.traceback
        assert run.finished_at is not None
        assert not TableVolume.objects.filter(table_name="half-written").exists()


def test_a_failing_tenant_does_not_stop_the_others(tenant_a, tenant_b, failing_job):
    nightly_enqueue(day=DAY, tenant_ids=[tenant_a.pk, tenant_b.pk])
    for _, callback, _ in connection.run_on_commit:  # what the commit would send to Celery
        callback()
    connection.run_on_commit.clear()
    assert [r["status"] for r in _runs(tenant_a) if r["job"] == "test.explode"] == ["failed"]
    assert [r["status"] for r in _runs(tenant_b) if r["job"] == "test.explode"] == ["succeeded"]
    assert {r["job"] for r in _runs(tenant_b)} == {job.name for job in registry.nightly_jobs()}
    assert {"test.explode", "platform.table_volume"} <= {r["job"] for r in _runs(tenant_b)}


def test_run_nightly_prints_a_line_per_tenant(tenant_a, tenant_b):
    out = StringIO()
    call_command("run_nightly", "--date", "2026-11-02", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Nightly run for 2026-11-02: 2 tenant(s)")
    assert lines[1].startswith("[1/2] alpha: ") and "platform.table_volume succeeded" in lines[1]
    assert lines[2].startswith("[2/2] bravo: ") and "failed" not in lines[2]
    assert _runs(tenant_a)[0]["day"] == DAY


def test_run_nightly_can_target_one_tenant(tenant_a, tenant_b):
    call_command("run_nightly", "--tenant", "bravo", stdout=StringIO())
    assert _runs(tenant_a) == [] and len(_runs(tenant_b)) == len(registry.nightly_jobs())


def test_run_nightly_reports_failures_and_exits_non_zero(tenant_a, tenant_b, failing_job):
    out = StringIO()
    with pytest.raises(CommandError, match="1 job run"):
        call_command("run_nightly", "--date", "2026-11-02", stdout=out)
    assert "upstream data is broken" in out.getvalue()
    assert "[2/2] bravo: test.explode succeeded" in out.getvalue()


@pytest.mark.parametrize("args, message", [
    (["--date", "02/11/2026"], "--date must be YYYY-MM-DD"),
    (["--tenant", "nope"], "No active tenant with slug 'nope'"),
])
def test_run_nightly_rejects_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("run_nightly", *args, stdout=StringIO())


def test_running_a_job_twice_for_a_day_leaves_the_same_rows(tenant_a, tenant_b):
    from tests.factories import AccountFactory

    AccountFactory.create_batch(3, tenant=tenant_a)
    AccountFactory.create_batch(5, tenant=tenant_b)

    def volumes():
        with tenant_context(tenant_a):
            return dict(TableVolume.objects.filter(day=DAY).values_list("table_name", "row_count"))

    job_run(job_name="platform.table_volume", tenant=tenant_a, day=DAY)
    first = volumes()
    job_run(job_name="platform.table_volume", tenant=tenant_a, day=DAY)
    assert volumes() == first
    assert first["accounts_account"] == 3 and first["accounts_lifecyclestage"] == 6
    assert [r["status"] for r in _runs(tenant_a)] == ["succeeded", "succeeded"]
