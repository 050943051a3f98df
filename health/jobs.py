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
    Also in the nightly set, where it drains whatever a lost task left behind.

    The marks are only read until the very end: deleting them first would hold their row locks for the whole
    recompute, and every usage batch marking one of those accounts would wait for it. A mark touched after the
    start survives the final delete (PostgreSQL rechecks the condition on a row updated meanwhile) and is
    rescored by the next run."""
    upto = PendingRefresh.objects.aggregate(last=Max("touched_at"))["last"]
    if upto is None:
        return 0
    account_ids = sorted(PendingRefresh.objects.filter(touched_at__lte=upto).values_list("account_id", flat=True))
    rows = scores_compute(tenant=tenant, day=day, account_ids=account_ids)
    portfolio_rollup(tenant=tenant, day=day)
    alerts_update(tenant=tenant, day=day, account_ids=account_ids)
    PendingRefresh.objects.filter(touched_at__lte=upto).delete()
    if PendingRefresh.objects.exists():  # marks that arrived or were touched while this ran
        refresh_schedule(tenant=tenant)
    return rows
