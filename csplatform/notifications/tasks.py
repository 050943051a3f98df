from datetime import datetime

from celery import shared_task
from django.utils import timezone

from csplatform.jobs.queue import publish_on_commit
from csplatform.jobs.services import active_tenants
from csplatform.jobs.tasks import RETRY_ON_DATABASE_LOSS
from csplatform.tenancy.models import Tenant

from .digests import digests_send_due


@shared_task
def digests_fan_out(at: str | None = None) -> int:
    """Celery beat's hourly entry point: one `send_digests_for_tenant` task per active tenant, all judged at the
    same instant (the beat's), so a slow queue does not move anyone past their local 07:00."""
    at = at or timezone.now().isoformat()
    ids = list(active_tenants().values_list("pk", flat=True))
    for tenant_id in ids:
        publish_on_commit(send_digests_for_tenant, (tenant_id, at))
    return len(ids)


# Retried like the nightly jobs when the database goes away: each digest is claimed once, so a rerun sends only
# what the lost attempt had not.
@shared_task(**RETRY_ON_DATABASE_LOSS)
def send_digests_for_tenant(tenant_id: int, at: str) -> dict[str, int]:
    tenant = Tenant.objects.get(pk=tenant_id)
    return digests_send_due(tenant=tenant, at=datetime.fromisoformat(at))
