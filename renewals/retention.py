"""Gross and net revenue retention computed from contracts, and the churn analysis of closed renewals.
docs/metrics.md has the formulas, the edge cases and worked examples (tests/renewals/test_retention.py
reproduces each one).

Retention for a period [start, end], per account:
  opening ARR = the account's ARR on the day BEFORE `start` (so consecutive periods chain: a quarter opens
  with what the previous one closed with, and every change falls in exactly one period);
  closing ARR = its ARR on `end`. "ARR on a day" is the renewals.arr COUNTS_ON rule.
Accounts with opening ARR > 0 form the base: churn (closing 0), contraction (0 < closing < opening) or
expansion (closing > opening). Accounts that open at 0 are new business (`new_arr`), outside GRR and NRR.

Every call is one SQL statement; accounts are never looped over in Python. PostgreSQL is the production path;
SQLite runs the same statement through the small dialect helpers below.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import connection

from csplatform.tenancy.context import current_tenant

from .arr import COUNTS_ON
from .periods import Quarter, last_quarters, months_between, quarter_of_index

ZERO = Decimal("0")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
GROUPINGS = ("segment", "csm", "cohort")
BANDS = ("red", "yellow", "green", "none")
WARNING_BANDS = ("red", "yellow")
WARNING_DAYS = 90


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _sum2(expr: str) -> str:
    # SQLite sums DECIMAL columns as floats: round so that equal amounts compare equal.
    return f"SUM({expr})" if _pg() else f"ROUND(SUM({expr}), 2)"


def _quarter_index(date_expr: str, first_month: int) -> str:
    """periods.quarter_index in SQL: (year * 12 + month - first month) / 3, an integer."""
    if _pg():
        year = f"CAST(EXTRACT(YEAR FROM {date_expr}) AS integer)"
        month = f"CAST(EXTRACT(MONTH FROM {date_expr}) AS integer)"
    else:
        year = f"CAST(strftime('%%Y', {date_expr}) AS INTEGER)"
        month = f"CAST(strftime('%%m', {date_expr}) AS INTEGER)"
    return f"(({year} * 12 + {month} - {int(first_month)}) / 3)"


def _days_before(date_expr: str, days: int) -> str:
    return f"({date_expr} - {int(days)})" if _pg() else f"date({date_expr}, '-{int(days)} days')"


def _month_key(date_expr: str) -> str:
    return f"to_char({date_expr}, 'YYYY-MM')" if _pg() else f"strftime('%%Y-%%m', {date_expr})"


def _counts_on(day_param: str) -> str:
    return COUNTS_ON.replace("%(on)s", day_param)


def _money(value) -> Decimal:
    return ZERO.quantize(CENT) if value is None else Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part * 100 / whole).quantize(TENTH, ROUND_HALF_UP) if whole else None


def _ids_in(column: str, ids) -> str:
    if ids is None:
        return ""
    ids = [int(i) for i in ids]
    return f"AND {column} IN ({', '.join(str(i) for i in ids)})" if ids else "AND 1 = 0"


def _user_label(full_name, email) -> str:
    return full_name or email or ""


# --- retention ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRow:
    """One group's retention over a period. Amounts are Decimal in the tenant's currency; `grr` and `nrr` are
    percentages rounded to 0.1 (None when the group had no starting ARR). `ending_arr` is the base's (the
    accounts that started with ARR); new business is `new_arr` from `new_accounts`."""

    key: int | str | None
    label: str
    accounts: int = 0
    starting_arr: Decimal = ZERO
    churn: Decimal = ZERO
    contraction: Decimal = ZERO
    expansion: Decimal = ZERO
    ending_arr: Decimal = ZERO
    new_arr: Decimal = ZERO
    churned_accounts: int = 0
    new_accounts: int = 0
    grr: Decimal | None = field(init=False)
    nrr: Decimal | None = field(init=False)

    def __post_init__(self):
        kept = self.starting_arr - self.churn - self.contraction
        object.__setattr__(self, "grr", _percent(kept, self.starting_arr))
        object.__setattr__(self, "nrr", _percent(kept + self.expansion, self.starting_arr))


def total_of(rows: list[RetentionRow], *, key="total", label: str = "All accounts") -> RetentionRow:
    """The total of groups that partition the accounts (every grouping does: each account is in one group)."""
    sums = {name: sum((getattr(row, name) for row in rows), ZERO) for name in (
        "starting_arr", "churn", "contraction", "expansion", "ending_arr", "new_arr")}
    counts = {name: sum(getattr(row, name) for row in rows) for name in (
        "accounts", "churned_accounts", "new_accounts")}
    return RetentionRow(key=key, label=label, **sums, **counts)


_MEASURES = """
  SUM(CASE WHEN m.s > 0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN m.s > 0 THEN m.s ELSE 0 END),
  SUM(CASE WHEN m.s > 0 AND m.e = 0 THEN m.s ELSE 0 END),
  SUM(CASE WHEN m.s > 0 AND m.e = 0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN m.e > 0 AND m.e < m.s THEN m.s - m.e ELSE 0 END),
  SUM(CASE WHEN m.s > 0 AND m.e > m.s THEN m.e - m.s ELSE 0 END),
  SUM(CASE WHEN m.s > 0 THEN m.e ELSE 0 END),
  SUM(CASE WHEN m.s = 0 THEN m.e ELSE 0 END),
  SUM(CASE WHEN m.s = 0 AND m.e > 0 THEN 1 ELSE 0 END)"""


def _grouping(group_by: str | None, first_month: int) -> tuple[str, str, str, str, str]:
    """(key expression over `a` (the account), joins it needs, extra common table expression, label columns,
    label joins over the grouped `g`) of a grouping."""
    if group_by is None:
        return "0", "", "", "NULL, NULL, 0", ""
    if group_by == "segment":
        return ("a.segment_id", "", "", "sg.name, NULL, sg.position",
                "LEFT JOIN accounts_segment sg ON sg.id = g.k")
    if group_by == "csm":
        users = get_user_model()._meta.db_table
        return "a.csm_id", "", "", "u.full_name, u.email, 0", f"LEFT JOIN {users} u ON u.id = g.k"
    if group_by == "cohort":
        # An account's cohort is the fiscal quarter of the first contract that ever counted (not one
        # cancelled before it started).
        firsts = """, firsts AS (
          SELECT c.account_id, MIN(c.start_date) AS first_start FROM renewals_contract c
          WHERE c.tenant_id = %(t)s AND (c.status = 'active' OR c.cancelled_on > c.start_date)
          GROUP BY c.account_id)"""
        return (_quarter_index("f.first_start", first_month), "JOIN firsts f ON f.account_id = a.id", firsts,
                "NULL, NULL, 0", "")
    raise ValueError(f"group_by is one of {', '.join(GROUPINGS)} or None, not {group_by!r}")


def _retention_rows(days: list[date], *, group_by, csm_ids, segment_ids) -> list[list[RetentionRow]]:
    """Retention of the consecutive periods that `days` delimit, in one statement: period i opens on days[i]
    (the day before its first day) and closes on days[i + 1]. One list of rows per period, in order.

    The contracts are read once: one row per account with its ARR on every one of `days` (columns a0, a1,
    ...), then each period pairs two adjacent columns. Grouping by (period, account) instead would aggregate
    accounts x periods rows and spill to disk on large books."""
    if any(later < earlier for earlier, later in zip(days, days[1:], strict=False)):
        raise ValueError("A period ends before it starts.")
    tenant = current_tenant()
    key, key_joins, extra_cte, labels, label_joins = _grouping(group_by, tenant.fiscal_year_start_month)
    params = {"t": tenant.pk, **{f"d{i}": day for i, day in enumerate(days)}}
    arr_on_days = ",\n".join(_sum2(f"CASE WHEN {_counts_on(f'%(d{i})s')} THEN c.arr ELSE 0 END") + f" AS a{i}"
                              for i in range(len(days)))
    moves = "\n          UNION ALL ".join(f"SELECT {i} AS p, k, a{i} AS s, a{i + 1} AS e FROM keyed"
                                         for i in range(len(days) - 1))
    sql = f"""
        WITH per_account AS MATERIALIZED (
          SELECT c.account_id, {arr_on_days}
          FROM renewals_contract c
          WHERE c.tenant_id = %(t)s AND c.start_date <= %(d{len(days) - 1})s AND c.end_date >= %(d0)s
          GROUP BY c.account_id){extra_cte},
        keyed AS MATERIALIZED (
          SELECT {key} AS k, pa.* FROM per_account pa
          JOIN accounts_account a ON a.id = pa.account_id AND a.tenant_id = %(t)s {key_joins}
          WHERE 1 = 1 {_ids_in('a.csm_id', csm_ids)} {_ids_in('a.segment_id', segment_ids)}),
        moves AS ({moves})
        SELECT g.*, {labels} FROM (
          SELECT m.p, m.k, {_MEASURES}
          FROM moves m WHERE m.s > 0 OR m.e > 0 GROUP BY m.p, m.k) g
        {label_joins}"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()

    by_period: list[list[tuple]] = [[] for _ in days[1:]]
    for period, group, *measures, name, email, position in fetched:
        (accounts, starting, churn, churned, contraction, expansion, ending, new, new_accounts) = measures
        if group_by is None:
            row_key, label, order = "total", "All accounts", ()
        elif group_by == "cohort":
            quarter = quarter_of_index(tenant, int(group))
            row_key, label, order = quarter.key, quarter.label, (int(group),)
        elif group_by == "segment":
            label = name or "No segment"
            row_key, order = group, (group is None, position or 0, label.casefold())
        else:
            label = _user_label(name, email) or "Unassigned"
            row_key, order = group, (group is None, label.casefold())
        row = RetentionRow(key=row_key, label=label, accounts=int(accounts), starting_arr=_money(starting),
                           churn=_money(churn), contraction=_money(contraction), expansion=_money(expansion),
                           ending_arr=_money(ending), new_arr=_money(new), churned_accounts=int(churned),
                           new_accounts=int(new_accounts))
        by_period[period].append((order, row))
    result = [[row for _, row in sorted(rows, key=lambda pair: pair[0])] for rows in by_period]
    if group_by is None:
        result = [rows or [RetentionRow(key="total", label="All accounts")] for rows in result]
    return result


