"""The fan-out through a real Celery worker process and Redis, as production runs it."""

import os
import subprocess
import sys
import time
import uuid
from datetime import date

import pytest
from django.conf import settings
from django.db import connection

from csplatform import celery_app
from csplatform.jobs.models import JobRun
from csplatform.jobs.registry import nightly_jobs
from csplatform.tenancy.context import tenant_context

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_url():
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL or start Redis on 127.0.0.1:6379 (make test finds it)")
    return settings.REDIS_URL


@pytest.fixture
def worker(redis_url):
    """A `celery worker` on its own queue, connected to this test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "--pool=solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = redis_url
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = eager, broker
        process.terminate()
        process.wait(timeout=20)


def test_the_nightly_fan_out_runs_one_task_per_tenant_in_a_worker(tenant_a, tenant_b, worker):
    from csplatform.jobs.tasks import run_nightly_for_tenant

    day = date(2026, 11, 3)
    for tenant in (tenant_a, tenant_b):
        run_nightly_for_tenant.apply_async((tenant.pk, day.isoformat(), "schedule"), queue=worker)

    deadline = time.monotonic() + 60
    finished = {}
    while time.monotonic() < deadline:
        for tenant in (tenant_a, tenant_b):
            with tenant_context(tenant):
                finished[tenant.slug] = list(JobRun.objects.filter(day=day).values_list("status", flat=True))
        done = [s for statuses in finished.values() for s in statuses if s != "running"]
        if len(done) == 2 * len(nightly_jobs()):
            break
        time.sleep(0.5)
    every_job_succeeded = ["succeeded"] * len(nightly_jobs())
    assert finished == {"alpha": every_job_succeeded, "bravo": every_job_succeeded}
