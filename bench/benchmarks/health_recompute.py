"""The nightly health recompute of every book tenant for one day, next to the plain GROUP BY of the same usage.

Figure: `health.recompute.scores_compute` for each tenant inside its tenant context, for the book's last day
(the day the nightly run computes first: no score exists for it yet, the 7- and 30-day-old ones do). Each
tenant's write is rolled back after it is timed, so every run does the same inserts.

Floor: per tenant, the aggregate of the same 30-day usage window (`SELECT account_id, avg(active_users),
sum(events), avg(features) ... GROUP BY account_id`), consumed by an outer sum so that no rows travel to Python
(PostgreSQL computes every aggregate: the outer query uses them all). Summed over tenants, in the same rounds.
"""

import time

from django.db import connection, transaction

from csplatform.tenancy.context import tenant_context
from health.recompute import scores_compute

from ..runner import BenchContext, median, median_ratio, result, timed_runs

NAME = "health_recompute"
WHAT = "Nightly health recompute, all tenants, one day"
TARGET_RATIO = 3.0

FLOOR_SQL = """
    SELECT count(*), sum(x.active_users), sum(x.events), sum(x.features) FROM (
      SELECT account_id, avg(active_users) AS active_users, sum(events) AS events, avg(features) AS features
      FROM health_usagedaily
      WHERE tenant_id = %(t)s AND day > %(day)s::date - %(window)s AND day <= %(day)s
      GROUP BY account_id) x"""


def run(ctx: BenchContext) -> dict:
    tenants, day = ctx.tenants, ctx.end
    per_tenant: dict[str, dict[int, list[float]]] = {"recompute": {}, "recompute_nojit": {}, "floor": {},
                                                     "floor_60d": {}}
    written = []

    def recompute(jit: bool = True):
        rows = 0
        for tenant in tenants:
            started = time.perf_counter()
            with transaction.atomic():
                with tenant_context(tenant):
                    if not jit:
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL jit = off")
                    rows += scores_compute(tenant=tenant, day=day)
                transaction.set_rollback(True)
            per_tenant["recompute" if jit else "recompute_nojit"].setdefault(tenant.pk, []).append(
                time.perf_counter() - started)
        written.append(rows)

    def floor(window: int, key: str):
        def aggregate():
            for tenant in tenants:
                started = time.perf_counter()
                with tenant_context(tenant), connection.cursor() as cursor:
                    cursor.execute(FLOOR_SQL, {"t": tenant.pk, "day": day, "window": window})
                    cursor.fetchone()
                per_tenant[key].setdefault(tenant.pk, []).append(time.perf_counter() - started)
        return aggregate

    ctx.out(f"  {NAME}: {len(tenants)} tenants, day {day}, {ctx.repeat} runs after a warm-up")
    fns = {"recompute": recompute, "floor": floor(30, "floor"), "floor_60d": floor(60, "floor_60d")}
    jit_on = _setting("jit") == "on"
    if jit_on:  # the same recompute without JIT compilation, as the patch proposed in the notes would run it
        fns["recompute_nojit"] = lambda: recompute(jit=False)
    runs = timed_runs(fns, repeat=ctx.repeat, setup=_vacuum_scores)
    value, floor_s, floor_60 = median(runs["recompute"]), median(runs["floor"]), median(runs["floor_60d"])
    ratio = median_ratio(runs["recompute"], runs["floor"])
    extra = {}
    if jit_on:
        nojit = median(runs["recompute_nojit"])
        extra["with SET LOCAL jit = off (proposed)"] = (
            f"{nojit:.3f} s (ratio {median_ratio(runs['recompute_nojit'], runs['floor']):.2f}x)")
    largest = tenants[0]
    usage_rows = _usage_rows(tenants, day)
    return result(
        name=NAME, what=WHAT, value=round(value, 3), unit="s", floor=round(floor_s, 3), ratio=round(ratio, 2),
        target=f"ratio within {TARGET_RATIO:g}x", met=ratio <= TARGET_RATIO,
        note=("Figure: `scores_compute` for every book tenant for the book's last day, each tenant in its own "
              "transaction (rolled back after timing). Floor: the plain `GROUP BY account_id` of the same 30-day "
              "usage window per tenant, summed. The default scorecard has a 30-day usage trend measure, so the "
              "recompute reads 60 days of usage: the 60-day aggregate is shown for comparison."),
        details={
            "runs (s)": ", ".join(f"{x:.3f}" for x in runs["recompute"]),
            "floor runs (s)": ", ".join(f"{x:.3f}" for x in runs["floor"]),
            "floor over 60 days (s)": (f"{floor_60:.3f} "
                                       f"(ratio {median_ratio(runs['recompute'], runs['floor_60d']):.2f}x)"),
            "tenants": len(tenants),
            "scores written per run": written[-1],
            "usage rows in the 30-day window": f"{usage_rows:,}",
            **extra,
            "largest tenant": (f"{largest.slug}, {ctx.record['tenants'][0]['accounts']:,} accounts: recompute "
                               f"{median(per_tenant['recompute'][largest.pk][1:]):.3f} s, floor "
                               f"{median(per_tenant['floor'][largest.pk][1:]):.3f} s"),
        },
    )


def _usage_rows(tenants, day) -> int:
    total = 0
    for tenant in tenants:
        with tenant_context(tenant), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM health_usagedaily WHERE tenant_id = %s AND day > %s::date - 30 "
                           "AND day <= %s", [tenant.pk, day, day])
            total += cursor.fetchone()[0]
    return total


def _vacuum_scores(_round: int) -> None:
    """Each rolled-back run leaves dead index entries under the same keys, which the next run's uniqueness
    checks would wade through: vacuumed away before each round, untimed (autovacuum would, in production)."""
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM health_healthscore")


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]
