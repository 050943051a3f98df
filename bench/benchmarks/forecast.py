"""The nightly renewal forecast of every book tenant for one day, next to a plain aggregate of the same renewals.

Figure: `renewals.forecast.forecast_compute` for each tenant inside its tenant context, for the book's last day
(one ForecastLine per open renewal with its health band and probability, then the ForecastSnapshot rows per
month and fiscal quarter x CSM x segment). Each tenant's write is rolled back after it is timed, so every run
does the same inserts. The book leaves the last day's health scores to the health benchmark, so the band is the
latest score before the day (the forecast's fallback path), as on a night the health job did not run first.

Floor: per tenant, two plain statements over the same rows: the open renewals grouped by close month and
forecast category (`SELECT date_trunc('month', close_date), category, count(*), sum(current_arr),
sum(expected_arr) FROM renewals_renewalopportunity WHERE tenant_id = %s AND stage <> 'closed' GROUP BY 1, 2`,
consumed by an outer sum so no rows travel to Python) and the ARR of the contracts counting on the day
(`SELECT sum(arr) FROM renewals_contract WHERE tenant_id = %s AND <renewals.arr.COUNTS_ON>`). Summed over
tenants, in the same rounds.
"""

import time

from django.db import connection, transaction

from csplatform.tenancy.context import tenant_context
from renewals.arr import COUNTS_ON
from renewals.forecast import forecast_compute

from ..runner import BenchContext, median, median_ratio, result, timed_runs

NAME = "renewals_forecast"
WHAT = "Nightly renewal forecast, all tenants, one day"
TARGET_RATIO = 3.0

FLOOR_RENEWALS_SQL = """
    SELECT count(*), sum(x.n), sum(x.current_arr), sum(x.expected_arr) FROM (
      SELECT date_trunc('month', close_date) AS month, category, count(*) AS n, sum(current_arr) AS current_arr,
             sum(expected_arr) AS expected_arr
      FROM renewals_renewalopportunity
      WHERE tenant_id = %(t)s AND stage <> 'closed'
      GROUP BY 1, 2) x"""
FLOOR_ARR_SQL = f"SELECT count(*), sum(c.arr) FROM renewals_contract c WHERE c.tenant_id = %(t)s AND {COUNTS_ON}"


def run(ctx: BenchContext) -> dict:
    tenants, day = ctx.tenants, ctx.end
    per_tenant: dict[str, dict[int, list[float]]] = {"forecast": {}, "floor": {}}
    written = []
    book = _book_counts(tenants, day)
    if not book["contracts"]:
        raise RuntimeError("The book has no contracts: run `manage.py generate_book` (it adds them to an old book).")

    def forecast():
        rows = 0
        for tenant in tenants:
            started = time.perf_counter()
            with transaction.atomic():
                with tenant_context(tenant):
                    rows += forecast_compute(tenant=tenant, day=day)
                transaction.set_rollback(True)
            per_tenant["forecast"].setdefault(tenant.pk, []).append(time.perf_counter() - started)
        written.append(rows)

    def floor():
        for tenant in tenants:
            started = time.perf_counter()
            with tenant_context(tenant), connection.cursor() as cursor:
                cursor.execute(FLOOR_RENEWALS_SQL, {"t": tenant.pk})
                cursor.fetchone()
                cursor.execute(FLOOR_ARR_SQL, {"t": tenant.pk, "on": day})
                cursor.fetchone()
            per_tenant["floor"].setdefault(tenant.pk, []).append(time.perf_counter() - started)

    ctx.out(f"  {NAME}: {len(tenants)} tenants, day {day}, {book['open renewals']:,} open renewals, "
            f"{ctx.repeat} runs after a warm-up")
    runs = timed_runs({"forecast": forecast, "floor": floor}, repeat=ctx.repeat, setup=_vacuum_forecast)
    value, floor_s = median(runs["forecast"]), median(runs["floor"])
    ratio = median_ratio(runs["forecast"], runs["floor"])
    largest = tenants[0]
    return result(
        name=NAME, what=WHAT, value=round(value, 3), unit="s", floor=round(floor_s, 3), ratio=round(ratio, 2),
        target=f"ratio within {TARGET_RATIO:g}x", met=ratio <= TARGET_RATIO,
        note=("Figure: `forecast_compute` for every book tenant for the book's last day, each tenant in its own "
              "transaction (rolled back after timing): the forecast lines of the open renewals (health band, "
              "probability) and the snapshot rows by month and fiscal quarter x CSM x segment. The book leaves the "
              "last day's health scores to health_recompute, so the band is the latest earlier score (the "
              "forecast's fallback probe). Floor: per tenant, the plain `GROUP BY` close month and category of "
              "the open renewals (count, current and expected ARR) plus the sum of the ARR of the contracts "
              "counting on the day (`renewals.arr.COUNTS_ON`), summed over tenants."),
        details={
            "runs (s)": ", ".join(f"{x:.3f}" for x in runs["forecast"]),
            "floor runs (s)": ", ".join(f"{x:.3f}" for x in runs["floor"]),
            "tenants": len(tenants),
            "rows written per run (lines and snapshot rows)": f"{written[-1]:,}",
            "open renewals": f"{book['open renewals']:,}",
            "contracts": f"{book['contracts']:,} ({book['counting']:,} counting on the day)",
            "closed renewals": f"{book['closed renewals']:,}",
            "expansions": f"{book['expansions']:,}",
            "largest tenant": (f"{largest.slug}, {ctx.record['tenants'][0]['accounts']:,} accounts: forecast "
                               f"{median(per_tenant['forecast'][largest.pk][1:]):.3f} s, floor "
                               f"{median(per_tenant['floor'][largest.pk][1:]):.3f} s"),
        },
    )


def _book_counts(tenants, day) -> dict[str, int]:
    totals = dict.fromkeys(("contracts", "counting", "open renewals", "closed renewals", "expansions"), 0)
    sql = f"""SELECT (SELECT count(*) FROM renewals_contract WHERE tenant_id = %(t)s),
                     (SELECT count(*) FROM renewals_contract c WHERE c.tenant_id = %(t)s AND {COUNTS_ON}),
                     (SELECT count(*) FILTER (WHERE stage <> 'closed') FROM renewals_renewalopportunity
                      WHERE tenant_id = %(t)s),
                     (SELECT count(*) FILTER (WHERE stage = 'closed') FROM renewals_renewalopportunity
                      WHERE tenant_id = %(t)s),
                     (SELECT count(*) FROM renewals_expansionopportunity WHERE tenant_id = %(t)s)"""
    for tenant in tenants:
        with tenant_context(tenant), connection.cursor() as cursor:
            cursor.execute(sql, {"t": tenant.pk, "on": day})
            for name, n in zip(totals, cursor.fetchone(), strict=True):
                totals[name] += n
    return totals


def _vacuum_forecast(_round: int) -> None:
    """Each rolled-back run leaves dead rows and index entries under the same keys (forecastline_unique), which
    the next run would wade through: vacuumed away before each round, untimed."""
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM renewals_forecastline")
            cursor.execute("VACUUM renewals_forecastsnapshot")
