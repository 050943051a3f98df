from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from health.models import Measure, Scorecard
from health.recompute import scores_compute
from tests.factories import AccountFactory

TODAY = timezone.localdate()


@pytest.fixture
def account(tenant_a, csm):
    return AccountFactory(tenant=tenant_a, csm=csm, name="Initech", licensed_seats=10)


@pytest.fixture
def foreign_account(tenant_b):
    return AccountFactory(tenant=tenant_b, name="Bravo Secret Customer")


def use_measures(tenant, *measures):
    """Replaces the tenant's default scorecard measures: each (kind, weight, red, green[, window])."""
    with tenant_context(tenant):
        card = Scorecard.objects.get(is_default=True)
        card.measures.all().delete()
        for i, (kind, weight, red, green, *window) in enumerate(measures):
            Measure.objects.create(
                scorecard=card, kind=kind, weight=Decimal(weight), red_threshold=Decimal(red),
                green_threshold=Decimal(green), window_days=window[0] if window else 30, position=i,
                direction="higher" if green > red else "lower")
        return card


def compute(tenant, day=None, **kwargs):
    with tenant_context(tenant):
        return scores_compute(tenant=tenant, day=day or TODAY, **kwargs)


def days_ago(n):
    return TODAY - timedelta(days=n)
