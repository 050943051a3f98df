"""The runtime role the app serves as: row access under the tenant setting, and no way to take the lock off."""

import os
import subprocess
import sys
from datetime import date

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from psycopg2 import errors

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from tests.factories import AccountFactory, JobRunFactory

pytestmark = pytest.mark.postgres

TENANT_TABLE = "jobs_jobrun"


def _runtime_dsn():
    db = connection.settings_dict
    role = settings.DATABASE_RUNTIME_ROLE
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            pytest.skip(f"the runtime role {role!r} does not exist: scripts/pg_bootstrap.py creates it "
                        "(make test runs it)")
    password = os.environ.get("APP_DB_RUNTIME_PASSWORD", "csplatform_app")
    return dict(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, dbname=db["NAME"], user=role,
                password=password)


@pytest.fixture
def runtime_cursor(db):
    conn = psycopg2.connect(**_runtime_dsn())
    conn.autocommit = True
    try:
        yield conn.cursor()
    finally:
        conn.close()


def _refused(cursor, statement, error=errors.InsufficientPrivilege):
    with pytest.raises(error):
        cursor.execute(statement)


def test_it_connects_as_a_role_that_neither_bypasses_nor_owns(runtime_cursor):
    runtime_cursor.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert runtime_cursor.fetchone() == (False, False, False, False)
    runtime_cursor.execute(
        "SELECT count(*) FROM pg_class WHERE relrowsecurity AND pg_has_role(current_user, relowner, 'USAGE')"
    )
    assert runtime_cursor.fetchone()[0] == 0


def test_the_runtime_role_cannot_switch_row_level_security_off(runtime_cursor):
    _refused(runtime_cursor, f"ALTER TABLE {TENANT_TABLE} NO FORCE ROW LEVEL SECURITY")
    _refused(runtime_cursor, f"ALTER TABLE {TENANT_TABLE} DISABLE ROW LEVEL SECURITY")
    _refused(runtime_cursor, f"DROP POLICY tenant_isolation ON {TENANT_TABLE}")
    _refused(runtime_cursor, f"CREATE POLICY everything ON {TENANT_TABLE} USING (true)")
    _refused(runtime_cursor, f"ALTER TABLE {TENANT_TABLE} OWNER TO current_user")
    _refused(runtime_cursor, f"TRUNCATE {TENANT_TABLE}")  # TRUNCATE is not subject to policies
    _refused(runtime_cursor, f"SET ROLE {connection.settings_dict['USER']}")
    _refused(runtime_cursor, "CREATE TABLE escape_hatch (id int)")


def test_switching_row_security_off_errors_instead_of_showing_every_row(runtime_cursor):
    runtime_cursor.execute("SET row_security = off")
    _refused(runtime_cursor, f"SELECT count(*) FROM {TENANT_TABLE}")


@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_sees_and_writes_only_the_current_tenants_rows(tenant_a, tenant_b):
    JobRunFactory(tenant=tenant_a, job="alpha-job")
    JobRunFactory(tenant=tenant_b, job="bravo-job")
    conn = psycopg2.connect(**_runtime_dsn())
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
            cursor.execute(f"SELECT job FROM {TENANT_TABLE}")
            assert [row[0] for row in cursor.fetchall()] == ["alpha-job"]
            cursor.execute(f"UPDATE {TENANT_TABLE} SET job = 'moved' WHERE tenant_id = %s", [tenant_b.pk])
            assert cursor.rowcount == 0
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            with conn, conn.cursor() as cursor:
                cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
                cursor.execute(
                    f"INSERT INTO {TENANT_TABLE} (tenant_id, job, day, status, started_at, error, traceback, trigger)"
                    " VALUES (%s, 'x', now(), 'running', now(), '', '', 'test')",
                    [tenant_b.pk],
                )
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_the_nightly_jobs_run_as_the_runtime_role(tenant_a):
    """Every job works with row access alone: none needs to own a table (no DDL, no TRUNCATE)."""
    with tenant_context(tenant_a):
        AccountFactory.create_batch(3, tenant=tenant_a)
    dsn = _runtime_dsn()
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://{user}:{password}@{host}:{port}/{dbname}".format(**dsn),
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    day = date(2026, 11, 3)
    result = subprocess.run(
        [sys.executable, "manage.py", "run_nightly", "--tenant", tenant_a.slug, "--date", day.isoformat()],
        env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with tenant_context(tenant_a):
        statuses = set(JobRun.objects.filter(day=day).values_list("status", flat=True))
    assert statuses == {"succeeded"}
