"""The book generator on a tiny book (2 tenants, 40 accounts, 10 days), and the benchmark results writer."""

import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Account, Activity, ActivityContact, Contact
from bench.benchmarks import benchmarks
from bench.benchmarks.pages import PAGES
from bench.generator import BOOK_VERSION, book_tenants, end_day_of, record_read
from bench.generator import params as book_params
from bench.generator.params import account_split
from bench.runner import BenchContext, render_markdown, result, results_merge, results_write
from compensation.models import CompAssignment, CompStatement
from csplatform import celery_app
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Role, Tenant
from health.models import HealthScore, SentimentPulse, SupportTicket, SurveyResponse, UsageDaily
from renewals.arr import arr_on
from renewals.models import Contract, ContractLine, ExpansionOpportunity, ForecastLine, RenewalOpportunity
from success_plans.models import Goal, SuccessPlan
from tests.factories import AccountFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

END = date(2026, 3, 31)
TINY = ["--tenants", "2", "--accounts", "40", "--days", "10", "--end", END.isoformat()]


@pytest.fixture(autouse=True)
def _record_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(book_params, "RECORD_DIR", tmp_path)


def generate(*extra) -> str:
    out = StringIO()
    call_command("generate_book", *TINY, *extra, stdout=out)
    return out.getvalue()


def bench_tenants():
    return list(Tenant.objects.filter(slug__startswith="bench-").order_by("slug"))


def fingerprint() -> list:
    """What the seed decides, independent of row ids."""
    shape = []
    for tenant in bench_tenants():
        with tenant_context(tenant), connection.cursor() as cursor:
            cursor.execute(
                """SELECT (SELECT array_agg(name || ':' || licensed_seats || ':' || status ORDER BY external_id)
                           FROM accounts_account),
                          (SELECT sum(active_users) || '/' || sum(events) || '/' || sum(features)
                           FROM health_usagedaily),
                          (SELECT count(*) FROM accounts_contact), (SELECT count(*) FROM accounts_activity),
                          (SELECT count(*) FROM success_plans_goal), (SELECT count(*) FROM health_supportticket),
                          (SELECT sum(score) FROM health_surveyresponse),
                          (SELECT array_agg(band ORDER BY score, band) FROM health_healthscore),
                          (SELECT sum(arr) || '/' || count(*) FROM renewals_contract),
                          (SELECT array_agg(stage || ':' || category || ':' || outcome || ':' || expected_arr
                                            ORDER BY close_date, current_arr, stage, category, outcome)
                           FROM renewals_renewalopportunity),
                          (SELECT sum(amount) || '/' || count(*) FROM renewals_expansionopportunity),
                          (SELECT sum(arr) FROM accounts_account)""")
            shape.append((tenant.slug, *cursor.fetchone()))
    return shape


def test_it_builds_a_small_book_of_every_kind_of_row():
    output = generate()

    tenants = bench_tenants()
    assert [t.slug for t in tenants] == ["bench-01", "bench-02"]
    assert "usage daily" in output and "Recorded in" in output
    accounts, tickets = [], 0
    for tenant in tenants:
        with tenant_context(tenant):
            n = Account.objects.count()
            accounts.append(n)
            assert UsageDaily.objects.count() == n * 10, "one usage row per account per day"
            days = set(UsageDaily.objects.values_list("day", flat=True))
            assert days == {END - timedelta(days=i) for i in range(10)}
            assert Contact.objects.filter(persona="champion").count() == n
            assert Contact.objects.filter(persona="executive_sponsor").exists()
            assert Contact.objects.filter(receives_surveys=True).exists()
            assert Activity.objects.filter(kind__in=["call", "meeting"]).exists()
            assert ActivityContact.objects.exists()
            assert Account.objects.filter(last_touch_at__isnull=False).exists()
            assert SuccessPlan.objects.exists() and Goal.objects.filter(approved_by__isnull=False).exists()
            assert SentimentPulse.objects.exists()
            tickets += SupportTicket.objects.count()
            assert set(SurveyResponse.objects.values_list("kind", flat=True)) == {"nps", "csat"}
            assert HealthScore.objects.filter(day=END - timedelta(days=7)).count() == Account.objects.filter(
                status="active").count()
            assert not HealthScore.objects.filter(day=END).exists(), "the benchmark's day is left to compute"
        roles = set(Membership.objects.filter(tenant=tenant).values_list("role", flat=True))
        assert {Role.CSM, Role.MANAGER, Role.OPS} <= roles
        assert Membership.objects.filter(tenant=tenant, role=Role.CSM, manager__isnull=False).exists()
    assert sum(accounts) == 40 and accounts[0] > accounts[1], "split unevenly, largest first"
    assert tickets > 0


