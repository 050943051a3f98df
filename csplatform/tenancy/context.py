"""The current tenant: a context variable, mirrored into PostgreSQL's `app.tenant_id` setting.

`tenant_context(tenant)` is the one way in. It opens a transaction (a savepoint when one is already
open), sets the variable and the transaction-local database setting, and restores both in `finally`,
so neither leaks into the next request, job or test.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

_current_tenant: ContextVar = ContextVar("current_tenant", default=None)

DB_SETTING = "app.tenant_id"


class NoTenantSelected(RuntimeError):
    """A tenant-scoped query ran with no current tenant: we fail closed instead of returning all rows."""


class CrossTenantWrite(RuntimeError):
    """A row of one tenant was about to be saved while another tenant is current."""


def current_tenant_or_none():
    return _current_tenant.get()


def current_tenant():
    tenant = _current_tenant.get()
    if tenant is None:
        raise NoTenantSelected(
            "No current tenant. Wrap the code in `with tenant_context(tenant):` "
            "or use the model's `dangerously_unscoped` manager on purpose."
        )
    return tenant


def current_tenant_id():
    return current_tenant().pk


def _set_db_tenant(value: str) -> str:
    """Sets the transaction-local tenant setting and returns the previous value ('' when none)."""
    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting(%s, true), ''), set_config(%s, %s, true)",
            [DB_SETTING, DB_SETTING, value],
        )
        return cursor.fetchone()[0]


@contextmanager
def tenant_context(tenant):
    if tenant is None or tenant.pk is None:
        raise ValueError("tenant_context needs a saved tenant")
    token = _current_tenant.set(tenant)
    previous = ""
    try:
        with transaction.atomic():
            previous = _set_db_tenant(str(tenant.pk))
            yield tenant
    finally:
        _current_tenant.reset(token)
        # Leaving a savepoint keeps SET LOCAL values for the rest of the outer transaction, so put the
        # outer tenant (or none) back. Outside a transaction there is nothing left to restore.
        if connection.vendor == "postgresql" and connection.in_atomic_block and not connection.needs_rollback:
            _set_db_tenant(previous)
