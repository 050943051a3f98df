"""The load run's figures: read from locust's CSV files, written to bench/load-results.json and to the "Load"
section of docs/benchmarks.md (which `run_bench` keeps when it rewrites the rest of that file)."""

import csv
import json
import re
from pathlib import Path

from django.conf import settings

LOAD_JSON = Path(settings.BASE_DIR) / "bench" / "load-results.json"
SECTION = "## Load"
PAGE_TARGET_MS = 300
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[^"]*" (?P<status>\d+) \S+ (?P<ms>\d+)ms$')


def kind_of(name: str) -> str:
    if name.startswith("Login"):
        return "login"
    if "/api/" in name:
        return "api"
    return "page"


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def stats_read(prefix: Path) -> tuple[list[dict], dict, list[dict]]:
    """Per request name, the aggregate and the failures, from locust's `<prefix>_stats.csv` and
    `<prefix>_failures.csv`. Locust rounds its percentiles (to 10 ms above 100 ms, 100 ms above 1 s)."""
    rows, total = [], {}
    with open(f"{prefix}_stats.csv", newline="") as file:
        for row in csv.DictReader(file):
            item = {
                "name": row["Name"], "method": row["Type"], "kind": kind_of(row["Name"]),
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": _number(row["Requests/s"]), "mean_ms": _number(row["Average Response Time"]),
                "p50_ms": _number(row["50%"]), "p95_ms": _number(row["95%"]), "p99_ms": _number(row["99%"]),
                "max_ms": _number(row["Max Response Time"]),
            }
            if row["Name"] == "Aggregated":
                total = item
            else:
                rows.append(item)
    failures = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        with open(failures_csv, newline="") as file:
            failures = [{"method": row["Method"], "name": row["Name"], "error": row["Error"],
                         "occurrences": int(row["Occurrences"])} for row in csv.DictReader(file)]
    return rows, total, failures


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def server_times(access_log: Path, *, resolve_name) -> list[dict]:
    """Per method and route, the time gunicorn's worker spent on each request (the access log's last field,
    `%(M)sms`), so that time in the server can be told from time spent queueing for a free worker.
    `resolve_name(path)` gives the route's URL name (None for a path that does not resolve)."""
    times: dict[tuple[str, str], list[float]] = {}
    if not access_log.exists():
        return []
    for line in access_log.read_text().splitlines():
        match = ACCESS_LINE.search(line)
        if not match:
            continue
        name = resolve_name(match["path"].split("?", 1)[0])
        if name:
            times.setdefault((match["method"], name), []).append(float(match["ms"]))
    return [{"method": method, "route": name, "requests": len(values),
             "p50_ms": _percentile(values, 0.5), "p95_ms": _percentile(values, 0.95), "max_ms": max(values)}
            for (method, name), values in sorted(times.items(), key=lambda item: (item[0][1], item[0][0]))]


def verdict(rows: list[dict], total: dict) -> dict:
    slow = [r["name"] for r in rows if r["kind"] == "page" and (r["p95_ms"] or 0) >= PAGE_TARGET_MS]
    errors = total.get("failures", 0)
    return {"errors": errors, "slow_pages": slow, "met": errors == 0 and not slow,
            "target": f"zero errors; every page's p95 under {PAGE_TARGET_MS} ms"}


def results_build(*, rows: list[dict], total: dict, failures: list[dict], run: dict, machine: dict,
                  server: list[dict] | None = None) -> dict:
    order = {"page": 0, "api": 1, "login": 2}
    rows = sorted(rows, key=lambda r: (order[r["kind"]], r["name"]))
    return {**run, "verdict": verdict(rows, total), "total": total, "requests": rows, "failures": failures,
            "server": server or [], "machine": machine}


def _ms(value) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _cpu_line(cpu: dict | None) -> list[str]:
    if not cpu or cpu.get("machine_busy_percent") is None:
        return []
    available = cpu["seconds"] * cpu["cpus"]
    own = 100 * cpu["own_cpu_seconds"] / available if available else 0
    return [f"- CPU while the servers ran ({cpu['seconds']:.0f} s): the machine was {cpu['machine_busy_percent']:.0f}% "
            f"busy; this run's gunicorn, Celery and locust processes used {own:.0f}% of its capacity, and "
            "PostgreSQL (for this run and for anything else) is in the rest. A run on a machine busy with other "
            "work measures the machine more than the app."]


def render_section(results: dict) -> str:
    """The "Load" section of docs/benchmarks.md."""
    r, m, v, total = results, results["machine"], results["verdict"], results["total"]
    users = r["users"]
    lines = [
        SECTION,
        "",
        "Written by `make load` (bench/load/, see bench/README.md): gunicorn with production settings "
        "(DEBUG off, whitenoise static files, the runtime database role) and a Celery worker on 127.0.0.1, "
        "driven by locust headless. CSMs log in and browse their accounts (list, search, Account 360, My work) "
        "and log activities through the form; managers open the dashboards; one feed posts usage batches to "
        "the API. Times are as the client sees them (locust's percentiles are rounded to 10 ms above 100 ms). "
        "Locust runs on the same machine and takes part of its CPU.",
        "",
        f"- Command: `{r['command']}`",
        f"- Date: {r['date']}",
        f"- Duration: {r['duration_s']} s, counted once every user was running (a ramp-up of "
        f"{users['spawn_rate']} users/s; the logins happen in it and are not in the table)",
        f"- Users: {users['total']} ({users['description']}); think time {r['think_time']}",
        f"- Server: gunicorn, {r['gunicorn_workers']} sync workers, and a Celery worker (1 process), as database "
        f"role `{r.get('database_role', '?')}`; tenant "
        f"{r['tenant']} ({r['tenant_accounts']:,} accounts) of the book ({r['book']})",
        f"- Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['postgresql'].split()[0]}, Python {m['python']}, Django {m['django']}; load average (1, 5, 15 min) "
        f"before the run {r.get('load_average_before', '?')}, after it {m['load_average']}",
        *_cpu_line(r.get("cpu")),
        f"- Throughput: {total['rps']:.1f} requests/s, {total['requests']:,} requests, {total['failures']:,} errors",
        f"- Target ({v['target']}): " + ("met" if v["met"] else "**not met**" + (
            f": p95 over {PAGE_TARGET_MS} ms on " + ", ".join(v["slow_pages"]) if v["slow_pages"] else "")
            + (f"; {v['errors']} errors" if v["errors"] else "")),
        "",
        "| request | kind | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["requests"]:
        p95 = _ms(row["p95_ms"])
        if row["kind"] == "page" and (row["p95_ms"] or 0) >= PAGE_TARGET_MS:
            p95 = f"**{p95}**"
        lines.append(f"| {row['name']} | {row['kind']} | {row['requests']:,} | {row['rps']:.2f} | "
                     f"{_ms(row['p50_ms'])} | {p95} | {_ms(row['p99_ms'])} | {_ms(row['max_ms'])} | "
                     f"{row['failures']:,} |")
    lines.append(f"| all | | {total['requests']:,} | {total['rps']:.2f} | {_ms(total['p50_ms'])} | "
                 f"{_ms(total['p95_ms'])} | {_ms(total['p99_ms'])} | {_ms(total['max_ms'])} | {total['failures']:,} |")
    if results.get("server"):
        lines += ["", "Time in the server (gunicorn's access log, the whole run including the ramp-up): what a worker "
                  "spent on each request; the rest of the time above is spent waiting for a free worker and in "
                  "the client.", "",
                  "| route | requests | p50 ms | p95 ms | max ms |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {t['method']} {t['route']} | {t['requests']:,} | {_ms(t['p50_ms'])} | {_ms(t['p95_ms'])} | "
                  f"{_ms(t['max_ms'])} |" for t in results["server"]]
    if results["failures"]:
        lines += ["", "Errors:", ""]
        lines += [f"- {f['method']} {f['name']}: {f['error']} ({f['occurrences']}x)" for f in results["failures"]]
    for note in results.get("notes", []):
        lines += ["", note]
    return "\n".join(lines) + "\n"


def section_from_file(json_path: Path = LOAD_JSON) -> str:
    """The Load section from the last run's results, or '' when `make load` has not run here."""
    if not json_path.exists():
        return ""
    try:
        return render_section(json.loads(json_path.read_text()))
    except (ValueError, KeyError):
        return ""


def doc_with_section(doc: str, section: str) -> str:
    """The document with its Load section (always the last one) replaced by `section`."""
    head = doc.split(f"\n{SECTION}\n", 1)[0].rstrip()
    return head + "\n\n" + section if section else head + "\n"


def results_write(results: dict, *, json_path: Path = LOAD_JSON, doc_path: Path) -> None:
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    doc = doc_path.read_text() if doc_path.exists() else "# Benchmarks\n"
    doc_path.write_text(doc_with_section(doc, render_section(results)))