def test_it_is_rerunnable_and_the_seed_decides_the_book(tenant_a):
    with tenant_context(tenant_a):
        demo = AccountFactory(tenant=tenant_a, name="Demo customer")
    generate()
    first = fingerprint()

    assert "Reusing the book" in generate(), "the same parameters again reuse the book"
    assert "Dropped the previous bench tenants: deleted" in generate("--force")
    assert fingerprint() == first, "same seed, same book"
    generate("--seed", "2")
    assert fingerprint() != first

    assert len(bench_tenants()) == 2
    with tenant_context(tenant_a):
        assert Account.objects.filter(pk=demo.pk).exists(), "other tenants are never touched"


def renewals_shape() -> dict:
    shape = {"accounts": 0, "contracts": 0, "closed": 0, "open": 0, "expansions": 0, "outcomes": set(),
             "categories": set(), "stages": set(), "expansion stages": set()}
    for tenant in bench_tenants():
        with tenant_context(tenant):
            shape["accounts"] += Account.objects.count()
            shape["contracts"] += Contract.objects.count()
            shape["closed"] += RenewalOpportunity.objects.filter(stage="closed").count()
            shape["open"] += RenewalOpportunity.objects.exclude(stage="closed").count()
            shape["expansions"] += ExpansionOpportunity.objects.count()
            shape["outcomes"] |= set(RenewalOpportunity.objects.values_list("outcome", flat=True))
            shape["categories"] |= set(RenewalOpportunity.objects.exclude(stage="closed")
                                       .values_list("category", flat=True))
            shape["stages"] |= set(RenewalOpportunity.objects.values_list("stage", flat=True))
            shape["expansion stages"] |= set(ExpansionOpportunity.objects.values_list("stage", flat=True))
    return shape


def test_it_builds_contracts_renewals_and_expansions_for_every_account():
    generate()

    shape = renewals_shape()
    assert shape["contracts"] > shape["accounts"], "every account has a current term, most a previous one"
    assert shape["closed"] and shape["open"] and shape["expansions"]
    assert {"renewed_flat", "churned"} <= shape["outcomes"] and len(shape["outcomes"] - {""}) >= 3
    assert len(shape["categories"]) >= 3 and len(shape["stages"] - {"closed"}) >= 3
    assert {"won", "lost"} <= shape["expansion stages"] and shape["expansion stages"] - {"won", "lost"}
    for tenant in bench_tenants():
        with tenant_context(tenant):
            assert not Account.objects.filter(contracts__isnull=True).exists()
            for contract in Contract.objects.prefetch_related("lines"):
                assert contract.arr == sum(line.arr for line in contract.lines.all()) > 0
            assert ContractLine.objects.filter(product="Platform subscription").exists()
            open_renewals = RenewalOpportunity.objects.exclude(stage="closed")
            assert not open_renewals.exclude(close_date__range=(END, END + timedelta(days=120))).exists()
            assert not RenewalOpportunity.objects.filter(outcome__in=["churned", "downsell"], reason=None).exists()
            for renewal in RenewalOpportunity.objects.filter(outcome="renewed_flat").select_related("contract"):
                assert renewal.renewed_arr == renewal.current_arr
            assert not RenewalOpportunity.objects.filter(closed_on__gt=END).exists()
            assert not ExpansionOpportunity.objects.filter(closed_on__gt=END).exists()
            assert ExpansionOpportunity.objects.filter(lead_source__isnull=False).exists()
            arr = arr_on(on=END)
            for account in Account.objects.all():
                assert account.arr == arr.get(account.pk, 0), "Account.arr is the ARR counting on the last day"
            assert not Account.objects.filter(status="churned", arr__gt=0).exists()
    record = record_read()
    assert record["version"] == BOOK_VERSION
    assert record["counts"]["contracts"] == shape["contracts"] and record["counts"]["renewals open"] == shape["open"]