def retention(*, start: date, end: date, group_by: str | None = None, csm_ids=None,
              segment_ids=None) -> list[RetentionRow]:
    """Retention of the current tenant over [start, end] (both inclusive), from its contracts, in one query.

    group_by None: one row for the tenant; "segment", "csm" (the account's current CSM) or "cohort" (the fiscal
    quarter of the account's first contract): one row per group that had ARR at either end, in display order.
    csm_ids / segment_ids keep only the accounts currently with those CSMs / in those segments."""
    if end < start:
        raise ValueError(f"The period ends ({end}) before it starts ({start}).")
    return _retention_rows([start - timedelta(days=1), end], group_by=group_by, csm_ids=csm_ids,
                           segment_ids=segment_ids)[0]


def retention_by_quarter(*, tenant, quarters: int = 8, upto: date, csm_ids=None,
                         segment_ids=None) -> list[tuple[Quarter, RetentionRow]]:
    """The tenant's retention in each of the last `quarters` fiscal quarters up to the one containing `upto`
    (that one measured to `upto`, a quarter to date), oldest first, in one query. For the GRR/NRR trend."""
    if current_tenant().pk != tenant.pk:
        raise ValueError("retention_by_quarter runs inside the tenant's own tenant_context.")
    periods = last_quarters(tenant, quarters, upto)
    if not periods:
        return []
    # Quarters are consecutive: each one opens on the day the previous one closes.
    days = [periods[0].start - timedelta(days=1)] + [min(q.end, upto) for q in periods]
    rows = _retention_rows(days, group_by=None, csm_ids=csm_ids, segment_ids=segment_ids)
    return [(quarter, found[0]) for quarter, found in zip(periods, rows, strict=True)]


