import logging
import time
import traceback as tb
from dataclasses import dataclass
from datetime import date

from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant

from .models import JobRun
from .queue import publish_on_commit
from .registry import get_job, nightly_jobs

logger = logging.getLogger(__name__)


class AlreadyRunning(Exception):
    pass


@dataclass
class JobOutcome:
    job: str
    status: str
    rows: int | None
    seconds: float
    error: str = ""


# A worker that dies mid-job (SIGKILL, OOM) leaves its PostgreSQL session behind, still holding the job's lock and
# uncommitted writes until the server notices. PostgreSQL checks the client socket this often during the job's
# statements (even while one waits on a lock) and then rolls the transaction back.
CLIENT_CHECK_INTERVAL = "2s"
# How long an attempt waits for the lock before recording "skipped". Longer than the check above, so the task
# redelivered after a worker died takes over from the dead session instead of skipping.
LOCK_WAIT_SECONDS = 10
LOCK_POLL_SECONDS = 0.25


def job_lock_key(job_name: str, tenant_id: int, day: date) -> str:
    """The advisory lock's key (`pg_advisory_xact_lock(hashtext(key))`)."""
    return f"{job_name}:{tenant_id}:{day}"


def _hold_job_lock(job_name: str, tenant_id: int, day: date) -> None:
    """Only one worker computes a (job, tenant, day) at a time; the lock ends with the transaction."""
    if connection.vendor != "postgresql":
        return
    key = job_lock_key(job_name, tenant_id, day)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('client_connection_check_interval', %s, true)", [CLIENT_CHECK_INTERVAL])
        while True:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [key])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                raise AlreadyRunning(f"{job_name} for tenant {tenant_id} on {day} is running elsewhere")
            time.sleep(LOCK_POLL_SECONDS)


def _connection_lost(error: Exception, session) -> bool:
    """The job failed because its database session went away (PostgreSQL restarted, the session was ended):
    Django drops a connection whose rollback failed and opens another one, so `session` is no longer current."""
    return isinstance(error, (OperationalError, InterfaceError)) and connection.connection is not session


def _finish(run_id: int, **fields) -> None:
    JobRun.objects.filter(pk=run_id, status=JobRun.Status.RUNNING).update(finished_at=timezone.now(), **fields)


def job_run(*, job_name: str, tenant: Tenant, day: date, trigger: str = "schedule") -> JobOutcome:
    """Runs one job for one tenant and day and records it as a JobRun.

    The JobRun row is committed first (so a killed worker leaves a visible "running" attempt), the
    job's writes happen in one transaction of their own, and the outcome is recorded afterwards. A
    failure is recorded with its traceback and returned, not raised, so the other tenants go on; except a
    lost database connection, which is raised after it is recorded, so the task is retried.
    """
    job = get_job(job_name)
    started = time.monotonic()
    with tenant_context(tenant):
        run = JobRun.objects.create(job=job.name, day=day, started_at=timezone.now(), trigger=trigger)
    session = connection.connection
    try:
        with tenant_context(tenant):
            _hold_job_lock(job.name, tenant.pk, day)
            # We hold the lock, so older attempts still marked running belong to dead workers.
            JobRun.objects.filter(job=job.name, day=day, status=JobRun.Status.RUNNING, pk__lt=run.pk).update(
                status=JobRun.Status.INTERRUPTED, finished_at=timezone.now()
            )
            rows = job.func(tenant=tenant, day=day)
    except AlreadyRunning as exc:
        with tenant_context(tenant):
            _finish(run.pk, status=JobRun.Status.SKIPPED, error=str(exc))
        return JobOutcome(job.name, JobRun.Status.SKIPPED, None, time.monotonic() - started, str(exc))
    except Exception as exc:
        logger.exception("Job %s failed for tenant %s on %s", job.name, tenant.slug, day)
        lost = _connection_lost(exc, session)
        with tenant_context(tenant):
            _finish(run.pk, status=JobRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                    traceback=tb.format_exc())
        if lost:
            # Not the job's fault: the Celery task retries (csplatform.jobs.tasks), the jobs are idempotent.
            raise
        return JobOutcome(job.name, JobRun.Status.FAILED, None, time.monotonic() - started, str(exc))
    with tenant_context(tenant):
        _finish(run.pk, status=JobRun.Status.SUCCEEDED, rows_written=rows or 0)
    return JobOutcome(job.name, JobRun.Status.SUCCEEDED, rows or 0, time.monotonic() - started)


def nightly_run_for_tenant(*, tenant: Tenant, day: date, trigger: str = "schedule") -> list[JobOutcome]:
    """Every nightly job in order. A failed job does not stop the later ones (each records its own run)."""
    return [job_run(job_name=job.name, tenant=tenant, day=day, trigger=trigger) for job in nightly_jobs()]


def active_tenants(slug: str | None = None):
    tenants = Tenant.objects.filter(is_active=True).order_by("slug")
    return tenants.filter(slug=slug) if slug else tenants


def nightly_enqueue(*, day: date, tenant_ids=None, trigger: str = "schedule") -> int:
    """Fans the nightly set out as one Celery task per tenant, sent once the caller's transaction commits.

    With the broker down the tasks are not sent (logged, csplatform.jobs.queue): the next night runs them."""
    from .tasks import run_nightly_for_tenant

    ids = list(tenant_ids) if tenant_ids is not None else list(active_tenants().values_list("pk", flat=True))
    for tenant_id in ids:
        publish_on_commit(run_nightly_for_tenant, (tenant_id, day.isoformat(), trigger))
    return len(ids)


def job_enqueue(*, job_name: str, day: date, trigger: str = "schedule") -> int:
    """Fans one job out as one Celery task per active tenant."""
    from .tasks import run_job_for_tenant

    get_job(job_name)
    ids = list(active_tenants().values_list("pk", flat=True))
    for tenant_id in ids:
        publish_on_commit(run_job_for_tenant, (job_name, tenant_id, day.isoformat(), trigger))
    return len(ids)