def accounts_by_tenant() -> dict[str, list[int]]:
    ids = {}
    for tenant in bench_tenants():
        with tenant_context(tenant):
            ids[tenant.slug] = sorted(Account.objects.values_list("pk", flat=True))
    return ids


def test_it_adds_the_renewals_to_a_book_generated_before_them():
    generate()
    built = fingerprint()
    account_ids = accounts_by_tenant()
    # The book as version 1 wrote it: no contracts, opportunities or ARR, no version in its record.
    for tenant in bench_tenants():
        with tenant_context(tenant):
            ExpansionOpportunity.objects.all().delete()
            RenewalOpportunity.objects.all().delete()
            ContractLine.objects.all().delete()
            Contract.objects.all().delete()
            Account.objects.update(arr=0)
    old = {k: v for k, v in record_read().items() if k != "version"}
    old["counts"] = {k: v for k, v in old["counts"].items() if k not in ("contracts", "renewals")}
    book_params.record_write(old)

    output = generate()

    assert "Reusing the book" in output and "adding contracts, renewals and expansions" in output
    assert "Dropped" not in output, "the rest of the book is kept, not regenerated"
    assert accounts_by_tenant() == account_ids
    assert fingerprint() == built, "the same renewals as a book generated with them"
    record = record_read()
    assert record["version"] == BOOK_VERSION and record["counts"]["contracts"] == renewals_shape()["contracts"]
    assert record["generated_at"] == old["generated_at"]
    assert "adding" not in generate(), "added once"


def book_context() -> BenchContext:
    """The tiny book, generated (or reused), as a benchmark sees it: one run after the warm-up, no output."""
    generate()
    record = record_read()
    return BenchContext(record=record, tenants=book_tenants(record), end=end_day_of(record), repeat=1,
                        out=lambda _line: None)


def test_it_runs_the_forecast_benchmark_on_the_book():
    ctx = book_context()

    outcome = benchmarks()["renewals_forecast"].run(ctx)

    assert outcome["name"] == "renewals_forecast" and outcome["unit"] == "s"
    assert outcome["value"] > 0 and outcome["floor"] > 0 and outcome["target"] == "ratio within 3x"
    assert "GROUP BY" in outcome["note"] and outcome["details"]["tenants"] == 2
    assert int(outcome["details"]["rows written per run (lines and snapshot rows)"].replace(",", "")) > 0
    for tenant in bench_tenants():
        with tenant_context(tenant):
            assert not ForecastLine.objects.exists(), "each run is rolled back"


def test_it_runs_the_comp_statements_benchmark_on_the_book():
    ctx = book_context()

    outcome = benchmarks()["comp_statements"].run(ctx)

    assert outcome["name"] == "comp_statements" and outcome["value"] > 0 and outcome["floor"] > 0
    assert int(outcome["details"]["statements written per run"].replace(",", "")) > 0
    for tenant in bench_tenants():
        with tenant_context(tenant):
            assert not CompStatement.objects.exists(), "each run is rolled back"
            assert CompAssignment.objects.exists(), "the book's CSMs are on the default plan"


def test_it_times_the_main_pages_on_the_largest_tenant_with_their_query_counts():
    ctx = book_context()

    outcome = benchmarks()["pages"].run(ctx)

    assert outcome["name"] == "pages" and outcome["unit"] == "ms" and outcome["value"] > 0
    assert outcome["floor"] is None and outcome["ratio"] is None
    assert set(outcome["details"]) == {label for label, *_ in PAGES}
    assert all("queries" in line and "p95" in line for line in outcome["details"].values())


