from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from csplatform.tenancy.models import Tenant

from . import services


@shared_task
def nightly_fan_out(day: str | None = None) -> int:
    """Celery beat's entry point: one `run_nightly_for_tenant` task per active tenant."""
    return services.nightly_enqueue(day=date.fromisoformat(day) if day else timezone.localdate())


# A lost database connection (PostgreSQL restarting) fails the attempt: job_run records it "failed" once the
# database answers and re-raises. The jobs are idempotent, so the task is sent again a few seconds later (backing
# off up to a minute) and reruns the tenant's jobs; an attempt that could not even be recorded is marked
# "interrupted" by the next one.
RETRY_ON_DATABASE_LOSS = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 2,
                          "retry_backoff_max": 60, "max_retries": 6}


@shared_task(**RETRY_ON_DATABASE_LOSS)
def run_nightly_for_tenant(tenant_id: int, day: str, trigger: str = "schedule") -> list[str]:
    tenant = Tenant.objects.get(pk=tenant_id)
    outcomes = services.nightly_run_for_tenant(tenant=tenant, day=date.fromisoformat(day), trigger=trigger)
    return [f"{o.job}: {o.status}" for o in outcomes]


@shared_task(**RETRY_ON_DATABASE_LOSS)
def run_job_for_tenant(job_name: str, tenant_id: int, day: str, trigger: str = "schedule") -> str:
    tenant = Tenant.objects.get(pk=tenant_id)
    return services.job_run(job_name=job_name, tenant=tenant, day=date.fromisoformat(day), trigger=trigger).status
