"""Usage ingestion: a batch of events becomes per-account per-day rows in a handful of set-based statements.

A batch is all or nothing: if any event is invalid, nothing is written and every bad row is reported.
A batch is keyed (`batch_id`): sending the same key with the same events again is accepted and counts
nothing; the same key with different events is refused (409). Users and features are counted distinctly
per account and day across batches (UsageKey), events and quantity add up.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Account
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


def _parse_time(value, now: datetime):
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None, "Not an ISO 8601 date-time."
    else:
        return None, "Not an ISO 8601 date-time."
    if parsed.tzinfo is None:
        return None, "Give a UTC offset (e.g. 2026-11-23T10:00:00Z)."
    if parsed > now + FUTURE_SLACK:
        return None, "In the future."
    return parsed, None


def _accounts_by_reference(events) -> tuple[dict, dict]:
    external_ids, ids = set(), set()
    for event in events:
        if not isinstance(event, dict):
            continue
        ref = event.get("account")
        if isinstance(ref, str) and ref:
            external_ids.add(ref)
        ref_id = event.get("account_id")
        if isinstance(ref_id, int) and not isinstance(ref_id, bool):
            ids.add(ref_id)
    by_external = dict(Account.objects.filter(external_id__in=external_ids).exclude(external_id="")
                       .values_list("external_id", "id")) if external_ids else {}
    by_id = set(Account.objects.filter(pk__in=ids).values_list("id", flat=True)) if ids else set()
    return by_external, by_id


def usage_validate(events) -> tuple[dict, dict, dict, list[dict]]:
    """Checks every event and rolls them up in memory. Returns (totals, users, features, errors) where totals
    maps (account id, day) to [events, quantity] and users / features to sets of keys."""
    if not isinstance(events, list) or not events:
        raise BatchRejected([{"index": None, "field": "events", "error": "Send a non-empty list of events."}], 1)
    if len(events) > MAX_EVENTS:
        raise BatchRejected([{"index": None, "field": "events",
                              "error": f"At most {MAX_EVENTS} events per batch; this one has {len(events)}."}], 1)
    by_external, by_id = _accounts_by_reference(events)
    now = timezone.now()
    zone = timezone.get_current_timezone()  # looked up once: per event it is a large share of the loop
    totals: dict = {}
    users: dict = {}
    features: dict = {}
    errors: list[dict] = []

    def bad(index, field_name, message):
        errors.append({"index": index, "field": field_name, "error": message})

    for index, event in enumerate(events):
        if not isinstance(event, dict):
            bad(index, None, "Each event is an object.")
            continue
        ref, ref_id = event.get("account"), event.get("account_id")
        if ref_id is not None:
            account_id = ref_id if ref_id in by_id and not isinstance(ref_id, bool) else None
            if account_id is None:
                bad(index, "account_id", "No such account.")
                continue
        elif ref:
            account_id = by_external.get(ref) if isinstance(ref, str) else None
            if account_id is None:
                bad(index, "account", f"No account with external id {str(ref)[:64]!r}.")
                continue
        else:
            bad(index, "account", "Give the account's external id (account) or id (account_id).")
            continue
        occurred, problem = _parse_time(event.get("occurred_at"), now)
        if problem:
            bad(index, "occurred_at", problem)
            continue
        name = event.get("event")
        if not isinstance(name, str) or not name.strip() or len(name) > 120 or "\x00" in name:
            bad(index, "event", "An event name of 1 to 120 characters.")
            continue
        user = event.get("user_id")
        if user is not None and not isinstance(user, str | int) or isinstance(user, bool):
            bad(index, "user_id", "A string or integer.")
            continue
        user = str(user) if user is not None else ""
        if len(user) > 120:
            bad(index, "user_id", "At most 120 characters.")
            continue
        if "\x00" in user:  # PostgreSQL text cannot hold it
            bad(index, "user_id", "No NUL characters.")
            continue
        quantity = event.get("quantity", 1)
        if type(quantity) is int:
            quantity = Decimal(quantity)
        else:
            try:
                quantity = Decimal(str(quantity)) if not isinstance(quantity, bool) else None
            except InvalidOperation:
                quantity = None
        if quantity is None or not quantity.is_finite() or quantity < 0 or quantity >= Decimal("1e12"):
            bad(index, "quantity", "A number from 0 up to 1e12.")
            continue
        key = (account_id, occurred.astimezone(zone).date())
        slot = totals.get(key)
        if slot is None:
            totals[key] = [1, quantity]
            users[key] = set()
            features[key] = set()
        else:
            slot[0] += 1
            slot[1] += quantity
        if user:
            users[key].add(user)
        features[key].add(name.strip())
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
    k_accounts, k_days, k_kinds, k_names = [], [], [], []
    for kind, seen in (("u", users), ("f", features)):
        for (account_id, day), names in seen.items():
            k_accounts += [account_id] * len(names)
            k_days += [day] * len(names)
            k_kinds += [kind] * len(names)
            k_names += names
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
            {"tenant": tenant_id, "k_accounts": _pg_array(k_accounts), "k_days": _pg_array(k_days),
             "k_kinds": _pg_array(k_kinds), "k_names": _pg_text_array(k_names),
             "d_accounts": _pg_array(d_accounts), "d_days": _pg_array(d_days), "d_events": _pg_array(d_events),
             "d_quantities": _pg_array(d_quantities)})


def _pg_array(values) -> str:
    """One array literal ('{1,2,3}'): PostgreSQL parses one constant instead of an ARRAY[...] of thousands."""
    return "{" + ",".join(map(str, values)) + "}"


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
    if not isinstance(batch_id, str) or not batch_id.strip() or len(batch_id) > 100:
        raise BatchRejected([{"index": None, "field": "batch_id",
                              "error": "A batch id of 1 to 100 characters (your key for this batch)."}], 1)
    tenant = current_tenant()
    existing = UsageBatch.objects.filter(batch_id=batch_id).first()
    if existing is not None:
        return _repeat(existing, digest)
    totals, users, features, errors = usage_validate(events)
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
