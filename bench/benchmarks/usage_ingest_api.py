"""Usage ingestion through the API, in events per second, next to PostgreSQL COPY of the same rows.

Figure: 20 batches of 10,000 events POSTed to /api/v1/usage-events/ through django.test.Client, in one process,
with an ops token of a dedicated tenant (bench-ingest, 2,000 accounts, no generated usage, so nothing collides
with the book). Every round sends fresh batch ids for a day of its own. The JSON bodies are built before the
clock starts. The debounced rescore each batch asks for is queued, as with a real broker, not run inline.

Floor: the same 200,000 events as CSV, one `COPY ... FROM STDIN` per batch (psycopg2 copy_expert) into a plain
staging table with the same columns, each committed, in the same rounds.
"""

import io
import json
import random
import uuid
from datetime import UTC, datetime, time, timedelta

from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve

from csplatform import celery_app
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role, Tenant
from csplatform.tenancy.services import api_token_create, api_token_revoke, service_account_create, tenant_create

from ..runner import BenchContext, median, median_ratio, result, timed_runs

NAME = "usage_ingest_api"
WHAT = "Usage ingestion through the API (POST /api/v1/usage-events/)"
PATH = "/api/v1/usage-events/"
SLUG = "bench-ingest"
ACCOUNTS = 2_000
BATCHES = 20
EVENTS_PER_BATCH = 10_000
TARGET_RATE = 50_000
FEATURES = ["login", "search", "report.view", "report.export", "dashboard.view", "invite.send", "api.call",
            "workflow.run", "alert.create", "note.add", "file.upload", "integration.sync", "comment.add",
            "task.complete", "settings.change"]
STAGING = "bench_ingest_staging"
USAGE_TABLES = ["health_usagekey", "health_usagedaily", "health_usagebatch", "health_pendingrefresh",
                "health_healthscore"]


def run(ctx: BenchContext) -> dict:
    try:
        resolve(PATH)
    except Resolver404:
        return result(name=NAME, what=WHAT, value=None, unit="events/s", floor=None, ratio=None,
                      target=f">= {TARGET_RATE:,} events/s", met=None,
                      note=f"Not measured: {PATH} does not exist in this build.")
    tenant = _tenant()
    _clear(tenant)
    user = service_account_create(tenant=tenant, name="bench-ingest", role=Role.OPS)
    token, raw = api_token_create(tenant=tenant, user=user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    rng = random.Random(f"{ctx.record['params']['seed']}-ingest")
    with tenant_context(tenant):
        seats = dict(tenant_accounts(tenant))
    # Round r sends the events of day (end - r): a day no earlier round wrote.
    bodies: list[list[bytes]] = []
    csvs: list[list[str]] = []
    statuses: list[int] = []

    def setup(round_no: int):
        day = ctx.end - timedelta(days=round_no)
        batches = [_events(rng, seats, day) for _ in range(BATCHES)]
        bodies[:] = [[json.dumps({"batch_id": f"bench-{uuid.uuid4().hex}", "events": events}).encode()
                      for events in batches]]
        csvs[:] = [[_csv(events) for events in batches]]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {STAGING}")

    def api():
        for body in bodies[0]:
            response = client.post(PATH, data=body, content_type="application/json")
            statuses.append(response.status_code)
            if response.status_code != 201:
                raise RuntimeError(f"{PATH} answered {response.status_code}: {response.content[:300]!r}")

    def copy():
        with connection.cursor() as cursor:
            for text in csvs[0]:
                cursor.cursor.copy_expert(f"COPY {STAGING} (account, occurred_at, event, user_id, quantity) "
                                          "FROM STDIN WITH (FORMAT csv)", io.StringIO(text))

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    _staging_create()
    ctx.out(f"  {NAME}: {BATCHES} batches x {EVENTS_PER_BATCH:,} events, {ctx.repeat} runs after a warm-up")
    try:
        runs = timed_runs({"api": api, "copy": copy}, repeat=ctx.repeat, setup=setup)
    finally:
        celery_app.conf.task_always_eager = eager
        _staging_drop()
        api_token_revoke(token=token)
    events = BATCHES * EVENTS_PER_BATCH
    api_s, copy_s = median(runs["api"]), median(runs["copy"])
    rate, floor_rate = events / api_s, events / copy_s
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(events) FROM health_usagedaily WHERE tenant_id = %s", [tenant.pk])
        daily_rows, counted = cursor.fetchone()
    return result(
        name=NAME, what=WHAT, value=round(rate), unit="events/s", floor=round(floor_rate),
        ratio=round(median_ratio(runs["api"], runs["copy"]), 2),
        target=f">= {TARGET_RATE:,} events/s", met=rate >= TARGET_RATE,
        note=(f"Figure: {BATCHES} POSTs of {EVENTS_PER_BATCH:,} events ({events:,} events) through the test client "
              "in one process, JSON bodies prepared in advance, 201 expected for each. Floor: COPY of the same "
              "events as CSV into a plain staging table, one COPY per batch. Ratio: API time over COPY time."),
        details={
            "API runs (s)": ", ".join(f"{x:.2f}" for x in runs["api"]),
            "COPY runs (s)": ", ".join(f"{x:.2f}" for x in runs["copy"]),
            "per request (median)": f"{api_s / BATCHES * 1000:.0f} ms for {EVENTS_PER_BATCH:,} events",
            "accounts": f"{ACCOUNTS:,} in tenant {SLUG}",
            "usage rows written": f"{daily_rows:,} account-days holding {counted:,} events "
                                  f"({ctx.repeat + 1} rounds of {events:,})",
        },
    )


def tenant_accounts(tenant) -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT external_id, licensed_seats FROM accounts_account WHERE tenant_id = %s "
                       "ORDER BY external_id", [tenant.pk])
        return cursor.fetchall()


