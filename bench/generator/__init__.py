"""The synthetic book of business (`manage.py generate_book`): bench tenants bench-01.. on PostgreSQL.

`book_generate()` drops the bench tenants (never the others), then per tenant, inside its tenant context
(row level security is forced), creates the people and writes every table with set-based statements
(bench/generator/book.py). Finally it vacuums and analyses the big tables and computes two days of health
history with the product's own recompute (30 and 7 days before the last day, so the nightly recompute
of the last day finds the scores its 7- and 30-day changes compare with), and then contracts, renewals and
expansions (bench/generator/renewals.py), which set Account.arr.

The parameters and the outcome are recorded in var/bench/book-<host>-<database>.json; a later run with the
same parameters reuses the book when the database still holds it. The record carries the generator's
BOOK_VERSION: a book of an older version (or one whose tenants have no contracts) gets the phases added since,
on top of what it holds, instead of being rebuilt.
"""

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant
from health.models import HealthScore
from health.recompute import portfolio_rollup, scores_compute
from renewals.models import Contract

from .book import BookWriter, TenantBook
from .params import (
    FULL,
    SLUG_PREFIX,
    SMALL,
    BookParams,
    account_split,
    end_day_of,
    record_forget,
    record_path,
    record_read,
    record_write,
    tenant_slug,
)
from .people import bench_tenants_drop, staff_for, tenant_with_people
from .renewals import TABLES as RENEWALS_TABLES
from .renewals import RenewalsBook, RenewalsWriter

__all__ = ["BOOK_VERSION", "FULL", "SMALL", "SLUG_PREFIX", "BookParams", "account_split", "book_generate",
           "book_in_database", "book_tenants", "end_day_of", "record_read", "staff_for"]

BIG_TABLES = ["tenancy_user", "tenancy_membership", "accounts_account", "accounts_contact", "accounts_activity",
              "accounts_activitycontact", "success_plans_successplan", "success_plans_goal", "health_sentimentpulse",
              "health_supportticket", "health_surveyresponse", "health_usagedaily"]
HISTORY_OFFSETS = (30, 7)  # days before the last day whose scores are computed as history
# 1: accounts, engagement, voice of the customer, usage, health history. 2: + contracts, renewals, expansions.
BOOK_VERSION = 2


def book_tenants(record: dict) -> list[Tenant]:
    """The book's tenants, in book order (bench-01 first: the largest)."""
    slugs = [t["slug"] for t in record["tenants"]]
    by_slug = {t.slug: t for t in Tenant.objects.filter(slug__in=slugs)}
    return [by_slug[s] for s in slugs if s in by_slug]


def book_in_database(record: dict | None) -> bool:
    """Whether the database still holds the recorded book: every tenant with its number of accounts."""
    if not record:
        return False
    tenants = book_tenants(record)
    if len(tenants) != len(record["tenants"]):
        return False
    for tenant, expected in zip(tenants, record["tenants"], strict=True):
        with tenant_context(tenant):
            if Account.objects.count() != expected["accounts"]:
                return False
    return True


class _Clock:
    def __init__(self, out):
        self.out = out
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def run(self, phase: str, fn: Callable, *count_names: str):
        started = time.monotonic()
        result = fn()
        self.seconds[phase] += time.monotonic() - started
        values = result if isinstance(result, tuple) else (result,)
        for name, value in zip(count_names or (phase,), values, strict=False):
            if isinstance(value, int):
                self.counts[name] += value
        return result


def _session(settings: dict[str, str]) -> None:
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])


