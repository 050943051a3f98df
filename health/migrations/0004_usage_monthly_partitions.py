# Usage rows move into monthly partitions (health/partitions.py says why and who may do what). PostgreSQL only:
# on SQLite the tables stay plain. Each table is rebuilt as a partitioned one with the same columns, ids,
# constraints, indexes and tenant policy; its primary key becomes (id, day), because a partitioned table's
# unique constraints must include the partition column (Django still reads and writes rows by id).

from datetime import date

from django.conf import settings
from django.db import migrations

from csplatform.tenancy.rls import enable_sql
from health.partitions import MAINTAIN_FUNCTION_SQL, SCHEMA, partitions_maintain

# What each table had besides its columns, by the names Django gave them (they stay the same).
TABLES = {
    "health_usagedaily": [
        "ALTER TABLE health_usagedaily ADD CONSTRAINT usagedaily_unique UNIQUE (tenant_id, account_id, day)",
        "CREATE INDEX health_usag_tenant__4083e7_idx ON health_usagedaily (tenant_id, day)",
        "CREATE INDEX health_usagedaily_account_id_37fba9bb ON health_usagedaily (account_id)",
        "CREATE INDEX health_usagedaily_tenant_id_e39bff91 ON health_usagedaily (tenant_id)",
        # Adding a foreign key to a partitioned table checks the existing rows with a query of the owner's that
        # row level security would answer with no accounts at all (no tenant is set): lift FORCE for that check.
        # The migration's transaction holds the table's lock meanwhile, so no other session sees it lifted.
        "ALTER TABLE accounts_account NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE health_usagedaily ADD CONSTRAINT health_usagedaily_account_id_37fba9bb_fk_accounts_account_id"
        " FOREIGN KEY (account_id) REFERENCES accounts_account (id) DEFERRABLE INITIALLY DEFERRED",
        "ALTER TABLE accounts_account FORCE ROW LEVEL SECURITY",
        "ALTER TABLE health_usagedaily ADD CONSTRAINT health_usagedaily_tenant_id_e39bff91_fk_tenancy_tenant_id"
        " FOREIGN KEY (tenant_id) REFERENCES tenancy_tenant (id) DEFERRABLE INITIALLY DEFERRED",
    ],
    "health_usagekey": [
        "ALTER TABLE health_usagekey ADD CONSTRAINT usagekey_unique UNIQUE (tenant_id, account_id, day, kind, key)",
    ],
}


def _partition(table: str) -> list[str]:
    return [
        # The owner copies every tenant's rows: lift FORCE on the old table for that (it is dropped below).
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} RENAME TO {table}_unpartitioned",
        f"ALTER SEQUENCE {table}_id_seq RENAME TO {table}_unpartitioned_id_seq",
        f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
        f" INCLUDING IDENTITY) PARTITION BY RANGE (day)",
        f"CREATE TABLE {SCHEMA}.{table}_default PARTITION OF {table} DEFAULT",
    ]


def _finish(table: str) -> list[str]:
    return [
        f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned",
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}",
        f"DROP TABLE {table}_unpartitioned",
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, day)",
        *TABLES[table],
        *enable_sql(table),
    ]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", params=None)
    # Nobody but the owner may use the partitions directly (the runtime role goes through the parents' policy).
    schema_editor.execute(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC", params=None)
    for table in TABLES:
        for statement in _partition(table):
            schema_editor.execute(statement, params=None)
    schema_editor.execute(MAINTAIN_FUNCTION_SQL, params=None)
    partitions_maintain(today=date.today(), retention_days=settings.USAGE_RETENTION_DAYS)
    for table in TABLES:
        for statement in _finish(table):
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    atomic = True

    dependencies = [("health", "0003_trend_within_window")]

    operations = [migrations.RunPython(forwards, elidable=False)]  # one way: going back would mean copying back
