from django.db import connection
from django.test.utils import CaptureQueriesContext

from csplatform.jobs.models import JobRun
from csplatform.jobs.registry import nightly_jobs
from csplatform.tenancy.context import tenant_context
from tests.factories import JobRunFactory


def test_it_lists_the_tenants_job_runs_for_ops(client, tenant_a, tenant_b, owner):
    JobRunFactory(tenant=tenant_a, status=JobRun.Status.FAILED, error="ValueError: bad row", job="alpha.job")
    JobRunFactory(tenant=tenant_b, job="bravo.job")
    client.force_login(owner)
    response = client.get("/t/alpha/ops/jobs/")
    assert response.status_code == 200
    assert b"alpha.job" in response.content and b"ValueError: bad row" in response.content
    assert b"bravo.job" not in response.content


def test_it_filters_by_status(client, tenant_a, owner):
    JobRunFactory(tenant=tenant_a, status=JobRun.Status.FAILED, job="broken.job")
    JobRunFactory(tenant=tenant_a, status=JobRun.Status.SUCCEEDED, job="fine.job")
    client.force_login(owner)
    response = client.get("/t/alpha/ops/jobs/?status=failed")
    assert b"broken.job" in response.content and b"fine.job" not in response.content


def test_it_forbids_the_jobs_page_to_a_csm(client, tenant_a, teammate):
    client.force_login(teammate)
    assert client.get("/t/alpha/ops/jobs/").status_code == 403


def test_it_shows_a_failed_runs_traceback(client, tenant_a, owner):
    run = JobRunFactory(tenant=tenant_a, status=JobRun.Status.FAILED, traceback="Traceback (most recent call last)")
    client.force_login(owner)
    response = client.get(f"/t/alpha/ops/jobs/{run.pk}/")
    assert b"Traceback (most recent call last)" in response.content


def test_it_runs_the_nightly_jobs_on_demand(client, tenant_a, tenant_b, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/t/alpha/ops/jobs/run-now/")
    assert response.status_code == 302
    with tenant_context(tenant_a):
        runs = set(JobRun.objects.values_list("job", "status", "trigger"))
    assert runs == {(job.name, "succeeded", "manual") for job in nightly_jobs()}
    with tenant_context(tenant_b):
        assert not JobRun.objects.exists()
    assert ("platform.table_volume", "succeeded", "manual") in runs


def test_it_lets_only_ops_run_jobs_on_demand(client, tenant_a, teammate):
    client.force_login(teammate)
    assert client.post("/t/alpha/ops/jobs/run-now/").status_code == 403


def test_the_page_query_count_does_not_grow_with_the_runs(client, tenant_a, owner):
    client.force_login(owner)
    JobRunFactory.create_batch(2, tenant=tenant_a)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/t/alpha/ops/jobs/").status_code == 200
    JobRunFactory.create_batch(40, tenant=tenant_a)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/t/alpha/ops/jobs/").status_code == 200
    assert len(many) == len(few)
