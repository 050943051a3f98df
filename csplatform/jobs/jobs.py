from django.db import connection

from csplatform.tenancy.registry import tenant_owned_models

from .models import JobRun, TableVolume
from .registry import nightly_job


# Runs last so the counts include what the other nightly jobs wrote.
@nightly_job("platform.table_volume", order=1000)
def record_table_volume(*, tenant, day) -> int:
    """One INSERT ... SELECT ... ON CONFLICT: the tenant's row count in each of its tables for the day."""
    tables = sorted(
        m._meta.db_table for m in tenant_owned_models() if m not in (JobRun, TableVolume)
    )
    if not tables:
        return 0
    counts = " UNION ALL ".join(
        f"SELECT %s AS table_name, count(*) AS row_count FROM {connection.ops.quote_name(t)} WHERE tenant_id = %s"
        for t in tables
    )
    params = []
    for table in tables:
        params += [table, tenant.pk]
    sql = f"""
        INSERT INTO {TableVolume._meta.db_table} (tenant_id, day, table_name, row_count)
        SELECT %s, %s, c.table_name, c.row_count FROM ({counts}) AS c WHERE true
        ON CONFLICT (tenant_id, day, table_name) DO UPDATE SET row_count = EXCLUDED.row_count
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant.pk, day, *params])
        return cursor.rowcount