def test_it_restates_30_days_of_health_history_on_the_largest_tenant():
    ctx = book_context()
    with tenant_context(ctx.tenants[0]):
        scores_before = HealthScore.objects.count()

    outcome = benchmarks()["health_restatement"].run(ctx)

    assert outcome["name"] == "health_restatement" and outcome["value"] > 0 and outcome["floor"] > 0
    assert int(outcome["details"]["scores written per run"].replace(",", "")) > 0
    with tenant_context(ctx.tenants[0]):
        assert HealthScore.objects.count() == scores_before, "each run is rolled back"


def _publishing_pool_reset():
    celery_app.pool  # noqa: B018  (close() only drops the producer pool along with an open connection pool)
    celery_app.close()


@pytest.mark.django_db(transaction=True)
def test_it_times_the_nightly_run_through_one_and_two_celery_worker_processes(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL or start Redis on 127.0.0.1:6379 (make test finds it)")
    ctx = book_context()
    # As after the ingest benchmark in a `make bench` run without REDIS_URL: the app's publishing pool is bound
    # to the in-memory broker. The passes must still reach their workers (they once waited forever here).
    broker, eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    _publishing_pool_reset()
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = "memory://", False
    celery_app.send_task("bench.nothing", queue="nowhere")
    celery_app.conf.task_always_eager = eager
    try:
        outcome = benchmarks()["nightly_workers"].run(ctx)
    finally:
        celery_app.conf.broker_url = broker
        _publishing_pool_reset()

    assert outcome["name"] == "nightly_workers" and outcome["unit"] == "x" and outcome["value"] > 0
    assert outcome["details"]["one process (s)"] and outcome["details"]["two processes (s)"]
    assert "health.scores" in outcome["details"]["time per job, summed over tenants (last pass)"]


def test_it_splits_a_large_book_with_a_big_largest_tenant():
    split = account_split(100_000, 50)
    assert sum(split) == 100_000 and len(split) == 50
    assert split[0] >= 10_000 and split == sorted(split, reverse=True) and split[-1] >= 5


def test_it_writes_the_results_table_and_json(tmp_path):
    items = [
        result(name="health_recompute", what="Nightly health recompute", value=2.5, unit="s", floor=1.0, ratio=2.5,
               target="ratio within 3x", met=True, details={"tenants": 50}),
        result(name="usage_ingest_api", what="Usage ingestion", value=61234.4, unit="events/s", floor=400000,
               ratio=6.53, target=">= 50,000 events/s", met=True),
    ]
    machine = {"cpus": 2, "cpu_model": "Test CPU", "ram_gb": 8.0, "postgresql": "15.2",
               "postgresql_settings": {"work_mem": "4 MB"}, "python": "3.11", "django": "5.2", "os": "Linux"}
    run = {"command": "make bench", "date": "2026-04-01 10:00 UTC", "repeat": 5}
    book = {"params": {"tenants": 50, "accounts": 100000, "days": 100, "seed": 1}, "end": "2026-03-31",
            "seconds": 300.0, "generated_at": "2026-04-01T09:00:00", "counts": {"accounts": 100000}}

    results_write(results=items, machine_info=machine, run=run, book=book, json_path=tmp_path / "results.json",
                  doc_path=tmp_path / "benchmarks.md")

    doc = (tmp_path / "benchmarks.md").read_text()
    assert "| what | figure | floor | ratio | target | met |" in doc
    assert "| Nightly health recompute | 2.500 s | 1.000 s | 2.50x | ratio within 3x | yes |" in doc
    assert "| Usage ingestion | 61,234 events/s | 400,000 events/s | 6.53x | >= 50,000 events/s | yes |" in doc
    assert "`make bench`" in doc and "CPUs: 2" in doc and "PostgreSQL 15.2" in doc
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [{k: i[k] for k in ("name", "value", "unit", "floor", "ratio", "target")} for i in saved][0] == {
        "name": "health_recompute", "value": 2.5, "unit": "s", "floor": 1.0, "ratio": 2.5,
        "target": "ratio within 3x"}
    merged = results_merge(saved, [dict(saved[1], value=70000)])
    assert [i["name"] for i in merged] == ["health_recompute", "usage_ingest_api"] and merged[1]["value"] == 70000
    assert "n/a" in render_markdown(results=[dict(items[1], value=None, floor=None, ratio=None, met=None)],
                                    machine_info=machine, run=run, book=None)
