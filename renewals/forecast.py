"""The nightly renewal forecast: set-based SQL, idempotent per (tenant, day).

`forecast_compute` writes, for one tenant and day,
1. one ForecastLine per open renewal (one DELETE and one INSERT ... SELECT): the account's CSM, segment and
   health band on the day (that day's score, else the latest before it, else 'none'), the probability from
   the tenant's table (renewals/probability.py, the same rule in SQL), and the weighted ARR;
2. the ForecastSnapshot rows of the day (one DELETE and one INSERT ... SELECT) per period (month and fiscal
   quarter) x CSM x segment, from the lines just written, the renewals closed this fiscal quarter and the
   expansion pipeline.

What a snapshot covers: open renewals whose close date falls before the end of the 4th fiscal quarter from
today's (an open renewal whose close date has passed is still undecided, so it counts in the current month
and quarter rather than vanishing); renewals and won expansions closed (closed_on) in the current fiscal
quarter, in the month and quarter they closed; open expansions by expected close (same overdue rule),
weighted by EXPANSION_STAGE_PROBABILITY.

`forecast_summary` reads the snapshot rows of a quarter for the forecast page and derives the quarter's
forecast GRR and NRR. PostgreSQL is the production path; SQLite (`make run`) runs the same statements through
a few dialect helpers, like health/recompute.py.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Max, Q, Sum

from csplatform.db import local_planner_settings
from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.models import Tenant

from .arr import COUNTS_ON
from .models import ForecastLine, ForecastSnapshot
from .periods import add_months, fiscal_quarter

JOB_NAME = "renewals.forecast"
HORIZON_QUARTERS = 4
# Chance (%) that an open expansion closes, by stage; expected expansion = amount x this / 100. Fixed for every
# tenant (the probability table is about renewals); documented in docs/renewals.md.
EXPANSION_STAGE_PROBABILITY = {"identified": 10, "qualified": 30, "proposal": 50, "negotiation": 70}
SNAPSHOT_AMOUNTS = ("arr_up", "committed", "best_case", "pipeline", "at_risk", "expected_churn",
                    "expected_contraction", "expected_expansion", "renewed")
ZERO = Decimal("0")
CENT = Decimal("0.01")


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"MAX({a}, {b})"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _pg() else f"MIN({a}, {b})"


def _month_start(expr: str) -> str:
    if _pg():
        return f"CAST(date_trunc('month', CAST({expr} AS timestamp)) AS date)"
    return f"date({expr}, 'start of month')"


def fiscal_quarter_start_sql(expr: str, first_month: int) -> str:
    """SQL for the first day of the fiscal quarter containing the date `expr`, for a fiscal year starting in
    `first_month`: the first of the month, minus (month - first_month) mod 3 months. Matches
    renewals.periods.fiscal_quarter(...).start (tested). For statements run with parameters ('%%' is '%')."""
    first_month = int(first_month)
    if not 1 <= first_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1-12, not {first_month}")
    if _pg():
        back = f"((CAST(EXTRACT(MONTH FROM CAST({expr} AS date)) AS int) + 12 - {first_month}) %% 3)"
        return (f"CAST(date_trunc('month', CAST({expr} AS timestamp)) - {back} * INTERVAL '1 month' AS date)")
    back = f"((CAST(strftime('%%m', {expr}) AS INTEGER) + 12 - {first_month}) %% 3)"
    return f"date({expr}, 'start of month', '-' || {back} || ' months')"


def _rules_join(alias: str, dimension: str, key: str) -> str:
    return (f"LEFT JOIN renewals_probabilityrule {alias} ON {alias}.tenant_id = y.tenant_id "
            f"AND {alias}.dimension = '{dimension}' AND {alias}.\"key\" = {key}")


def _lines_write(cursor, params: dict) -> int:
    cursor.execute("DELETE FROM renewals_forecastline WHERE tenant_id = %(t)s AND day = %(day)s", params)
    points = "COALESCE(pc.points, 0) + COALESCE(ps.points, 0) + COALESCE(pb.points, 0)"
    # The band: the latest score on or before the day (the day's own score when the health job ran first), else
    # 'none'; one backward probe of healthscore_unique (tenant, account, day) per renewal. MATERIALIZED so the
    # band is worked out once per renewal, not again for the probability join.
    cursor.execute(
        f"""WITH y AS MATERIALIZED (
              SELECT r.tenant_id, r.id AS renewal_id, r.account_id, a.csm_id, a.segment_id, r.close_date, r.stage,
                     r.category, r.current_arr, r.expected_arr,
                     COALESCE((SELECT h.band FROM health_healthscore h
                               WHERE h.tenant_id = r.tenant_id AND h.account_id = r.account_id
                                 AND h.day <= %(day)s
                               ORDER BY h.day DESC LIMIT 1), 'none') AS band
              FROM renewals_renewalopportunity r
              JOIN accounts_account a ON a.id = r.account_id AND a.tenant_id = r.tenant_id
              WHERE r.tenant_id = %(t)s AND r.stage <> 'closed')
            INSERT INTO renewals_forecastline
              (tenant_id, day, renewal_id, account_id, csm_id, segment_id, close_date, stage, category, band,
               current_arr, expected_arr, probability, weighted_arr)
            SELECT x.tenant_id, %(day)s, x.renewal_id, x.account_id, x.csm_id, x.segment_id, x.close_date, x.stage,
                   x.category, x.band, x.current_arr, x.expected_arr, x.p, ROUND(x.expected_arr * x.p / 100.0, 2)
            FROM (
              SELECT y.*, {_greatest('0', _least('100', points))} AS p
              FROM y
              {_rules_join('pc', 'category', 'y.category')}
              {_rules_join('ps', 'stage', 'y.stage')}
              {_rules_join('pb', 'band', 'y.band')}
            ) x""",
        params)
    return cursor.rowcount


def _amount_cases(prefix: str) -> str:
    return ", ".join(f"CASE WHEN {prefix}.category = '{c}' THEN {prefix}.expected_arr ELSE 0 END"
                     for c in ("commit", "best_case", "pipeline", "at_risk"))


def _snapshots_write(cursor, params: dict, first_month: int) -> int:
    cursor.execute("DELETE FROM renewals_forecastsnapshot WHERE tenant_id = %(t)s AND day = %(day)s", params)
    columns = "renewals, " + ", ".join(SNAPSHOT_AMOUNTS)
    open_stages = ", ".join(f"'{s}'" for s in EXPANSION_STAGE_PROBABILITY)
    stage_p = " ".join(f"WHEN '{s}' THEN {p}" for s, p in EXPANSION_STAGE_PROBABILITY.items())
    keep_on_time = _greatest("{date}", "%(day)s")
    # The closed renewals and the expansions take their CSM and segment from the account: one join for the three.
    base = f"""base (csm_id, segment_id, on_day, {columns}) AS (
        SELECT l.csm_id, l.segment_id, {keep_on_time.format(date='l.close_date')}, 1, l.current_arr,
               {_amount_cases('l')},
               l.current_arr * (100 - l.probability) / 100.0,
               l.probability * {_greatest('l.current_arr - l.expected_arr', '0')} / 100.0,
               l.probability * {_greatest('l.expected_arr - l.current_arr', '0')} / 100.0,
               0
        FROM renewals_forecastline l
        WHERE l.tenant_id = %(t)s AND l.day = %(day)s AND l.close_date < %(horizon)s
        UNION ALL
        SELECT a.csm_id, a.segment_id, o.on_day, o.{columns.replace(", ", ", o.")}
        FROM (
          SELECT r.account_id, r.closed_on AS on_day, 1 AS renewals, r.current_arr AS arr_up, 0 AS committed,
                 0 AS best_case, 0 AS pipeline, 0 AS at_risk,
                 CASE WHEN r.outcome = 'churned' THEN r.current_arr ELSE 0 END AS expected_churn,
                 CASE WHEN r.outcome = 'downsell' THEN r.current_arr - r.renewed_arr ELSE 0 END
                   AS expected_contraction,
                 CASE WHEN r.outcome = 'renewed_expansion' THEN r.renewed_arr - r.current_arr ELSE 0 END
                   AS expected_expansion,
                 r.renewed_arr AS renewed
          FROM renewals_renewalopportunity r
          WHERE r.tenant_id = %(t)s AND r.stage = 'closed' AND r.closed_on >= %(q_start)s
            AND r.closed_on <= %(q_end)s
          UNION ALL
          SELECT e.account_id, {keep_on_time.format(date='e.expected_close')}, 0, 0, 0, 0, 0, 0, 0, 0,
                 e.amount * (CASE e.stage {stage_p} ELSE 0 END) / 100.0, 0
          FROM renewals_expansionopportunity e
          WHERE e.tenant_id = %(t)s AND e.stage IN ({open_stages}) AND e.expected_close < %(horizon)s
          UNION ALL
          SELECT e.account_id, e.closed_on, 0, 0, 0, 0, 0, 0, 0, 0, e.amount, 0
          FROM renewals_expansionopportunity e
          WHERE e.tenant_id = %(t)s AND e.stage = 'won' AND e.closed_on >= %(q_start)s AND e.closed_on <= %(q_end)s
        ) o
        JOIN accounts_account a ON a.id = o.account_id AND a.tenant_id = %(t)s
    )"""
    # Totalled per month first (a few rows per CSM and segment), then the quarters from the months: a quarter is
    # three whole months, so its totals are the same as from the rows, for a third of the additions.
    month_sums = ", ".join(f"SUM(b.{name}) AS {name}" for name in SNAPSHOT_AMOUNTS)
    rounded = ", ".join(f"ROUND(m.{name}, 2)" for name in SNAPSHOT_AMOUNTS)
    quarter_sums = ", ".join(f"ROUND(SUM(q.{name}), 2)" for name in SNAPSHOT_AMOUNTS)
    cursor.execute(
        f"""WITH {base},
              months AS MATERIALIZED (
                SELECT b.month_start, b.csm_id, b.segment_id, SUM(b.renewals) AS renewals, {month_sums}
                FROM (SELECT base.*, {_month_start('base.on_day')} AS month_start FROM base) b
                GROUP BY b.month_start, b.csm_id, b.segment_id)
            INSERT INTO renewals_forecastsnapshot
              (tenant_id, day, period_kind, period_start, csm_id, segment_id, {columns})
            SELECT %(t)s, %(day)s, 'month', m.month_start, m.csm_id, m.segment_id, m.renewals, {rounded}
            FROM months m
            UNION ALL
            SELECT %(t)s, %(day)s, 'quarter', q.quarter_start, q.csm_id, q.segment_id, SUM(q.renewals), {quarter_sums}
            FROM (SELECT m.*, {fiscal_quarter_start_sql('m.month_start', first_month)} AS quarter_start
                  FROM months m) q
            GROUP BY q.quarter_start, q.csm_id, q.segment_id""",
        params)
    return cursor.rowcount


@transaction.atomic
def forecast_compute(*, tenant: Tenant, day: date) -> int:
    """Rewrites the tenant's forecast lines and snapshot rows of `day` (inside `tenant_context(tenant)`).

    Idempotent: a rerun leaves the same rows (a renewal closed since the last run leaves the day's lines).
    The lines describe the renewals as they are when the job runs. Returns the rows written."""
    quarter = fiscal_quarter(tenant, day)
    params = {"t": tenant.pk, "day": day, "q_start": quarter.start, "q_end": quarter.end,
              "horizon": add_months(quarter.start, 3 * HORIZON_QUARTERS)}
    # JIT: these are plain scans and hash joins whose cost estimate trips the JIT threshold, and compiling took
    # longer than it saved. work_mem: the month totals spilled to disk at the default 4 MB.
    with local_planner_settings(jit="off", work_mem="32MB"), connection.cursor() as cursor:
        lines = _lines_write(cursor, params)
        snapshots = _snapshots_write(cursor, params, tenant.fiscal_year_start_month)
    # SQLite does not report the rows of an INSERT that starts with WITH.
    if lines < 0:
        lines = ForecastLine.objects.filter(day=day).count()
    if snapshots < 0:
        snapshots = ForecastSnapshot.objects.filter(day=day).count()
    return lines + snapshots


# ---- reads for the forecast page -------------------------------------------------------------------------------


def latest_forecast_day(upto: date | None = None) -> date | None:
    """The latest day the forecast job wrote lines for (the page and the movement read that day)."""
    lines = ForecastLine.objects.all() if upto is None else ForecastLine.objects.filter(day__lte=upto)
    snapshots = ForecastSnapshot.objects.all() if upto is None else ForecastSnapshot.objects.filter(day__lte=upto)
    days = [d for d in (lines.aggregate(d=Max("day"))["d"], snapshots.aggregate(d=Max("day"))["d"]) if d]
    return max(days, default=None)


def scope_filter(*, csm_ids=None, segment_ids=None, prefix: str = "") -> Q:
    q = Q()
    if csm_ids is not None:
        q &= Q(**{f"{prefix}csm_id__in": list(csm_ids)})
    if segment_ids is not None:
        q &= Q(**{f"{prefix}segment_id__in": list(segment_ids)})
    return q


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class PeriodFigures:
    period_start: date
    renewals: int = 0
    arr_up: Decimal = ZERO
    committed: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    at_risk: Decimal = ZERO
    expected_churn: Decimal = ZERO
    expected_contraction: Decimal = ZERO
    expected_expansion: Decimal = ZERO
    renewed: Decimal = ZERO


@dataclass
class ForecastSummary:
    day: date
    quarter_start: date
    quarter: PeriodFigures
    months: list[PeriodFigures] = field(default_factory=list)
    starting_arr: Decimal = ZERO
    arr_on: date | None = None
    grr: Decimal | None = None
    nrr: Decimal | None = None

    @property
    def ending_arr(self) -> Decimal:
        q = self.quarter
        return self.starting_arr - q.expected_churn - q.expected_contraction + q.expected_expansion


def _starting_arr(*, on: date, csm_ids, segment_ids) -> Decimal:
    params: dict = {"t": current_tenant().pk, "on": on}
    only = ""
    if csm_ids is not None:
        only += " AND a.csm_id IN (" + (", ".join(str(int(i)) for i in csm_ids) or "NULL") + ")"
    if segment_ids is not None:
        only += " AND a.segment_id IN (" + (", ".join(str(int(i)) for i in segment_ids) or "NULL") + ")"
    with connection.cursor() as cursor:
        cursor.execute(f"""SELECT COALESCE(SUM(c.arr), 0) FROM renewals_contract c
                           JOIN accounts_account a ON a.id = c.account_id AND a.tenant_id = c.tenant_id
                           WHERE c.tenant_id = %(t)s AND {COUNTS_ON} {only}""", params)
        return Decimal(cursor.fetchone()[0]).quantize(CENT)


def forecast_summary(*, day: date, quarter_start: date, csm_ids=None, segment_ids=None) -> ForecastSummary:
    """The quarter starting `quarter_start` as the forecast of `day` saw it, for the whole book or the accounts
    of `csm_ids` / `segment_ids` (None: any). Two queries: the snapshot sums (quarter and its months) and the
    starting ARR.

    Starting ARR is the ARR counting on the quarter's first day (renewals.arr COUNTS_ON); for a quarter that
    has not started yet, today's (`day`) ARR stands in, since the contracts that will count then are mostly
    renewals not yet closed. Forecast GRR = (start - expected churn - expected contraction) / start; NRR adds
    expected expansion; both None when the start is 0."""
    quarter_end = add_months(quarter_start, 3)
    rows = (ForecastSnapshot.objects
            .filter(scope_filter(csm_ids=csm_ids, segment_ids=segment_ids), day=day)
            .filter(Q(period_kind=ForecastSnapshot.Period.QUARTER, period_start=quarter_start)
                    | Q(period_kind=ForecastSnapshot.Period.MONTH, period_start__gte=quarter_start,
                        period_start__lt=quarter_end))
            .values("period_kind", "period_start")
            .annotate(n=Sum("renewals"), **{f"s_{name}": Sum(name) for name in SNAPSHOT_AMOUNTS})
            .order_by("period_kind", "period_start"))
    months = {start: PeriodFigures(period_start=start) for start in (add_months(quarter_start, i) for i in range(3))}
    quarter = PeriodFigures(period_start=quarter_start)
    for row in rows:
        target = quarter if row["period_kind"] == ForecastSnapshot.Period.QUARTER else months.get(row["period_start"])
        if target is None:
            continue
        target.renewals = row["n"] or 0
        for name in SNAPSHOT_AMOUNTS:
            setattr(target, name, row[f"s_{name}"] or ZERO)
    on = min(quarter_start, day)
    start = _starting_arr(on=on, csm_ids=csm_ids, segment_ids=segment_ids)
    retained = start - quarter.expected_churn - quarter.expected_contraction
    return ForecastSummary(day=day, quarter_start=quarter_start, quarter=quarter, months=list(months.values()),
                           starting_arr=start, arr_on=on, grr=_percent(retained, start),
                           nrr=_percent(retained + quarter.expected_expansion, start))
