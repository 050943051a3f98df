"""What every benchmark shares: timing (median after a warm-up), the result shape, the machine, and the writer
of bench/results.json and docs/benchmarks.md."""

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import django
from django.conf import settings
from django.db import connection
from django.utils import timezone

from csplatform.tenancy.models import Tenant

from .load.report import LOAD_JSON, doc_with_section, section_from_file

RESULTS_JSON = Path(settings.BASE_DIR) / "bench" / "results.json"
BENCHMARKS_MD = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"


@dataclass
class BenchContext:
    """What a benchmark gets: the generated book and how many timed runs to make."""

    record: dict  # the book's record (bench.generator.params)
    tenants: list[Tenant]  # the book's tenants, largest first
    end: date  # the book's last day
    repeat: int
    out: Callable[[str], None] = print
    extra: dict = field(default_factory=dict)


def timed_runs(fns: dict[str, Callable[[], object]], *, repeat: int,
               setup: Callable[[int], None] | None = None) -> dict[str, list[float]]:
    """Seconds per run of each function: one warm-up run each (not kept), then `repeat` rounds in which the
    functions run one after the other, so that a figure and its floor see the same machine weather.
    `setup(round)` runs before each round, untimed (round 0 is the warm-up)."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for round_no in range(repeat + 1):
        if setup is not None:
            setup(round_no)
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - started
            if round_no:
                runs[name].append(elapsed)
    return runs


def median(values: list[float]) -> float:
    return statistics.median(values)


def median_ratio(figure_runs: list[float], floor_runs: list[float]) -> float:
    """The median of the per-round ratios: each round's figure over the floor measured right after it, so a
    burst of load from elsewhere moves both sides of a ratio rather than one figure."""
    return statistics.median(f / g for f, g in zip(figure_runs, floor_runs, strict=True))


def result(*, name: str, what: str, value, unit: str, floor, ratio, target: str, met: bool | None,
           note: str = "", details: dict | None = None) -> dict:
    """One benchmark's outcome. `ratio` is the product's cost over the floor's (1.0 = as fast as PostgreSQL
    alone), whatever the unit; `floor` is in the same unit as `value`."""
    return {"name": name, "what": what, "value": value, "unit": unit, "floor": floor, "ratio": ratio,
            "target": target, "met": met, "note": note, "details": details or {}}


def machine() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
                       "'effective_cache_size', 'jit', 'max_parallel_workers_per_gather', 'synchronous_commit') "
                       "ORDER BY name")
        pg_settings = {name: _pg_setting(value, unit) for name, value, unit in cursor.fetchall()}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    return {"cpus": os.cpu_count(), "cpu_model": _cpu_model(), "ram_gb": _ram_gb(), "load_average": load,
            "postgresql": pg_version, "postgresql_settings": pg_settings,
            "python": platform.python_version(), "django": django.get_version(), "os": platform.platform()}


def _pg_setting(value: str, unit: str | None) -> str:
    if unit == "8kB":
        return f"{int(value) * 8 // 1024} MB"
    if unit == "kB":
        return f"{int(value) // 1024} MB"
    return value


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


# --- writing -------------------------------------------------------------------------------------------

def _number(value, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit.startswith("events") or abs(value) >= 1000:
        return f"{value:,.0f} {unit}"
    if abs(value) >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.3f} {unit}"


def table_row(item: dict) -> str:
    met = {True: "yes", False: "**no**", None: "n/a"}[item.get("met")]
    ratio = "n/a" if item.get("ratio") is None else f"{item['ratio']:.2f}x"
    return (f"| {item['what']} | {_number(item['value'], item['unit'])} | {_number(item['floor'], item['unit'])} "
            f"| {ratio} | {item['target']} | {met} |")


def results_merge(previous: list[dict], new: list[dict]) -> list[dict]:
    """`--only` reruns some benchmarks: their entries are replaced, the others kept (with their own date)."""
    names = [item["name"] for item in new]
    kept = [item for item in previous if item.get("name") not in names]
    return kept + new


def results_write(*, results: list[dict], machine_info: dict, run: dict, book: dict | None,
                  json_path: Path = RESULTS_JSON, doc_path: Path = BENCHMARKS_MD, load_json: Path = LOAD_JSON) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    # The Load section comes from the last `make load` run (bench/load/report.py) and is kept as it was.
    doc_path.write_text(render_markdown(results=results, machine_info=machine_info, run=run, book=book,
                                        load_section=section_from_file(load_json)))


def render_markdown(*, results: list[dict], machine_info: dict, run: dict, book: dict | None,
                    load_section: str = "") -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `manage.py run_bench` (see bench/README.md), and its Load section by `make load`; do not edit by "
        "hand. Each figure is the median of "
        "several runs after a warm-up, next to its floor: what PostgreSQL alone takes for the same data in the "
        "same run. The ratio is the product's cost over the floor's (1.00x = as fast as the floor), the median of "
        "the per-round ratios (each round runs the figure and then its floor); on a noisy machine the ratio is the "
        "figure that counts.",
        "",
        "| what | figure | floor | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
        *[table_row(item) for item in results],
        "",
        "## Run",
        "",
        f"- Command: `{run['command']}`",
        f"- Date: {run['date']}",
        f"- Runs per figure: {run['repeat']} after one warm-up",
    ]
    older = sorted({(item.get("measured_at"), item.get("command")) for item in results
                    if item.get("measured_at") and item.get("measured_at") != run["date"]})
    for measured_at, command in older:
        names = ", ".join(i["name"] for i in results if i.get("measured_at") == measured_at)
        lines.append(f"- {names}: measured earlier, on {measured_at} by `{command}`")
    if book:
        p = book["params"]
        lines += [
            f"- Book: {p['tenants']} tenants, {p['accounts']:,} accounts, {p['days']} days of usage, seed "
            f"{p['seed']}, last day {book['end']} (`manage.py generate_book --tenants {p['tenants']} --accounts "
            f"{p['accounts']} --days {p['days']} --seed {p['seed']}`), generated in {book['seconds']:.0f} s "
            f"on {book['generated_at'][:10]}",
            "- Rows: " + ", ".join(f"{k} {v:,}" for k, v in book.get("counts", {}).items()),
        ]
    m = machine_info
    lines += [
        "",
        "## Machine",
        "",
        f"- CPUs: {m['cpus']} ({m['cpu_model']})",
        f"- RAM: {m['ram_gb']} GB",
        f"- Load average (1, 5, 15 min) when the run ended: {m.get('load_average', 'unknown')} (other work on the "
        "machine shows here; the per-round ratios absorb most of it)",
        f"- PostgreSQL {m['postgresql']}: " + ", ".join(f"{k} {v}" for k, v in m["postgresql_settings"].items()),
        f"- Python {m['python']}, Django {m['django']}, {m['os']}",
        "",
        "## Notes",
        "",
    ]
    for item in results:
        lines.append(f"### {item['name']}")
        lines.append("")
        if item.get("note"):
            lines.append(item["note"])
            lines.append("")
        for key, value in item.get("details", {}).items():
            lines.append(f"- {key}: {value}")
        lines.append("")
    return doc_with_section("\n".join(lines), load_section)


def run_info(*, command: str, repeat: int) -> dict:
    return {"command": command, "date": timezone.now().strftime("%Y-%m-%d %H:%M UTC"), "repeat": repeat}