def _tenant() -> Tenant:
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant = tenant_create(slug=SLUG, name="Bench ingest")
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_account WHERE tenant_id = %s", [tenant.pk])
        if cursor.fetchone()[0] < ACCOUNTS:
            cursor.execute(
                """INSERT INTO accounts_account (tenant_id, name, external_id, domain, industry, region, licensed_seats,
                     status, created_at, updated_at)
                   SELECT %(t)s, 'Ingest customer ' || g, 'ING-' || lpad(g::text, 5, '0'), '', '', '',
                          5 + (g * 7919) %% 200, 'active', now(), now()
                   FROM generate_series(1, %(n)s) g
                   ON CONFLICT (tenant_id, external_id) WHERE external_id <> '' DO NOTHING""",
                {"t": tenant.pk, "n": ACCOUNTS})
    return tenant


def _clear(tenant) -> None:
    """Empties what earlier runs wrote for the ingest tenant, then vacuums, so every run starts alike."""
    with tenant_context(tenant), connection.cursor() as cursor:
        for table in USAGE_TABLES:
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for table in USAGE_TABLES[:3]:
                cursor.execute(f"VACUUM {table}")


def _events(rng: random.Random, seats: dict[str, int], day) -> list[dict]:
    accounts = list(seats)
    start = datetime.combine(day, time.min, tzinfo=UTC)
    events = []
    for _ in range(EVENTS_PER_BATCH):
        account = rng.choice(accounts)
        at = start + timedelta(seconds=rng.randrange(86_400))
        events.append({"account": account, "occurred_at": at.isoformat(), "event": rng.choice(FEATURES),
                       "user_id": f"user-{rng.randrange(1, seats[account] + 1)}", "quantity": rng.randint(1, 5)})
    return events


def _csv(events: list[dict]) -> str:
    return "".join(f"{e['account']},{e['occurred_at']},{e['event']},{e['user_id']},{e['quantity']}\n"
                   for e in events)


def _staging_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(f"CREATE TABLE {STAGING} (account varchar(64), occurred_at timestamptz, event varchar(120), "
                       "user_id varchar(120), quantity numeric(16, 2))")


def _staging_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
