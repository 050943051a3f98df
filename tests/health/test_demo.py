"""The demo health data (health/demo.py), as `manage.py seed_demo` creates it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant
from health.models import HealthAlert, HealthScore, PortfolioHealthDaily, SentimentPulse, SupportTicket, UsageDaily


@pytest.fixture
def seeded(demo_tenants, db):
    return {t.slug: t for t in Tenant.objects.all()}


def test_it_gives_every_demo_tenant_scored_history_in_every_band_and_open_recovery_work(seeded, settings):
    today = timezone.localdate()
    for tenant in seeded.values():
        with tenant_context(tenant):
            days = set(HealthScore.objects.values_list("day", flat=True))
            assert days == {today - timedelta(days=n) for n in range(settings.DEMO_SCORE_HISTORY_DAYS)}
            bands = set(HealthScore.objects.filter(day=today).values_list("band", flat=True))
            assert {"green", "yellow"} <= bands, bands
            assert HealthScore.objects.filter(band="red").exists()
            assert PortfolioHealthDaily.objects.filter(day=today).exists()
            open_alerts = HealthAlert.objects.filter(closed_on__isnull=True)
            assert open_alerts.exists() and not open_alerts.filter(task__isnull=True).exists()
            assert UsageDaily.objects.filter(day=today - timedelta(days=179)).exists()
            assert SupportTicket.objects.filter(closed_at__isnull=True, priority__in=["high", "urgent"]).exists()
            assert SentimentPulse.objects.exists()
            assert set(JobRun.objects.filter(job__startswith="health.").values_list("status", flat=True)) == {
                "succeeded"}


def test_it_seeds_health_once(seeded):
    with tenant_context(seeded["acme"]):
        before = (UsageDaily.objects.count(), HealthAlert.objects.count(), SupportTicket.objects.count())
    call_command("seed_demo", stdout=StringIO())
    with tenant_context(seeded["acme"]):
        assert (UsageDaily.objects.count(), HealthAlert.objects.count(), SupportTicket.objects.count()) == before