# --- churn analysis -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossRow:
    """Churned and downsold ARR of one reason, segment, CSM or month."""

    key: int | str | None
    label: str
    churned_renewals: int = 0
    churned_arr: Decimal = ZERO
    downsell_renewals: int = 0
    downsold_arr: Decimal = ZERO

    @property
    def lost_arr(self) -> Decimal:
        return self.churned_arr + self.downsold_arr


@dataclass(frozen=True)
class BandRow:
    """Churned renewals whose account was in `band` WARNING_DAYS before the renewal closed."""

    band: str
    renewals: int
    churned_arr: Decimal
    share: Decimal | None  # % of the period's churned ARR


@dataclass(frozen=True)
class ChurnAnalysis:
    start: date
    end: date
    churned_renewals: int
    churned_arr: Decimal
    downsell_renewals: int
    downsold_arr: Decimal
    by_reason: list[LossRow]
    by_segment: list[LossRow]
    by_csm: list[LossRow]
    by_month: list[LossRow]
    bands: list[BandRow]
    warned_share: Decimal | None  # % of churned ARR that was red or yellow WARNING_DAYS before

    @property
    def lost_arr(self) -> Decimal:
        return self.churned_arr + self.downsold_arr


_LOSS_MEASURES = """SUM(CASE WHEN l.outcome = 'churned' THEN 1 ELSE 0 END), SUM(l.churned),
                    SUM(CASE WHEN l.outcome = 'downsell' THEN 1 ELSE 0 END), SUM(l.downsold)"""


