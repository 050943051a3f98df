import json
import os
import sys
import warnings

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench.benchmarks import benchmarks
from bench.generator import book_in_database, book_tenants, end_day_of, record_read
from bench.runner import (
    BENCHMARKS_MD,
    RESULTS_JSON,
    BenchContext,
    machine,
    results_merge,
    results_write,
    run_info,
)


class Command(BaseCommand):
    help = ("Runs the benchmarks on the generated book (manage.py generate_book) and writes docs/benchmarks.md and "
            "bench/results.json.")

    def add_arguments(self, parser):
        parser.add_argument("--only", action="append", metavar="NAME", choices=list(benchmarks()),
                            help="Run only this benchmark (repeatable); the others' last figures are kept")
        parser.add_argument("--repeat", type=int, default=5, help="Timed runs per figure, after one warm-up (5)")
        parser.add_argument("--no-write", action="store_true", help="Print the figures, write no file")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("run_bench needs PostgreSQL (set DATABASE_URL; `make bench` does).")
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1")
        record = record_read()
        if not book_in_database(record):
            raise CommandError("No generated book in this database: run `manage.py generate_book` first.")
        # As in production: no per-query logging (DEBUG would record every statement).
        settings.DEBUG = False
        warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic needed
        ctx = BenchContext(record=record, tenants=book_tenants(record), end=end_day_of(record),
                           repeat=options["repeat"], out=self.stdout.write)
        command = os.environ.get("BENCH_COMMAND") or "python manage.py " + " ".join(sys.argv[1:])
        run = run_info(command=command, repeat=options["repeat"])
        selected = {name: module for name, module in benchmarks().items()
                    if not options["only"] or name in options["only"]}
        p = record["params"]
        self.stdout.write(f"Book: {p['tenants']} tenants, {p['accounts']:,} accounts, {p['days']} days, "
                          f"last day {ctx.end}")
        results = []
        for name, module in selected.items():
            outcome = module.run(ctx)
            outcome.update(measured_at=run["date"], command=command)
            results.append(outcome)
            self.stdout.write(self.style.SUCCESS(
                f"  {name}: {outcome['value']} {outcome['unit']} (floor {outcome['floor']}, ratio "
                f"{outcome['ratio']}x, target {outcome['target']}: {'met' if outcome['met'] else 'NOT met'})"))
        if options["no_write"]:
            return
        previous = []
        if options["only"] and RESULTS_JSON.exists():
            previous = json.loads(RESULTS_JSON.read_text())
        results_write(results=results_merge(previous, results), machine_info=machine(), run=run, book=record)
        self.stdout.write(f"Wrote {BENCHMARKS_MD.relative_to(settings.BASE_DIR)} and "
                          f"{RESULTS_JSON.relative_to(settings.BASE_DIR)}")
