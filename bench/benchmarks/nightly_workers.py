"""The whole nightly run of every book tenant through real Celery workers: wall time with one worker process and
with two, as production fans it out (one `run_nightly_for_tenant` task per tenant on Redis).

Each pass enqueues the 50 tenants' tasks for the day before the book's last and waits until every job of every
tenant has recorded a finished JobRun; the jobs are idempotent per (tenant, day), so every pass does the same
work. The worker is `celery worker --pool=prefork --concurrency=N` on its own queue, started before the clock starts.
Figure: the speed-up of two processes over one (the median of the per-round ratios). There is no PostgreSQL
floor: the point is how the fan-out scales on this 2-core machine, where the workers share the cores with
PostgreSQL.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection

from csplatform import celery_app
from csplatform.jobs.models import JobRun
from csplatform.jobs.registry import nightly_jobs
from csplatform.jobs.tasks import run_nightly_for_tenant
from csplatform.tenancy.context import tenant_context

from ..runner import BenchContext, median, result

NAME = "nightly_workers"
WHAT = "Nightly run of every tenant through Celery: speed-up of two worker processes over one"
TARGET_SPEEDUP = 1.6
TRIGGER = "bench"
PASS_TIMEOUT_S = 1800
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def run(ctx: BenchContext) -> dict:
    # The day before the book's last: its health scores exist already (the health benchmark keeps the last day
    # unscored for itself), so the passes restate a day and leave the other benchmarks' conditions as they were.
    tenants, day = ctx.tenants, ctx.end - timedelta(days=1)
    jobs = len(nightly_jobs())
    rounds = max(1, min(ctx.repeat, 2))
    ctx.out(f"  {NAME}: {len(tenants)} tenants x {jobs} jobs, day {day}, 1 and 2 worker processes, "
            f"{rounds} round(s) after a warm-up")
    walls: dict[int, list[float]] = {1: [], 2: []}
    for round_no in range(rounds + 1):
        for processes in (1, 2):
            if round_no == 0 and processes == 1:
                continue  # the warm-up pass runs with two processes
            seconds = _pass(tenants, day, processes)
            ctx.out(f"    {'warm-up' if round_no == 0 else f'round {round_no}'}: {processes} process(es) "
                    f"{seconds:.1f} s")
            if round_no:
                walls[processes].append(seconds)
    speedups = [one / two for one, two in zip(walls[1], walls[2], strict=True)]
    speedup = median(speedups)
    one, two = median(walls[1]), median(walls[2])
    busiest = _job_seconds(tenants, day)
    return result(
        name=NAME, what=WHAT, value=round(speedup, 2), unit="x", floor=None, ratio=None,
        target=f"speed-up of at least {TARGET_SPEEDUP:g}x", met=speedup >= TARGET_SPEEDUP,
        note=("Every book tenant's nightly run (all registered jobs, in order, per tenant) enqueued as one Celery "
              "task per tenant on Redis and run by `celery worker --pool=prefork --concurrency=N` (N = 1, then "
              "2), timed from the enqueue to the last finished JobRun. Jobs are idempotent per tenant and day, so "
              "every pass does the same work. One process keeps about one core busy (its Python and its "
              "PostgreSQL backend take turns); two keep both cores of this machine busy, so the speed-up comes "
              "close to 2x and a third process would add nothing here. Tenants are independent, so with more "
              "cores (or the database on its own machine) the fan-out scales with worker processes until "
              "PostgreSQL saturates. The job times below show where the night goes."),
        details={
            "one process (s)": ", ".join(f"{x:.1f}" for x in walls[1]),
            "two processes (s)": ", ".join(f"{x:.1f}" for x in walls[2]),
            "median wall time": f"{one:.1f} s with one process, {two:.1f} s with two",
            "time per job, summed over tenants (last pass)": busiest,
            "cpus": os.cpu_count(),
        },
    )


def _pass(tenants, day, processes: int) -> float:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(queue, processes)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    # An explicit connection to Redis, not the app's pool: an earlier benchmark in the same process may have
    # published through a pool bound to the in-memory broker (no REDIS_URL in its settings), and changing
    # broker_url afterwards does not rebind that pool, so the tasks would never reach these workers.
    connection_to_workers = celery_app.connection_for_write(REDIS_URL)
    try:
        started_at = _db_now()
        started = time.perf_counter()
        for tenant in tenants:
            run_nightly_for_tenant.apply_async((tenant.pk, day.isoformat(), TRIGGER), queue=queue,
                                               connection=connection_to_workers)
        _wait_for_every_job(tenants, day, started_at)
        return time.perf_counter() - started
    finally:
        celery_app.conf.task_always_eager = eager
        connection_to_workers.release()
        worker.terminate()
        worker.wait(timeout=60)


def _start_worker(queue: str, processes: int) -> subprocess.Popen:
    db = connection.settings_dict
    env = {**os.environ, "REDIS_URL": REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "--pool=prefork",
         f"--concurrency={processes}", "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle",
         "--loglevel=info"],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    for line in process.stdout:  # wait for "celery@host ready." so start-up is not timed
        if " ready." in line:
            break
        if time.monotonic() > deadline:
            break
    if process.poll() is not None:
        raise RuntimeError(f"The Celery worker exited with {process.returncode}: is Redis up at {REDIS_URL}?")
    # Keep draining its output so a chatty worker never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    return process


def _db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def _wait_for_every_job(tenants, day, started_at) -> None:
    expected = len(nightly_jobs())
    pending = {tenant.pk: tenant for tenant in tenants}
    deadline = time.monotonic() + PASS_TIMEOUT_S
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} tenants had not finished after {PASS_TIMEOUT_S} s")
        time.sleep(0.5)
        for tenant_id, tenant in list(pending.items()):
            with tenant_context(tenant):
                runs = JobRun.objects.filter(day=day, trigger=TRIGGER, started_at__gte=started_at)
                finished = runs.exclude(status=JobRun.Status.RUNNING).count()
                failed = list(runs.filter(status=JobRun.Status.FAILED).values_list("job", "error")[:1])
            if failed:
                raise RuntimeError(f"{tenant.slug}: {failed[0][0]} failed: {failed[0][1]}")
            if finished >= expected:
                del pending[tenant_id]


def _job_seconds(tenants, day) -> str:
    """Seconds per job summed over tenants, for the latest bench attempt of each, largest first."""
    totals: dict[str, float] = {}
    for tenant in tenants:
        with tenant_context(tenant):
            latest: dict[str, JobRun] = {}
            for run in JobRun.objects.filter(day=day, trigger=TRIGGER).exclude(finished_at=None).order_by("started_at"):
                latest[run.job] = run
        for job, run in latest.items():
            totals[job] = totals.get(job, 0.0) + (run.finished_at - run.started_at).total_seconds()
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return ", ".join(f"{job} {seconds:.1f} s" for job, seconds in ranked)
