from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from csplatform.jobs.services import job_run
from csplatform.tenancy.models import Tenant


@shared_task
def restate_history(tenant_id: int, days: int, trigger: str = "restate") -> int:
    """Recomputes the last `days` days of scores, oldest first; one JobRun per day."""
    tenant = Tenant.objects.get(pk=tenant_id, is_active=True)
    today = timezone.localdate()
    for offset in range(days - 1, -1, -1):
        job_run(job_name="health.scores", tenant=tenant, day=today - timedelta(days=offset), trigger=trigger)
    return days
