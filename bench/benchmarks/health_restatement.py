"""Restating 30 days of health history for the largest book tenant, next to the plain aggregate of the same days.

Figure: `health.recompute.scores_compute` for each of the 30 days ending on the book's last day, oldest first
(so each day's 7- and 30-day changes read the days already restated), as `manage.py health_backfill --days 30`
and the scorecard page's "Restate history" run it; all 30 days in one transaction, rolled back after timing so
every round does the same inserts. The largest tenant (18,573 accounts in the full book) bounds the run time;
every tenant's restatement is independent and scales the same way (see health_recompute for all tenants, one day).

Floor: the plain `GROUP BY account_id` of each day's 30-day usage window (health_recompute's floor), 30 times.
"""

import time
from datetime import timedelta

from django.db import connection, transaction

from csplatform.tenancy.context import tenant_context
from health.recompute import scores_compute

from ..runner import BenchContext, median, median_ratio, result, timed_runs
from .health_recompute import FLOOR_SQL, _vacuum_scores

NAME = "health_restatement"
WHAT = "Health history restated for 30 days, largest tenant"
TARGET_RATIO = 3.0
DAYS = 30


def run(ctx: BenchContext) -> dict:
    tenant = ctx.tenants[0]
    days = [ctx.end - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]
    written = []
    slowest: list[float] = []

    def restate():
        rows, per_day = 0, []
        with transaction.atomic():
            with tenant_context(tenant):
                for day in days:
                    started = time.perf_counter()
                    rows += scores_compute(tenant=tenant, day=day)
                    per_day.append(time.perf_counter() - started)
            transaction.set_rollback(True)
        written.append(rows)
        slowest.append(max(per_day))

    def floor():
        with tenant_context(tenant), connection.cursor() as cursor:
            for day in days:
                cursor.execute(FLOOR_SQL, {"t": tenant.pk, "day": day, "window": 30})
                cursor.fetchone()

    rounds = max(1, min(ctx.repeat, 3))
    ctx.out(f"  {NAME}: {tenant.slug} ({ctx.record['tenants'][0]['accounts']:,} accounts), {days[0]} to "
            f"{days[-1]}, {rounds} runs after a warm-up")
    runs = timed_runs({"restate": restate, "floor": floor}, repeat=rounds, setup=_vacuum_scores)
    value, floor_s = median(runs["restate"]), median(runs["floor"])
    ratio = median_ratio(runs["restate"], runs["floor"])
    return result(
        name=NAME, what=WHAT, value=round(value, 2), unit="s", floor=round(floor_s, 3), ratio=round(ratio, 2),
        target=f"ratio within {TARGET_RATIO:g}x", met=ratio <= TARGET_RATIO,
        note=(f"Figure: `scores_compute` for each of the {DAYS} days ending on the book's last day, oldest first, "
              f"for the largest tenant ({tenant.slug}), in one transaction rolled back after timing (what "
              "`health_backfill --days 30` and \"Restate history\" do, one JobRun per day). Floor: the plain "
              "`GROUP BY account_id` of each day's 30-day usage window, 30 times. The ratio is the recompute's "
              "(health_recompute) over 30 days: the restatement is that statement once per day."),
        details={
            "runs (s)": ", ".join(f"{x:.2f}" for x in runs["restate"]),
            "floor runs (s)": ", ".join(f"{x:.3f}" for x in runs["floor"]),
            "scores written per run": f"{written[-1]:,}",
            "slowest day (s)": f"{max(slowest[1:] or slowest):.2f}",
            "per day": f"{value / DAYS:.2f} s (floor {floor_s / DAYS:.3f} s)",
        },
    )
