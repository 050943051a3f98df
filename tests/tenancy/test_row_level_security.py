"""Lock 2: what PostgreSQL itself lets through, whatever the application code asks for."""

import pytest
from django.db import DatabaseError, connection, transaction

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.registry import tenant_owned_models
from csplatform.tenancy.rls import POLICY_NAME
from tests.factories import JobRunFactory

pytestmark = pytest.mark.postgres


def _set_tenant(cursor, tenant_id):
    cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id) if tenant_id else ""])


def test_it_hides_other_tenants_rows_from_raw_sql(tenant_a, tenant_b, pg_cursor):
    JobRunFactory(tenant=tenant_a, job="alpha-job")
    JobRunFactory(tenant=tenant_b, job="bravo-job")
    _set_tenant(pg_cursor, tenant_a.pk)
    pg_cursor.execute("SELECT job FROM jobs_jobrun")
    assert [row[0] for row in pg_cursor.fetchall()] == ["alpha-job"]
    pg_cursor.execute("SELECT count(*) FROM jobs_jobrun WHERE tenant_id = %s", [tenant_b.pk])
    assert pg_cursor.fetchone()[0] == 0


def test_it_returns_no_rows_without_a_tenant_setting(tenant_a, tenant_b, pg_cursor):
    JobRunFactory(tenant=tenant_a)
    JobRunFactory(tenant=tenant_b)
    _set_tenant(pg_cursor, None)
    pg_cursor.execute("SELECT count(*) FROM jobs_jobrun")
    assert pg_cursor.fetchone()[0] == 0


def test_it_refuses_to_insert_a_row_for_another_tenant(tenant_a, tenant_b, pg_cursor):
    _set_tenant(pg_cursor, tenant_a.pk)
    with pytest.raises(DatabaseError, match="row-level security"):
        with transaction.atomic():
            pg_cursor.execute(
                "INSERT INTO jobs_jobrun (tenant_id, job, day, status, started_at, error, traceback, trigger)"
                " VALUES (%s, 'x', now(), 'running', now(), '', '', 'test')",
                [tenant_b.pk],
            )


def test_it_refuses_to_move_a_row_to_another_tenant(tenant_a, tenant_b, pg_cursor):
    run = JobRunFactory(tenant=tenant_a)
    _set_tenant(pg_cursor, tenant_a.pk)
    with pytest.raises(DatabaseError, match="row-level security"):
        with transaction.atomic():
            pg_cursor.execute("UPDATE jobs_jobrun SET tenant_id = %s WHERE id = %s", [tenant_b.pk, run.pk])


def test_a_query_that_forgets_the_first_lock_still_sees_nothing_foreign(tenant_a, tenant_b):
    JobRunFactory(tenant=tenant_a)
    JobRunFactory(tenant=tenant_b)
    with tenant_context(tenant_a):
        seen = set(JobRun.dangerously_unscoped.values_list("tenant_id", flat=True))
    assert seen == {tenant_a.pk}
    assert JobRun.dangerously_unscoped.count() == 0  # no tenant set: nothing at all


def test_every_tenant_owned_table_has_forced_row_level_security_with_the_tenant_policy(db, pg_cursor):
    tables = sorted(model._meta.db_table for model in tenant_owned_models())
    assert "jobs_jobrun" in tables
    pg_cursor.execute(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.qual, p.with_check, p.cmd
        FROM pg_class c LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.policyname = %s
        WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
        """,
        [POLICY_NAME, tables],
    )
    found = {row[0]: row[1:] for row in pg_cursor.fetchall()}
    missing = [
        table for table in tables
        if table not in found
        or not (found[table][0] and found[table][1])
        or "app.tenant_id" not in (found[table][2] or "")
        or "app.tenant_id" not in (found[table][3] or "")
        or found[table][4] != "ALL"
    ]
    assert not missing, (
        f"Tenant-owned tables without forced row level security: {missing}. "
        "Add EnableTenantRowLevelSecurity('<model>') to their migration."
    )


def test_the_application_role_does_not_bypass_row_level_security(db, pg_cursor):
    pg_cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert pg_cursor.fetchone() == (False, False)


def test_it_refuses_to_connect_as_a_role_that_bypasses_rls(db):
    from django.core.exceptions import ImproperlyConfigured
    from django.db import OperationalError
    from django.db.backends.postgresql.base import DatabaseWrapper

    superuser = DatabaseWrapper({**connection.settings_dict, "USER": "postgres", "PASSWORD": ""}, alias="su-probe")
    try:
        with pytest.raises(ImproperlyConfigured, match="bypasses row level security"):
            superuser.ensure_connection()
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL superuser 'postgres' to try the guard with: {exc}")
    finally:
        superuser.close()
