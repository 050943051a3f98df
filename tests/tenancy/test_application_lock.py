import pytest

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import (
    CrossTenantWrite,
    NoTenantSelected,
    current_tenant_or_none,
    tenant_context,
)
from tests.factories import JobRunFactory


def test_it_refuses_to_query_without_a_tenant(tenant_a):
    JobRunFactory(tenant=tenant_a)
    with pytest.raises(NoTenantSelected, match="tenant_context"):
        list(JobRun.objects.all())


def test_it_refuses_to_save_without_a_tenant(db):
    with pytest.raises(NoTenantSelected):
        JobRun(job="x", day="2026-01-01", started_at="2026-01-01T00:00Z").save()


def test_it_returns_only_the_current_tenants_rows(tenant_a, tenant_b):
    mine = JobRunFactory(tenant=tenant_a)
    JobRunFactory(tenant=tenant_b)
    with tenant_context(tenant_a):
        assert list(JobRun.objects.all()) == [mine]
        assert not JobRun.objects.filter(tenant=tenant_b).exists()


def test_it_fills_the_tenant_from_the_context(tenant_a):
    with tenant_context(tenant_a):
        run = JobRun.objects.create(job="x", day="2026-01-01", started_at="2026-01-01T00:00Z")
    assert run.tenant_id == tenant_a.pk


def test_it_refuses_to_save_another_tenants_row(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        with pytest.raises(CrossTenantWrite):
            JobRun(tenant=tenant_b, job="x", day="2026-01-01", started_at="2026-01-01T00:00Z").save()
        with pytest.raises(CrossTenantWrite):
            JobRun.objects.bulk_create(
                [JobRun(tenant=tenant_b, job="x", day="2026-01-01", started_at="2026-01-01T00:00Z")]
            )


def test_it_restores_the_outer_tenant_after_a_nested_context(tenant_a, tenant_b):
    JobRunFactory(tenant=tenant_a)
    with tenant_context(tenant_a):
        with tenant_context(tenant_b):
            assert JobRun.objects.count() == 0
        assert current_tenant_or_none() == tenant_a
        assert JobRun.objects.count() == 1
    assert current_tenant_or_none() is None


def test_it_resets_the_context_when_the_block_raises(tenant_a):
    with pytest.raises(ZeroDivisionError):
        with tenant_context(tenant_a):
            raise ZeroDivisionError
    assert current_tenant_or_none() is None
