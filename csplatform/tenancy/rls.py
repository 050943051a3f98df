"""Lock 2: PostgreSQL row level security on every tenant-owned table.

Each tenant-owned model's migration adds `EnableTenantRowLevelSecurity("<model_name>")` after the
CreateModel. `tests/tenancy/test_row_level_security.py` fails for any tenant-owned table without it.
On SQLite the operation does nothing (there is no second lock there; PostgreSQL is the production
database).
"""

from django.db import migrations

POLICY_NAME = "tenant_isolation"
# NULLIF: once a session has used the setting, "unset" reads back as '' rather than NULL.
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def enable_sql(table: str) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        # FORCE makes the policy apply to the table owner too (the app's role owns its tables).
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'CREATE POLICY {POLICY_NAME} ON "{table}" FOR ALL '
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
    ]


def disable_sql(table: str) -> list[str]:
    return [
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]


class EnableTenantRowLevelSecurity(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str):
        self.model_name = model_name

    def state_forwards(self, app_label, state):
        pass

    def _run(self, app_label, schema_editor, to_state, statements_for):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        for sql in statements_for(model._meta.db_table):
            schema_editor.execute(sql)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, to_state, enable_sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, from_state, disable_sql)

    def describe(self):
        return f"Enable tenant row level security on {self.model_name}"

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.model_name], {})

    @property
    def migration_name_fragment(self):
        return f"rls_{self.model_name.lower()}"
