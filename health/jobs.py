from django.conf import settings
from django.db.models import Max

from csplatform.jobs.registry import nightly_job

from .alerts import alerts_update
from .models import PendingRefresh
from .partitions import usage_retention_enforce
from .recompute import portfolio_rollup, scores_compute
from .services import health_defaults_ensure, refresh_schedule


@nightly_job("health.usage_retention", order=15)
def enforce_usage_retention(*, tenant, day) -> int:
    """Usage rows past USAGE_RETENTION_DAYS go (whole months by dropping their partition); next months' partitions
    are created ahead."""
    return usage_retention_enforce(tenant=tenant, day=day, retention_days=settings.USAGE_RETENTION_DAYS)


@nightly_job("health.scores", order=20)
def compute_scores(*, tenant, day) -> int:
    """Every active account's score for the day, and the dashboard's band counts."""
    health_defaults_ensure()  # tenants created before the health app get theirs on the first night
    rows = scores_compute(tenant=tenant, day=day)
    portfolio_rollup(tenant=tenant, day=day)
    return rows


@nightly_job("health.alerts", order=25)
def open_and_close_alerts(*, tenant, day) -> int:
    return alerts_update(tenant=tenant, day=day)


@nightly_job("health.refresh", order=26)
def refresh_pending(*, tenant, day) -> int:
    """Rescores the accounts whose signals changed (queued by services.refresh_soon), then their alerts.
    Also in the nightly set, where it drains whatever a lost task left behind."""
    upto = PendingRefresh.objects.aggregate(last=Max("queued_at"))["last"]
    if upto is None:
        return 0
    pending = PendingRefresh.objects.filter(queued_at__lte=upto)
    account_ids = sorted(pending.values_list("account_id", flat=True))
    pending.delete()
    rows = scores_compute(tenant=tenant, day=day, account_ids=account_ids)
    portfolio_rollup(tenant=tenant, day=day)
    alerts_update(tenant=tenant, day=day, account_ids=account_ids)
    if PendingRefresh.objects.exists():  # marks that arrived while this ran
        refresh_schedule(tenant=tenant)
    return rows
