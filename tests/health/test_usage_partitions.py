"""Usage rows in monthly partitions: kept within the retention, dropped a month at a time past it, and out of
the runtime role's direct reach (it only sees them through the parents' tenant policy)."""

import os
from datetime import timedelta

import psycopg2
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg2 import errors

from csplatform.tenancy.context import tenant_context
from health.jobs import enforce_usage_retention
from health.models import UsageDaily, UsageKey
from health.partitions import PARENTS, partitions_maintain
from tests.factories import AccountFactory

from .test_ingest import event, send

pytestmark = pytest.mark.postgres

TODAY = timezone.localdate()
RETENTION = settings.USAGE_RETENTION_DAYS


def partitions(parent="health_usagedaily"):
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                       " WHERE i.inhparent = %s::regclass ORDER BY 1", [parent])
        return [row[0] for row in cursor.fetchall()]


def month_name(parent, day):
    return f"{parent}_{day:%Y%m}"


def where_is(tenant, day):
    """The partition holding the tenant's usage row of that day."""
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM health_usagedaily WHERE day = %s", [day])
        return cursor.fetchone()[0]


def retention_run(tenant, day=TODAY):
    with tenant_context(tenant):
        return enforce_usage_retention(tenant=tenant, day=day)


def add_usage(tenant, account, *days):
    with tenant_context(tenant):
        for day in days:
            UsageDaily.objects.create(account=account, day=day, events=3)
            UsageKey.objects.create(account=account, day=day, kind="u", key="ann")


@pytest.fixture
def account(tenant_a):
    return AccountFactory(tenant=tenant_a)


def test_it_partitions_usage_by_month_with_the_next_months_ready(db):
    for parent in PARENTS:
        names = partitions(parent)
        assert f"{parent}_default" in names
        for months_ahead in range(4):
            month = (TODAY.replace(day=1) + timedelta(days=32 * months_ahead)).replace(day=1)
            assert month_name(parent, month) in names


def test_it_deletes_usage_past_the_retention_and_keeps_the_rest(tenant_a, tenant_b, account):
    cutoff = TODAY - timedelta(days=RETENTION)
    foreign = AccountFactory(tenant=tenant_b)
    add_usage(tenant_a, account, cutoff - timedelta(days=1), cutoff, TODAY - timedelta(days=1))
    add_usage(tenant_b, foreign, cutoff - timedelta(days=1))

    assert retention_run(tenant_a) == 2  # the usage row and its key

    with tenant_context(tenant_a):
        assert sorted(UsageDaily.objects.values_list("day", flat=True)) == [cutoff, TODAY - timedelta(days=1)]
        assert sorted(UsageKey.objects.values_list("day", flat=True)) == [cutoff, TODAY - timedelta(days=1)]
    assert retention_run(tenant_a) == 0
    with tenant_context(tenant_b):  # another tenant's rows wait for that tenant's own run
        assert UsageDaily.objects.count() == 1


def test_it_drops_whole_months_past_the_retention(tenant_a, account):
    old_day = TODAY - timedelta(days=RETENTION + 120)
    partitions_maintain(today=TODAY - timedelta(days=200), retention_days=RETENTION)  # months back to old_day
    assert month_name("health_usagedaily", old_day) in partitions()
    add_usage(tenant_a, account, old_day)
    assert where_is(tenant_a, old_day) == f"usage_partitions.{month_name('health_usagedaily', old_day)}"

    retention_run(tenant_a)

    cutoff_month = (TODAY - timedelta(days=RETENTION)).replace(day=1)
    for parent in PARENTS:
        kept_months = [name[-6:] for name in partitions(parent) if not name.endswith("_default")]
        assert min(kept_months) == f"{cutoff_month:%Y%m}"
    with tenant_context(tenant_a):
        assert not UsageDaily.objects.filter(day=old_day).exists()


def test_a_row_outside_the_monthly_partitions_waits_in_the_default_one_and_moves_to_its_month(tenant_a, account):
    far = TODAY + timedelta(days=200)
    add_usage(tenant_a, account, far)
    assert where_is(tenant_a, far) == "usage_partitions.health_usagedaily_default"

    partitions_maintain(today=far, retention_days=RETENTION)

    assert where_is(tenant_a, far) == f"usage_partitions.{month_name('health_usagedaily', far)}"
    with tenant_context(tenant_a):
        assert UsageDaily.objects.get(day=far).events == 3


def test_it_refuses_a_retention_cut_off_less_than_90_days_ago(db):
    with pytest.raises(DatabaseError, match="less than 90 days ago"):
        with transaction.atomic():
            partitions_maintain(today=TODAY, retention_days=30)


def test_ingest_refuses_usage_older_than_the_retention(ops_api, tenant_a, account):
    too_old = TODAY - timedelta(days=RETENTION + 1)
    response = send(ops_api, [event(account, too_old)])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "field": "occurred_at", "error": f"Older than the {RETENTION}-day usage retention."}]
    with tenant_context(tenant_a):
        assert not UsageDaily.objects.exists()


def test_the_runtime_role_cannot_read_a_partition_directly(db):
    role = settings.DATABASE_RUNTIME_ROLE
    db_settings = connection.settings_dict
    try:
        conn = psycopg2.connect(host=db_settings["HOST"], port=db_settings["PORT"], dbname=db_settings["NAME"],
                                user=role, password=os.environ.get("APP_DB_RUNTIME_PASSWORD", "csplatform_app"))
    except psycopg2.OperationalError as exc:
        pytest.skip(f"the runtime role {role!r} cannot connect (scripts/pg_bootstrap.py creates it): {exc}")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for name in (f"health_usagedaily_{TODAY:%Y%m}", "health_usagekey_default"):
                with pytest.raises(errors.InsufficientPrivilege):
                    cursor.execute(f"SELECT count(*) FROM usage_partitions.{name}")
            with pytest.raises(errors.InsufficientPrivilege):
                cursor.execute("DROP TABLE usage_partitions.health_usagekey_default")
    finally:
        conn.close()
