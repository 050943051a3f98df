"""The book generator on a tiny book (2 tenants, 40 accounts, 10 days), and the benchmark results writer."""

import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Account, Activity, ActivityContact, Contact
from bench.generator import params as book_params
from bench.generator.params import account_split
from bench.runner import render_markdown, result, results_merge, results_write
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Role, Tenant
from health.models import HealthScore, SentimentPulse, SupportTicket, SurveyResponse, UsageDaily
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
                          (SELECT array_agg(band ORDER BY score, band) FROM health_healthscore)""")
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