def book_generate(*, params: BookParams, force: bool = False, end: date | None = None,
                  out: Callable[[str], None] = print) -> dict:
    """Builds the book (or reuses it); returns its record. PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise RuntimeError("generate_book needs PostgreSQL (set DATABASE_URL; `make bench` does).")
    record = record_read()
    if not force and record and record.get("params") == params.as_dict() and book_in_database(record):
        out(f"Reusing the book generated on {record['generated_at']} ({record_path().name}); --force rebuilds it.")
        if record.get("version", 1) < BOOK_VERSION or _tenants_without_contracts(book_tenants(record)):
            record = _renewals_add(record, out)
        return {**record, "reused": True}

    started = time.monotonic()
    clock = _Clock(out)
    end = end or timezone.localdate() - timedelta(days=1)
    record_forget()
    how = clock.run("drop", bench_tenants_drop)
    out(f"Dropped the previous bench tenants: {how}.")
    split = account_split(params.accounts, params.tenants)
    # Bulk-load settings for this session only. Nothing here needs each commit flushed before the next. The
    # tables being filled have no statistics yet (the planner takes them for empty and picks nested loops
    # that go quadratic), and JIT would compile every statement for the millions of rows it expects.
    _session({"synchronous_commit": "off", "work_mem": "256MB", "maintenance_work_mem": "512MB",
              "enable_nestloop": "off", "jit": "off"})
    tenants_out = []
    try:
        for index, accounts in enumerate(split, start=1):
            tenant_started = time.monotonic()
            slug = tenant_slug(index, params.tenants)
            tenant, people = clock.run("tenants and people", partial(
                tenant_with_people, slug=slug, name=f"Bench {index:02d}", index=index, accounts=accounts,
                seed=params.seed), "tenants")
            clock.counts["users"] += sum(len(ids) for ids in people.values())
            book = TenantBook(tenant_id=tenant.pk, index=index, accounts=accounts, days=params.days,
                              seed=params.seed, end=end)
            with tenant_context(tenant):
                writer = BookWriter(book, people["csm"])
                clock.run("accounts", writer.accounts)
                clock.run("contacts", writer.contacts)
                clock.run("activities", writer.activities, "activities", "activity contacts")
                clock.run("last touch", writer.touches, "contacts engaged")
                clock.run("plans and goals", writer.plans, "success plans", "goals")
                clock.run("sentiment pulses", writer.pulses)
                clock.run("support tickets", writer.tickets)
                clock.run("survey responses", writer.surveys)
                clock.run("usage daily", writer.usage)
                clock.run("foreign key checks", writer.check_constraints)
            tenants_out.append({"slug": slug, "accounts": accounts, "csms": len(people["csm"])})
            out(f"  {slug}: {accounts:>7,} accounts, {accounts * params.days:>10,} usage rows "
                f"in {time.monotonic() - tenant_started:6.1f} s")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit; RESET work_mem; RESET enable_nestloop; RESET jit")
    clock.run("vacuum and analyze", lambda: _vacuum_analyze(BIG_TABLES))
    tenants = book_tenants({"tenants": tenants_out})
    # With the server's own settings: this is the product's recompute.
    clock.run("health history", lambda: _history(tenants, end), "health scores")
    clock.run("vacuum and analyze", lambda: _vacuum_analyze(["health_healthscore", "health_portfoliohealthdaily"]))
    _renewals_phase(tenants, seed=params.seed, end=end, clock=clock)
    with connection.cursor() as cursor:
        cursor.execute("RESET maintenance_work_mem")
    bands = _band_mix(tenants, end - timedelta(days=min(HISTORY_OFFSETS)))
    record = {
        "version": BOOK_VERSION,
        "params": params.as_dict(), "end": end.isoformat(), "generated_at": timezone.now().isoformat(),
        "seconds": round(time.monotonic() - started, 1),
        "phases": {k: round(v, 2) for k, v in clock.seconds.items()},
        "counts": dict(clock.counts), "bands": bands, "tenants": tenants_out,
        "database": connection.settings_dict["NAME"],
    }
    record_write(record)
    _report(record, out)
    return record


def _tenants_without_contracts(tenants: list[Tenant]) -> list[Tenant]:
    missing = []
    for tenant in tenants:
        with tenant_context(tenant):
            if not Contract.objects.exists():
                missing.append(tenant)
    return missing


def _renewals_phase(tenants: list[Tenant], *, seed: int, end: date, clock: _Clock) -> None:
    """Contracts, renewals and expansions for each book tenant that has no contracts yet, each tenant in one
    transaction (an interrupted run leaves whole tenants, and the next run does the rest), then analysed."""
    for index, tenant in enumerate(tenants, start=1):  # book order: the index the other phases' keys use
        with transaction.atomic(), tenant_context(tenant):
            if Contract.objects.exists():
                continue
            writer = RenewalsWriter(RenewalsBook(tenant_id=tenant.pk, index=index, seed=seed, end=end))
            counts = clock.run("contracts and renewals", writer.write)
        for name, n in counts.items():
            clock.counts[name] += n
    clock.run("vacuum and analyze", lambda: _vacuum_analyze(RENEWALS_TABLES))


def _renewals_add(record: dict, out) -> dict:
    """Adds the renewals phase to a book generated before it (version 1), keeping every other row."""
    out(f"The book is version {record.get('version', 1)} (the generator's is {BOOK_VERSION}): adding contracts, "
        "renewals and expansions to it.")
    started = time.monotonic()
    clock = _Clock(out)
    tenants = book_tenants(record)
    _renewals_phase(tenants, seed=record["params"]["seed"], end=end_day_of(record), clock=clock)
    seconds = time.monotonic() - started
    done = _renewals_counts(tenants)  # from the database: tenants an interrupted run did count too
    record = {**record, "version": BOOK_VERSION, "counts": {**record.get("counts", {}), **done},
              "phases": {**record.get("phases", {}), **{k: round(v, 2) for k, v in clock.seconds.items()
                                                        if k == "contracts and renewals"}},
              "seconds": round(record.get("seconds", 0) + seconds, 1),
              "added": {**record.get("added", {}), "contracts and renewals": {
                  "at": timezone.now().isoformat(), "seconds": round(seconds, 1)}}}
    record_write(record)
    out(f"Added in {seconds:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in done.items()))
    return record


def _renewals_counts(tenants: list[Tenant]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    sql = """SELECT (SELECT count(*) FROM renewals_contract WHERE tenant_id = %(t)s),
                    (SELECT count(*) FROM renewals_contractline WHERE tenant_id = %(t)s),
                    (SELECT count(*) FROM renewals_renewalopportunity WHERE tenant_id = %(t)s),
                    (SELECT count(*) FROM renewals_expansionopportunity WHERE tenant_id = %(t)s),
                    (SELECT count(*) FROM renewals_renewalopportunity WHERE tenant_id = %(t)s AND stage <> 'closed')"""
    for tenant in tenants:
        with tenant_context(tenant), connection.cursor() as cursor:
            cursor.execute(sql, {"t": tenant.pk})
            for name, n in zip(("contracts", "contract lines", "renewals", "expansions", "renewals open"),
                               cursor.fetchone(), strict=True):
                totals[name] += n
    return dict(totals)


def _vacuum_analyze(tables: list[str]) -> None:
    """VACUUM sets the visibility map and hint bits a loaded table has in steady state; inside a transaction
    (the tests) only ANALYZE can run."""
    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'{verb} "{table}"')


def _history(tenants: list[Tenant], end: date) -> int:
    rows = 0
    for tenant in tenants:
        for offset in HISTORY_OFFSETS:
            day = end - timedelta(days=offset)
            with tenant_context(tenant):
                rows += scores_compute(tenant=tenant, day=day)
                portfolio_rollup(tenant=tenant, day=day)
    return rows


def _band_mix(tenants: list[Tenant], day: date) -> dict[str, int]:
    mix: dict[str, int] = defaultdict(int)
    for tenant in tenants:
        with tenant_context(tenant):
            for band, n in HealthScore.objects.filter(day=day).values_list("band").annotate(n=Count("id")).order_by():
                mix[band] += n
    return dict(mix)


def _report(record: dict, out) -> None:
    out("")
    out(f"Book: {record['params']} ending {record['end']}, generated in {record['seconds']:.1f} s")
    for phase, seconds in record["phases"].items():
        out(f"  {phase:<22} {seconds:8.1f} s")
    out("Rows: " + ", ".join(f"{k} {v:,}" for k, v in record["counts"].items()))
    out(f"Bands on the day {min(HISTORY_OFFSETS)} days before the end: {record['bands']}")
    out(f"Recorded in {record_path()}")
