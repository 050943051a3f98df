"""The load run (`make load`, bench/load/): its locustfile names routes that exist, its setup only touches bench
users, and its figures land in the Load section of docs/benchmarks.md. No load is run here."""

import json
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import resolve

from bench.generator import params as book_params
from bench.load import report
from bench.load.setup import load_setup, load_teardown
from bench.runner import render_markdown
from csplatform.tenancy.models import User

LOCUST_SUMMARY = """\
import json
import bench.load.locustfile as scenario
print(json.dumps({
    "routes": scenario.PAGES | scenario.API_CALLS,
    "people": {cls.__name__: len(cls.tasks) for cls in (scenario.Csm, scenario.Manager, scenario.UsageFeed)},
}))
"""


def locustfile_summary() -> dict:
    """Imported in a child process: locust patches the standard library with gevent when it is imported."""
    done = subprocess.run([sys.executable, "-c", LOCUST_SUMMARY], cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_imports_the_locustfile_and_every_route_it_requests_exists():
    summary = locustfile_summary()

    assert all(count > 0 for count in summary["people"].values()), summary["people"]
    for label, (url_name, template) in summary["routes"].items():
        path = template.format(slug="bench-01", account_id=1)
        match = resolve(path)  # Resolver404 when the route moved
        assert match.view_name == url_name, f"{label}: {path} is {match.view_name} now, not {url_name}"


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_sets_a_password_for_bench_users_only_and_a_token_the_teardown_revokes(tmp_path, monkeypatch, owner,
                                                                                 tenant_a):
    monkeypatch.setattr(book_params, "RECORD_DIR", tmp_path)
    call_command("generate_book", "--tenants", "2", "--accounts", "40", "--days", "5", "--end",
                 date(2026, 3, 31).isoformat(), stdout=StringIO())
    owner_password = User.objects.get(pk=owner.pk).password

    data = load_setup(path=tmp_path / "setup.json", csms=5)

    assert data["tenant"] == "bench-01" and data["csms"] and data["managers"] and data["usage_accounts"]
    assert (tmp_path / "setup.json").stat().st_mode & 0o077 == 0  # holds a password and a token
    for person in data["csms"] + data["managers"]:
        assert User.objects.get(email=person["email"]).check_password(data["password"])
    assert all(person["accounts"] for person in data["csms"])
    assert User.objects.get(pk=owner.pk).password == owner_password
    api = Client(HTTP_AUTHORIZATION=f"Bearer {data['token']}")
    assert api.get("/api/v1/me/").status_code == 200

    load_teardown(tenant_slug=data["tenant"])

    assert api.get("/api/v1/me/").status_code == 401
    with pytest.raises(RuntimeError, match="bench tenant"):
        load_setup(path=tmp_path / "other.json", csms=1, tenant_slug=tenant_a.slug)


STATS_CSV = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,Account 360,120,0,80,95.5,40,420,30000,2.0,0.0,80,90,100,110,150,210,300,380,420,420,420
GET,Renewals board,30,0,200,230,150,900,50000,0.5,0.0,200,220,240,250,300,340,500,800,900,900,900
POST,Usage batch (POST /api/v1/usage-events/),60,1,90,120,50,2000,200,1.0,0.02,\
90,100,110,120,200,400,900,1500,2000,2000,2000
POST,Login,10,0,400,420,300,700,0,0.2,0.0,400,420,450,500,600,700,700,700,700,700,700
,Aggregated,220,1,90,130,40,2000,25000,3.7,0.02,90,110,130,150,250,380,700,900,2000,2000,2000
"""
FAILURES_CSV = """\
Method,Name,Error,Occurrences
POST,Usage batch (POST /api/v1/usage-events/),usage batch answered 503,1
"""
MACHINE = {"cpus": 2, "cpu_model": "Test CPU", "ram_gb": 8, "load_average": "1.0, 1.0, 1.0",
           "postgresql": "15.2 (Debian)", "postgresql_settings": {}, "python": "3.11.7", "django": "5.2",
           "os": "Linux"}
RUN = {"command": "make load", "date": "2026-11-24 04:00 UTC", "duration_s": 180, "gunicorn_workers": 3,
       "tenant": "bench-01", "tenant_accounts": 18573, "book": "50 tenants, 100,000 accounts, 100 days, seed 1",
       "think_time": "1-4 s", "users": {"total": 20, "spawn_rate": 2, "description": "CSMs and managers"}}


def test_it_reports_each_request_against_the_target_and_run_bench_keeps_the_section(tmp_path):
    (tmp_path / "locust_stats.csv").write_text(STATS_CSV)
    (tmp_path / "locust_failures.csv").write_text(FAILURES_CSV)
    (tmp_path / "access.log").write_text(
        '127.0.0.1 "GET /t/bench-01/accounts/?csm=&page=2 HTTP/1.1" 200 5120 80ms\n'
        '127.0.0.1 "GET /t/bench-01/accounts/ HTTP/1.1" 200 5120 120ms\n'
        '127.0.0.1 "GET /nowhere/ HTTP/1.1" 404 10 3ms\n')
    rows, total, failures = report.stats_read(tmp_path / "locust")
    server = report.server_times(tmp_path / "access.log",
                                 resolve_name=lambda path: "accounts:list" if path.endswith("/accounts/") else None)
    results = report.results_build(rows=rows, total=total, failures=failures, run=RUN, machine=MACHINE,
                                   server=server)
    doc_path, json_path = tmp_path / "benchmarks.md", tmp_path / "load.json"
    doc_path.write_text("# Benchmarks\n\nThe rest.\n\n## Load\n\nAn older run.\n")

    report.results_write(results, json_path=json_path, doc_path=doc_path)

    assert results["verdict"] == {"errors": 1, "slow_pages": ["Renewals board"], "met": False,
                                  "target": "zero errors; every page's p95 under 300 ms"}
    assert [r["kind"] for r in results["requests"]] == ["page", "page", "api", "login"]
    doc = doc_path.read_text()
    assert "The rest." in doc and "An older run." not in doc and doc.count("## Load") == 1
    assert "| Renewals board | page | 30 | 0.50 | 200 | **340** | 800 | 900 | 0 |" in doc
    assert "| Account 360 | page | 120 | 2.00 | 80 | 210 | 380 | 420 | 0 |" in doc
    assert "usage batch answered 503 (1x)" in doc and "**not met**" in doc
    assert "| GET accounts:list | 2 | 80 | 120 | 120 |" in doc
    rerendered = render_markdown(results=[], machine_info=MACHINE, run={"command": "make bench", "date": "d",
                                                                         "repeat": 3}, book=None,
                                 load_section=report.section_from_file(json_path))
    assert rerendered.endswith(report.render_section(json.loads(json_path.read_text())))
    assert Path(report.LOAD_JSON).name == "load-results.json"
