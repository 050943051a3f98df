"""The stored GRR/NRR trend: written by the nightly forecast job per (CSM, segment) and summed by the forecast
page; the same figures as the statement over the contracts, for every filter, and one day's rows replaced on
rerun."""

from datetime import date
from decimal import Decimal

import pytest

from csplatform.jobs.registry import get_job
from csplatform.tenancy.context import tenant_context
from renewals.models import RetentionQuarter
from renewals.retention import retention_by_quarter
from renewals.retention_trend import retention_trend, retention_trend_store

from .test_retention import build_example_1, figures

DAY = date(2026, 5, 15)  # Q2 2026 to date; the trend runs back to Q3 2024


@pytest.fixture
def example_1(tenant_a, csm, other_csm):
    return build_example_1(tenant_a, csm, other_csm)


def trend(tenant, **kwargs):
    with tenant_context(tenant):
        return [(q.start, figures(row), row.churned_accounts, row.new_accounts)
                for q, row in retention_trend(tenant=tenant, upto=DAY, **kwargs)]


def live(tenant, **kwargs):
    with tenant_context(tenant):
        return [(q.start, figures(row), row.churned_accounts, row.new_accounts)
                for q, row in retention_by_quarter(tenant=tenant, quarters=8, upto=DAY, **kwargs)]


def store(tenant, day=DAY):
    with tenant_context(tenant):
        return retention_trend_store(tenant=tenant, day=day)


def test_it_sums_the_stored_rows_to_the_figures_of_the_contracts_for_every_filter(
        tenant_a, example_1, csm, other_csm):
    assert store(tenant_a) > 0
    for kwargs in ({}, {"csm_ids": [csm.pk]}, {"csm_ids": [other_csm.pk]}, {"csm_ids": [csm.pk, other_csm.pk]},
                   {"segment_ids": [example_1["enterprise"].pk]}, {"segment_ids": [example_1["mid_market"].pk]},
                   {"csm_ids": [csm.pk], "segment_ids": [example_1["mid_market"].pk]}, {"csm_ids": []}):
        assert trend(tenant_a, **kwargs) == live(tenant_a, **kwargs), kwargs
    q1 = dict((start, f) for start, f, *_ in trend(tenant_a))[date(2026, 1, 1)]
    assert q1[-2:] == (Decimal("87.5"), Decimal("91.7"))  # example 1 of docs/metrics.md


def test_it_reads_the_stored_rows_only_once_the_job_has_written_the_day(tenant_a, example_1, django_assert_num_queries):
    with tenant_context(tenant_a):
        with django_assert_num_queries(2):  # "stored?" and the contracts statement
            retention_trend(tenant=tenant_a, upto=DAY)
    store(tenant_a)
    with tenant_context(tenant_a), django_assert_num_queries(2):  # "stored?" and the sums
        retention_trend(tenant=tenant_a, upto=DAY)


def test_the_nightly_forecast_job_writes_the_day_and_a_rerun_replaces_it(tenant_a, tenant_b, example_1):
    job = get_job("renewals.forecast")
    for _ in range(2):
        with tenant_context(tenant_a):
            job.func(tenant=tenant_a, day=DAY)
    with tenant_context(tenant_a):
        rows = RetentionQuarter.objects.filter(day=DAY)
        assert rows.count() == RetentionQuarter.objects.count() > 0
        assert len({(r.quarter_start, r.csm_id, r.segment_id) for r in rows}) == rows.count()
    with tenant_context(tenant_b):
        assert not RetentionQuarter.objects.exists()
        assert trend(tenant_b) == live(tenant_b)  # another tenant's stored rows are not its own


def test_it_keeps_a_week_of_days(tenant_a, example_1):
    store(tenant_a, date(2026, 5, 1))
    store(tenant_a, date(2026, 5, 8))
    store(tenant_a, DAY)
    with tenant_context(tenant_a):
        assert sorted(set(RetentionQuarter.objects.values_list("day", flat=True))) == [date(2026, 5, 8), DAY]