def churn_analysis(*, start: date, end: date) -> ChurnAnalysis:
    """Churn and downsell recorded on renewals closed in [start, end] (by closed_on), in one query: churned ARR
    is the renewal's current ARR, downsold ARR its current minus renewed ARR. By reason, segment, CSM (the
    renewal's owner, else the account's CSM) and month; and, for churned renewals, the account's health band
    WARNING_DAYS before it closed ("none" when no score was computed that day)."""
    if end < start:
        raise ValueError(f"The period ends ({end}) before it starts ({start}).")
    users = get_user_model()._meta.db_table
    sql = f"""
        WITH lost AS (
          SELECT r.outcome, r.reason_id, a.segment_id, COALESCE(r.owner_id, a.csm_id) AS csm_id,
                 {_month_key('r.closed_on')} AS month, COALESCE(h.band, 'none') AS band,
                 CASE WHEN r.outcome = 'churned' THEN r.current_arr ELSE 0 END AS churned,
                 CASE WHEN r.outcome = 'downsell' THEN r.current_arr - r.renewed_arr ELSE 0 END AS downsold
          FROM renewals_renewalopportunity r
          JOIN accounts_account a ON a.id = r.account_id AND a.tenant_id = r.tenant_id
          LEFT JOIN health_healthscore h ON h.tenant_id = r.tenant_id AND h.account_id = r.account_id
            AND h.day = {_days_before('r.closed_on', WARNING_DAYS)}
          WHERE r.tenant_id = %(t)s AND r.stage = 'closed' AND r.outcome IN ('churned', 'downsell')
            AND r.closed_on >= %(start)s AND r.closed_on <= %(end)s)
        SELECT 'reason', CAST(l.reason_id AS text), MAX(x.name), NULL, MAX(x.position), {_LOSS_MEASURES}
          FROM lost l LEFT JOIN renewals_churnreason x ON x.id = l.reason_id GROUP BY l.reason_id
        UNION ALL
        SELECT 'segment', CAST(l.segment_id AS text), MAX(x.name), NULL, MAX(x.position), {_LOSS_MEASURES}
          FROM lost l LEFT JOIN accounts_segment x ON x.id = l.segment_id GROUP BY l.segment_id
        UNION ALL
        SELECT 'csm', CAST(l.csm_id AS text), MAX(x.full_name), MAX(x.email), 0, {_LOSS_MEASURES}
          FROM lost l LEFT JOIN {users} x ON x.id = l.csm_id GROUP BY l.csm_id
        UNION ALL
        SELECT 'month', l.month, NULL, NULL, 0, {_LOSS_MEASURES} FROM lost l GROUP BY l.month
        UNION ALL
        SELECT 'band', l.band, NULL, NULL, 0, {_LOSS_MEASURES} FROM lost l
          WHERE l.outcome = 'churned' GROUP BY l.band"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"t": current_tenant().pk, "start": start, "end": end})
        fetched = cursor.fetchall()

    groups: dict[str, list[tuple]] = {"reason": [], "segment": [], "csm": [], "month": [], "band": []}
    for dimension, key, name, email, position, churned, churned_arr, downsells, downsold_arr in fetched:
        if dimension == "reason":
            key = int(key) if key is not None else None
            label, order = name or "No reason", (position or 0, (name or "").casefold())
        elif dimension == "segment":
            key = int(key) if key is not None else None
            label, order = name or "No segment", (key is None, position or 0, (name or "").casefold())
        elif dimension == "csm":
            key = int(key) if key is not None else None
            label = _user_label(name, email) or "Unassigned"
            order = (key is None, label.casefold())
        else:
            label, order = key, (key,)
        groups[dimension].append((order, LossRow(
            key=key, label=label, churned_renewals=int(churned or 0), churned_arr=_money(churned_arr),
            downsell_renewals=int(downsells or 0), downsold_arr=_money(downsold_arr))))

    def ordered(dimension: str) -> list[LossRow]:
        # Biggest loss first: the reasons, segments and CSMs to look at come on top.
        rows = sorted(groups[dimension], key=lambda pair: pair[0])
        return sorted((row for _, row in rows), key=lambda row: -row.lost_arr)

    by_reason = ordered("reason")
    churned_renewals = sum(row.churned_renewals for row in by_reason)
    churned_arr = sum((row.churned_arr for row in by_reason), ZERO.quantize(CENT))
    months = {row.key: row for _, row in groups["month"]}
    by_month = [months.get(key) or LossRow(key=key, label=key, churned_arr=ZERO.quantize(CENT),
                                           downsold_arr=ZERO.quantize(CENT))
                for key in (month.strftime("%Y-%m") for month in months_between(start, end))]
    banded = {row.label: row for _, row in groups["band"]}
    bands = [BandRow(band=band, renewals=banded[band].churned_renewals if band in banded else 0,
                     churned_arr=banded[band].churned_arr if band in banded else ZERO.quantize(CENT),
                     share=_percent(banded[band].churned_arr if band in banded else ZERO, churned_arr))
             for band in BANDS]
    warned = sum((row.churned_arr for row in bands if row.band in WARNING_BANDS), ZERO)
    return ChurnAnalysis(
        start=start, end=end, churned_renewals=churned_renewals, churned_arr=churned_arr,
        downsell_renewals=sum(row.downsell_renewals for row in by_reason),
        downsold_arr=sum((row.downsold_arr for row in by_reason), ZERO.quantize(CENT)),
        by_reason=by_reason, by_segment=ordered("segment"), by_csm=ordered("csm"), by_month=by_month,
        bands=bands, warned_share=_percent(warned, churned_arr))
