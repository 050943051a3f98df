"""Usage rows live in monthly partitions (PostgreSQL declarative partitioning by `day`).

`health_usagedaily` and `health_usagekey` are the two tables that grow with every event a customer's
product sends: about 100,000 rows a day for a 100,000-account book. Partitioned by month, a page or job
that reads a window of days only touches the months in it, and retention drops a whole month at once
instead of deleting rows one by one.

Who may do what:
- The app queries the parent tables only (`public.health_usagedaily`, `public.health_usagekey`), which
  carry the tenant policy. The partitions live in the schema `usage_partitions`, on which the runtime
  role has no privilege at all, so it cannot read a partition directly and get round the policy.
- Creating and dropping partitions is DDL that only the tables' owner may run, and the app serves as a
  runtime role that owns nothing (docs/architecture.md). So the owner installs one function,
  `usage_partitions_maintain`, as SECURITY DEFINER: the runtime role may call it and do nothing else.
  It creates the missing months in a range, moves rows that had landed in the default partition into
  their month, and drops the months wholly before the retention cut-off. It refuses a cut-off less than
  90 days ago, so no caller can use it to wipe recent usage.
- A `DEFAULT` partition catches days outside the monthly ones (an old test date, a late batch), so an
  insert never fails for want of a partition.
"""

from datetime import date, timedelta

from django.db import connection

PARENTS = ("health_usagedaily", "health_usagekey")
SCHEMA = "usage_partitions"
MONTHS_AHEAD = 3
MINIMUM_RETENTION_DAYS = 90

MAINTAIN_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION public.usage_partitions_maintain(first_month date, last_month date, keep_from date)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  parent text;
  default_part text;
  part text;
  month_start date;
  month_end date;
  storage text;
  has_rows boolean;
  changed integer := 0;
BEGIN
  IF keep_from > current_date - {MINIMUM_RETENTION_DAYS} THEN
    RAISE EXCEPTION 'usage retention cut-off % is less than {MINIMUM_RETENTION_DAYS} days ago', keep_from;
  END IF;
  -- One caller at a time: tenants' nightly runs call this concurrently.
  PERFORM pg_advisory_xact_lock(hashtext('usage_partitions_maintain'));
  FOREACH parent IN ARRAY ARRAY['health_usagedaily', 'health_usagekey'] LOOP
    default_part := parent || '_default';
    storage := CASE WHEN parent = 'health_usagedaily' THEN ' WITH (fillfactor = 80)' ELSE '' END;
    month_start := date_trunc('month', greatest(first_month, keep_from))::date;
    WHILE month_start <= last_month LOOP
      month_end := (month_start + interval '1 month')::date;
      part := parent || '_' || to_char(month_start, 'YYYYMM');
      IF to_regclass('{SCHEMA}.' || quote_ident(part)) IS NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM {SCHEMA}.%I WHERE day >= %L AND day < %L)',
                       default_part, month_start, month_end) INTO has_rows;
        IF has_rows THEN
          -- The default partition may not hold rows of a new partition's range: move them across.
          EXECUTE format('ALTER TABLE public.%I DETACH PARTITION {SCHEMA}.%I', parent, default_part);
          EXECUTE format('CREATE TABLE {SCHEMA}.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)%s',
                         part, parent, month_start, month_end, storage);
          EXECUTE format('INSERT INTO {SCHEMA}.%I SELECT * FROM {SCHEMA}.%I WHERE day >= %L AND day < %L',
                         part, default_part, month_start, month_end);
          EXECUTE format('DELETE FROM {SCHEMA}.%I WHERE day >= %L AND day < %L', default_part, month_start, month_end);
          EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION {SCHEMA}.%I DEFAULT', parent, default_part);
        ELSE
          EXECUTE format('CREATE TABLE {SCHEMA}.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)%s',
                         part, parent, month_start, month_end, storage);
        END IF;
        changed := changed + 1;
      END IF;
      month_start := month_end;
    END LOOP;
    FOR part IN
      SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = ('public.' || parent)::regclass AND c.relname ~ ('^' || parent || '_[0-9]{{6}}$')
    LOOP
      IF (to_date(right(part, 6), 'YYYYMM') + interval '1 month')::date <= keep_from THEN
        -- A table with deferred foreign key checks still pending in this transaction cannot be dropped: run them.
        SET CONSTRAINTS ALL IMMEDIATE;
        EXECUTE format('DROP TABLE {SCHEMA}.%I', part);
        changed := changed + 1;
      END IF;
    END LOOP;
    EXECUTE format('DELETE FROM {SCHEMA}.%I WHERE day < %L', default_part, keep_from);
  END LOOP;
  RETURN changed;
END
$fn$;
REVOKE ALL ON FUNCTION public.usage_partitions_maintain(date, date, date) FROM PUBLIC;
"""


def retention_cutoff(*, day: date, retention_days: int) -> date:
    return day - timedelta(days=retention_days)


def partitions_maintain(*, today: date, retention_days: int) -> int:
    """Creates this month's partition and the next few, drops the months past retention. Returns how many
    partitions were created or dropped (0 on most nights: then it takes no lock on the tables)."""
    if connection.vendor != "postgresql":
        return 0
    keep_from = retention_cutoff(day=today, retention_days=retention_days)
    last_month = date(today.year + (today.month + MONTHS_AHEAD - 1) // 12, (today.month + MONTHS_AHEAD - 1) % 12 + 1, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.usage_partitions_maintain(%s, %s, %s)", [keep_from, last_month, keep_from])
        return cursor.fetchone()[0]


def usage_retention_enforce(*, tenant, day: date, retention_days: int) -> int:
    """The nightly retention for one tenant: the monthly partitions are kept in shape (created ahead, dropped
    past retention) and the tenant's rows older than the cut-off, in the month that is not yet wholly past
    it, are deleted. Returns the rows deleted. A rerun deletes nothing more."""
    from .models import UsageDaily, UsageKey

    # A run for a future day (a test, a clock error) must not cut off usage that is still within retention.
    today = min(day, date.today())
    partitions_maintain(today=today, retention_days=retention_days)
    cutoff = retention_cutoff(day=today, retention_days=retention_days)
    deleted = 0
    for model in (UsageKey, UsageDaily):
        deleted += model.objects.filter(tenant=tenant, day__lt=cutoff).delete()[0]  # one DELETE: no dependents
    return deleted
