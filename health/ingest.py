"""Usage ingestion: a batch of events becomes per-account per-day rows in a handful of set-based statements.

A batch is all or nothing: if any event is invalid, nothing is written and every bad row is reported.
A batch is keyed (`batch_id`): sending the same key with the same events again is accepted and counts
nothing; the same key with different events is refused (409). Users and features are counted distinctly
per account and day across batches (UsageKey), events and quantity add up.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Account
from csplatform.db import pg_array
from csplatform.tenancy.context import current_tenant

from .models import UsageBatch
from .services import refresh_soon

MAX_EVENTS = 10_000
MAX_ERRORS_LISTED = 200
FUTURE_SLACK = timedelta(hours=1)


class BatchRejected(Exception):
    def __init__(self, errors: list[dict], total: int):
        super().__init__(f"{total} invalid event(s)")
        self.errors = errors[:MAX_ERRORS_LISTED]
        self.total = total


class BatchKeyReused(Exception):
    pass


@dataclass
class IngestResult:
    batch_id: str
    accepted: int
    duplicate: bool = False
    accounts: int = 0
    days: int = 0
    errors: list = field(default_factory=list)


def digest_of(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _accounts_by_reference(events, tenant_id: int) -> tuple[dict, set]:
    external_ids, ids = set(), set()
    for event in events:
        if isinstance(event, dict):
            ref = event.get("account")
            if type(ref) is str and ref and "\x00" not in ref:  # PostgreSQL text cannot hold NUL: no account
                external_ids.add(ref)
            if type(ref_id := event.get("account_id")) is int:  # not bool either
                ids.add(ref_id)
    external_ids = list(external_ids)
    ids = [ref for ref in ids if -2**63 <= ref < 2**63]  # bigint; anything else is no account
    if connection.vendor != "postgresql":
        by_external = dict(Account.objects.filter(external_id__in=external_ids).exclude(external_id="")
                           .values_list("external_id", "id")) if external_ids else {}
        by_id = set(Account.objects.filter(pk__in=ids).values_list("id", flat=True)) if ids else set()
        return by_external, by_id
    # One array parameter instead of the ORM's IN list of thousands of placeholders; scoped to the tenant as
    # Account.objects would be (and by row level security).
    by_external, by_id = {}, set()
    with connection.cursor() as cursor:
        if external_ids:
            cursor.execute("SELECT external_id, id FROM accounts_account WHERE tenant_id = %s "
                           "AND external_id = ANY(%s::varchar[]) AND external_id <> ''",
                           [tenant_id, _pg_text_array(external_ids)])
            by_external = dict(cursor.fetchall())
        if ids:
            cursor.execute("SELECT id FROM accounts_account WHERE tenant_id = %s AND id = ANY(%s::bigint[])",
                           [tenant_id, pg_array(ids)])
            by_id = {row[0] for row in cursor.fetchall()}
    return by_external, by_id


_NOT_A_TIME = "Not an ISO 8601 date-time."
_NO_OFFSET = "Give a UTC offset (e.g. 2026-11-23T10:00:00Z)."
_IN_FUTURE = "In the future."
_TOO_BIG = Decimal("1e12")


def usage_validate(events, *, tenant_id: int | None = None) -> tuple[dict, dict, dict, list[dict]]:
    """Checks every event and rolls them up in memory. Returns (totals, users, features, errors) where totals
    maps (account id, day) to [events, quantity] and users / features to sets of keys.

    The loop runs for every event of every batch, so it is written for speed: no call per event beyond
    datetime.fromisoformat, one dict lookup per account-day, integer quantities summed as ints."""
    if not isinstance(events, list) or not events:
        raise BatchRejected([{"index": None, "field": "events", "error": "Send a non-empty list of events."}], 1)
    if len(events) > MAX_EVENTS:
        raise BatchRejected([{"index": None, "field": "events",
                              "error": f"At most {MAX_EVENTS} events per batch; this one has {len(events)}."}], 1)
    if tenant_id is None:
        tenant_id = current_tenant().pk
    by_external, by_id = _accounts_by_reference(events, tenant_id)
    latest = timezone.now() + FUTURE_SLACK
    earliest = timezone.now() - timedelta(days=settings.USAGE_RETENTION_DAYS)
    too_old = f"Older than the {settings.USAGE_RETENTION_DAYS}-day usage retention."
    zone = timezone.get_current_timezone()  # looked up once: per event it is a large share of the loop
    # Times sent in UTC (the usual 'Z' / '+00:00') fall on their own calendar day when the zone is UTC too.
    utc_days = str(zone) in ("UTC", "Etc/UTC")
    fromisoformat = datetime.fromisoformat
    rollup: dict = {}  # (account id, day) -> [events, int quantity, Decimal quantity, users, features]
    errors: list[dict] = []

    def bad(index, field_name, message):
        errors.append({"index": index, "field": field_name, "error": message})

    for index, event in enumerate(events):
        if type(event) is not dict:
            if not isinstance(event, dict):
                bad(index, None, "Each event is an object.")
                continue
        get = event.get
        ref_id = get("account_id")
        if ref_id is not None:
            account_id = ref_id if type(ref_id) is int and ref_id in by_id else None
            if account_id is None:
                bad(index, "account_id", "No such account.")
                continue
        else:
            ref = get("account")
            if not ref:
                bad(index, "account", "Give the account's external id (account) or id (account_id).")
                continue
            account_id = by_external.get(ref) if type(ref) is str else None
            if account_id is None:
                bad(index, "account", f"No account with external id {str(ref)[:64]!r}.")
                continue
        occurred = get("occurred_at")
        if type(occurred) is str:
            try:
                occurred = fromisoformat(occurred)
            except ValueError:
                bad(index, "occurred_at", _NOT_A_TIME)
                continue
        elif not isinstance(occurred, datetime):
            bad(index, "occurred_at", _NOT_A_TIME)
            continue
        tzinfo = occurred.tzinfo
        if tzinfo is None:
            bad(index, "occurred_at", _NO_OFFSET)
            continue
        if occurred > latest:
            bad(index, "occurred_at", _IN_FUTURE)
            continue
        if occurred < earliest:  # the nightly retention would delete it again
            bad(index, "occurred_at", too_old)
            continue
        name = get("event")
        if type(name) is not str or len(name) > 120 or "\x00" in name or not (name := name.strip()):
            bad(index, "event", "An event name of 1 to 120 characters.")
            continue
        user = get("user_id")
        if type(user) is not str:
            if user is None:
                user = ""
            elif isinstance(user, str | int) and not isinstance(user, bool):
                user = str(user)
            else:
                bad(index, "user_id", "A string or integer.")
                continue
        if len(user) > 120:
            bad(index, "user_id", "At most 120 characters.")
            continue
        if "\x00" in user:  # PostgreSQL text cannot hold it
            bad(index, "user_id", "No NUL characters.")
            continue
        quantity = get("quantity", 1)
        if type(quantity) is int:
            if not 0 <= quantity < 1_000_000_000_000:
                bad(index, "quantity", "A number from 0 up to 1e12.")
                continue
            whole = True
        else:
            try:
                quantity = Decimal(str(quantity)) if not isinstance(quantity, bool) else None
            except InvalidOperation:
                quantity = None
            if quantity is None or not quantity.is_finite() or quantity < 0 or quantity >= _TOO_BIG:
                bad(index, "quantity", "A number from 0 up to 1e12.")
                continue
            whole = False
        if utc_days and tzinfo is UTC:
            key = (account_id, occurred.date())
        else:
            key = (account_id, occurred.astimezone(zone).date())
        slot = rollup.get(key)
        if slot is None:
            slot = rollup[key] = [0, 0, Decimal(0), set(), set()]
        slot[0] += 1
        if whole:
            slot[1] += quantity
        else:
            slot[2] += quantity
        if user:
            slot[3].add(user)
        slot[4].add(name)
    totals = {key: [slot[0], slot[2] + slot[1]] for key, slot in rollup.items()}
    users = {key: slot[3] for key, slot in rollup.items()}
    features = {key: slot[4] for key, slot in rollup.items()}
    return totals, users, features, errors


def _insert_rows(cursor, sql: str, rows: list[tuple], template: str) -> None:
    """INSERT ... VALUES with many rows per statement (psycopg2's execute_values on PostgreSQL)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        from psycopg2.extras import execute_values

        execute_values(cursor.cursor, sql, rows, template=template,
                       page_size=5000)
    else:
        placeholders = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
        cursor.executemany(sql.replace("VALUES %s", f"VALUES {placeholders}"), rows)


def _pg_rollup_write(*, tenant_id: int, totals: dict, users: dict, features: dict) -> None:
    """PostgreSQL, one statement: the keys go in first and those that were new (RETURNING) raise the distinct
    counts, in the same upsert that adds the events. Columns travel as arrays (unnest), not as one VALUES tuple
    per row, and rows go in sorted so that two batches touching the same accounts lock them in the same order."""
    # The key columns are built as array literals a group (account, day, kind) at a time: some 15,000 keys per
    # batch, and a str() per element of each column was a tenth of the request.
    k_accounts, k_days, k_kinds, k_names = [], [], [], []
    for kind, seen in (("u", users), ("f", features)):
        for (account_id, day), names in seen.items():
            if not names:
                continue
            repeat = len(names)
            k_accounts.append(",".join([str(account_id)] * repeat))
            k_days.append(",".join([day.isoformat()] * repeat))
            k_kinds.append(",".join([kind] * repeat))
            k_names.append(_pg_text_array(names)[1:-1])
    d_accounts, d_days, d_events, d_quantities = [], [], [], []
    for (account_id, day), (events, quantity) in totals.items():
        d_accounts.append(account_id)
        d_days.append(day)
        d_events.append(events)
        d_quantities.append(quantity)
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH keys AS (
                 INSERT INTO health_usagekey (tenant_id, account_id, day, kind, key)
                 SELECT %(tenant)s, k.* FROM unnest(%(k_accounts)s::bigint[], %(k_days)s::date[],
                                                    %(k_kinds)s::varchar[], %(k_names)s::varchar[]) AS k
                 ORDER BY 2, 3, 4, 5
                 ON CONFLICT (tenant_id, account_id, day, kind, key) DO NOTHING
                 RETURNING account_id, day, kind
               ), fresh AS (
                 SELECT account_id, day, COUNT(*) FILTER (WHERE kind = 'u') AS users,
                        COUNT(*) FILTER (WHERE kind = 'f') AS features
                 FROM keys GROUP BY account_id, day
               )
               INSERT INTO health_usagedaily (tenant_id, account_id, day, events, quantity, active_users, features)
               SELECT %(tenant)s, t.account_id, t.day, t.events, t.quantity, COALESCE(f.users, 0),
                      COALESCE(f.features, 0)
               FROM unnest(%(d_accounts)s::bigint[], %(d_days)s::date[], %(d_events)s::integer[],
                           %(d_quantities)s::numeric[]) AS t (account_id, day, events, quantity)
               LEFT JOIN fresh f ON f.account_id = t.account_id AND f.day = t.day
               ORDER BY t.account_id, t.day
               ON CONFLICT (tenant_id, account_id, day) DO UPDATE SET
                 events = health_usagedaily.events + excluded.events,
                 quantity = health_usagedaily.quantity + excluded.quantity,
                 active_users = health_usagedaily.active_users + excluded.active_users,
                 features = health_usagedaily.features + excluded.features""",
            {"tenant": tenant_id, "k_accounts": pg_array(k_accounts), "k_days": pg_array(k_days),
             "k_kinds": pg_array(k_kinds), "k_names": pg_array(k_names),
             "d_accounts": pg_array(d_accounts), "d_days": pg_array(d_days), "d_events": pg_array(d_events),
             "d_quantities": pg_array(d_quantities)})


def _pg_text_array(values) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def usage_rollup_write(*, tenant_id: int, totals: dict, users: dict, features: dict) -> None:
    """Adds validated, rolled-up usage to UsageDaily: keys first, then the daily rows, then distinct counts."""
    if connection.vendor == "postgresql":
        return _pg_rollup_write(tenant_id=tenant_id, totals=totals, users=users, features=features)
    keys = [(tenant_id, account_id, day, "u", user) for (account_id, day), names in users.items() for user in names]
    keys += [(tenant_id, account_id, day, "f", name) for (account_id, day), names in features.items()
             for name in names]
    daily = [(tenant_id, account_id, day, count, quantity) for (account_id, day), (count, quantity) in totals.items()]
    with connection.cursor() as cursor:
        _insert_rows(cursor, "INSERT INTO health_usagekey (tenant_id, account_id, day, kind, key) VALUES %s "
                             "ON CONFLICT (tenant_id, account_id, day, kind, key) DO NOTHING",
                     keys, "(%s, %s, %s, %s, %s)")
        _insert_rows(cursor, "INSERT INTO health_usagedaily (tenant_id, account_id, day, events, quantity, "
                             "active_users, features) VALUES %s "
                             "ON CONFLICT (tenant_id, account_id, day) DO UPDATE SET "
                             "events = health_usagedaily.events + excluded.events, "
                             "quantity = health_usagedaily.quantity + excluded.quantity",
                     [(*row, 0, 0) for row in daily], "(%s, %s, %s, %s, %s, %s, %s)")
        account_ids = sorted({account_id for account_id, _day in totals})
        days = sorted({day for _account, day in totals})
        cursor.execute(
            f"""UPDATE health_usagedaily SET
                  active_users = (SELECT COUNT(*) FROM health_usagekey k WHERE k.tenant_id = health_usagedaily.tenant_id
                                  AND k.account_id = health_usagedaily.account_id AND k.day = health_usagedaily.day
                                  AND k.kind = 'u'),
                  features = (SELECT COUNT(*) FROM health_usagekey k WHERE k.tenant_id = health_usagedaily.tenant_id
                              AND k.account_id = health_usagedaily.account_id AND k.day = health_usagedaily.day
                              AND k.kind = 'f')
                WHERE tenant_id = %s AND account_id IN ({", ".join(["%s"] * len(account_ids))})
                  AND day IN ({", ".join(["%s"] * len(days))})""",
            [tenant_id, *account_ids, *days],
        )


def usage_batch_ingest(*, batch_id: str, events, digest: str, source: str = "api") -> IngestResult:
    """Validates the whole batch, then writes it in one transaction (or raises BatchRejected / BatchKeyReused)."""
    if not isinstance(batch_id, str) or not batch_id.strip() or len(batch_id) > 100 or "\x00" in batch_id:
        raise BatchRejected([{"index": None, "field": "batch_id",
                              "error": "A batch id of 1 to 100 characters, no NUL (your key for this batch)."}], 1)
    tenant = current_tenant()
    existing = UsageBatch.objects.filter(batch_id=batch_id).first()
    if existing is not None:
        return _repeat(existing, digest)
    totals, users, features, errors = usage_validate(events, tenant_id=tenant.pk)
    if errors:
        raise BatchRejected(errors, len(errors))
    try:
        with transaction.atomic():
            UsageBatch.objects.create(batch_id=batch_id, digest=digest, events=len(events), received_at=timezone.now(),
                                      source=source)
            usage_rollup_write(tenant_id=tenant.pk, totals=totals, users=users, features=features)
            refresh_soon(tenant=tenant, account_ids={account_id for account_id, _day in totals})
    except IntegrityError:
        # The same key won a race from another request; answer as for a repeat.
        existing = UsageBatch.objects.filter(batch_id=batch_id).first()
        if existing is None:
            raise
        return _repeat(existing, digest)
    return IngestResult(batch_id=batch_id, accepted=len(events), accounts=len({a for a, _d in totals}),
                        days=len({d for _a, d in totals}))


def _repeat(existing: UsageBatch, digest: str) -> IngestResult:
    if existing.digest != digest:
        raise BatchKeyReused(f"Batch {existing.batch_id!r} was received on {existing.received_at:%Y-%m-%d %H:%M} "
                             "with different events; use a new batch id.")
    return IngestResult(batch_id=existing.batch_id, accepted=0, duplicate=True)
