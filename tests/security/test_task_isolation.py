"""A Celery task given tenant A's id cannot read or write tenant B's rows, even when its code asks for them by id.

The probe is a nightly job (registered for the test) run through the real tasks, `run_job_for_tenant` and
`run_nightly_for_tenant`, in process: inside it, the tenant context and PostgreSQL's `app.tenant_id` must both
name A, and every way of reaching B's account by its id (the scoped manager, the loudly named unscoped manager,
raw SQL) must find nothing and change nothing.
"""

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import Account
from csplatform.jobs import registry
from csplatform.jobs.models import JobRun
from csplatform.jobs.tasks import run_job_for_tenant, run_nightly_for_tenant
from csplatform.tenancy.context import (
    DB_SETTING,
    CrossTenantWrite,
    current_tenant,
    current_tenant_or_none,
    tenant_context,
)
from tests.factories import AccountFactory

from .world import tenant_fingerprint

DAY = date(2026, 11, 2)
PROBE = "security.cross_tenant_probe"
B_NAME = "Bravo's own account"


def _db_setting():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [DB_SETTING])
        return cursor.fetchone()[0]


def _attempt(seen, key, action):
    """Runs one attempt in a savepoint of its own: a refusal by the database must not end the job's transaction."""
    try:
        with transaction.atomic():
            seen[key] = action()
    except (DatabaseError, CrossTenantWrite, Account.DoesNotExist) as refused:
        seen[key] = type(refused).__name__


def _probe(foreign, seen):
    """What a job sees when its code goes after `foreign` (another tenant's account) by id."""
    table = Account._meta.db_table

    def probe(*, tenant, day):
        seen["context"] = current_tenant().pk
        seen["setting"] = _db_setting()
        _attempt(seen, "scoped get", lambda: Account.objects.get(pk=foreign.pk))
        _attempt(seen, "scoped update", lambda: Account.objects.filter(pk=foreign.pk).update(name="taken"))
        _attempt(seen, "save", lambda: foreign.save(update_fields=["name"]))
        if connection.vendor == "postgresql":  # lock 2: the database hides what lock 1 was told to skip
            unscoped = Account.dangerously_unscoped
            _attempt(seen, "unscoped read", lambda: list(unscoped.filter(pk=foreign.pk).values_list("name", flat=True)))
            _attempt(seen, "unscoped update", lambda: unscoped.filter(pk=foreign.pk).update(name="taken"))
            with connection.cursor() as cursor:
                _attempt(seen, "sql read", lambda: cursor.execute(
                    f"SELECT name FROM {table} WHERE id = %s", [foreign.pk]) or cursor.fetchall())
                _attempt(seen, "sql update", lambda: cursor.execute(
                    f"UPDATE {table} SET name = 'taken' WHERE id = %s", [foreign.pk]) or cursor.rowcount)
                _attempt(seen, "sql insert", lambda: cursor.execute(
                    f"INSERT INTO {table} (tenant_id, name, external_id, domain, industry, region, licensed_seats, "
                    "arr, status, created_at, updated_at) VALUES (%s, 'planted', 'planted', '', '', '', 0, 0, "
                    "'active', now(), now())", [foreign.tenant_id]) or cursor.rowcount)
        return 0

    return probe


@pytest.fixture
def b_account(tenant_b):
    return AccountFactory(tenant=tenant_b, name=B_NAME)


@pytest.fixture
def seen(b_account):
    observed = {}
    registry.register(registry.Job(name=PROBE, func=_probe(b_account, observed), order=1))
    yield observed
    registry.unregister(PROBE)


def _b_unchanged(tenant_b, before):
    assert tenant_fingerprint(tenant_b) == before, "tenant B's rows changed"
    with tenant_context(tenant_b):
        assert Account.objects.get().name == B_NAME


def test_a_task_for_tenant_a_finds_and_changes_nothing_of_tenant_b(tenant_a, tenant_b, b_account, seen):
    before = tenant_fingerprint(tenant_b)
    assert run_job_for_tenant.delay(PROBE, tenant_a.pk, DAY.isoformat()).get() == JobRun.Status.SUCCEEDED
    assert seen["context"] == tenant_a.pk
    assert seen["scoped get"] == "DoesNotExist"
    assert seen["scoped update"] == 0
    assert seen["save"] == "CrossTenantWrite"
    assert current_tenant_or_none() is None, "the task left its tenant behind"
    _b_unchanged(tenant_b, before)


@pytest.mark.postgres
def test_inside_a_task_the_database_setting_names_the_same_tenant_and_hides_the_other(tenant_a, tenant_b,
                                                                                        b_account, seen):
    before = tenant_fingerprint(tenant_b)
    assert run_job_for_tenant.delay(PROBE, tenant_a.pk, DAY.isoformat()).get() == JobRun.Status.SUCCEEDED
    assert seen["setting"] == str(tenant_a.pk) == str(seen["context"])
    assert seen["unscoped read"] == [] and seen["unscoped update"] == 0
    assert seen["sql read"] == [] and seen["sql update"] == 0
    assert seen["sql insert"] == "ProgrammingError", "row level security let a row of B in"  # WITH CHECK
    assert _db_setting() in (None, ""), "the task left app.tenant_id set"
    _b_unchanged(tenant_b, before)


def test_the_nightly_run_of_tenant_a_runs_every_job_inside_a_and_leaves_b_alone(tenant_a, tenant_b, b_account,
                                                                                 seen):
    before = tenant_fingerprint(tenant_b)
    outcomes = run_nightly_for_tenant.delay(tenant_a.pk, DAY.isoformat()).get()
    assert f"{PROBE}: succeeded" in outcomes and all(o.endswith("succeeded") for o in outcomes), outcomes
    assert seen["context"] == tenant_a.pk and seen["scoped get"] == "DoesNotExist"
    if connection.vendor == "postgresql":
        assert seen["setting"] == str(tenant_a.pk)
    _b_unchanged(tenant_b, before)
    with tenant_context(tenant_b):
        assert not JobRun.objects.exists(), "tenant A's nightly run recorded a run in tenant B"
