"""The GRR/NRR trend of the last fiscal quarters, stored nightly per (CSM, segment) so that the forecast page
reads a few hundred rows instead of every contract of the book.

`retention_trend_store` runs inside the nightly forecast job (and its reruns, e.g. after a reassignment): one
INSERT ... SELECT of the same figures `retention._retention_rows` computes, grouped by the account's CSM and
segment. `retention_trend` answers the page: the stored rows of today when the job has run today, summed over
the CSMs and segments asked for (the figures add up); before tonight's run, the live statement. Both give the
same rows (tested)."""

from datetime import date, timedelta

from django.db import connection
from django.db.models import Sum

from csplatform.tenancy.context import current_tenant

from .models import RetentionQuarter
from .periods import Quarter, last_quarters
from .retention import _MEASURES, RetentionRow, _counts_on, _money, _sum2, retention_by_quarter

TREND_QUARTERS = 8
DAYS_KEPT = 7
# In the order of retention._MEASURES.
FIGURES = ("accounts", "starting_arr", "churn", "churned_accounts", "contraction", "expansion", "ending_arr",
           "new_arr", "new_accounts")


def _trend_days(tenant, quarters: int, upto: date) -> tuple[list[Quarter], list[date]]:
    periods = last_quarters(tenant, quarters, upto)
    # Quarters are consecutive: each one opens on the day the previous one closes.
    return periods, [periods[0].start - timedelta(days=1)] + [min(q.end, upto) for q in periods]


def retention_trend_store(*, tenant, day: date, quarters: int = TREND_QUARTERS) -> int:
    """Replaces the stored trend of `day` (and drops days older than a week); returns the rows written."""
    if current_tenant().pk != tenant.pk:
        raise ValueError("retention_trend_store runs inside the tenant's own tenant_context.")
    periods, days = _trend_days(tenant, quarters, day)
    params = {"t": tenant.pk, "day": day, "oldest": day - timedelta(days=DAYS_KEPT),
              **{f"d{i}": d for i, d in enumerate(days)}, **{f"q{i}": q.start for i, q in enumerate(periods)}}
    arr_on_days = ",\n".join(_sum2(f"CASE WHEN {_counts_on(f'%(d{i})s')} THEN c.arr ELSE 0 END") + f" AS a{i}"
                              for i in range(len(days)))
    quarter_start = "CAST(%(q{i})s AS date)" if _pg() else "%(q{i})s"
    moves = "\n          UNION ALL ".join(f"SELECT {quarter_start.format(i=i)} AS q, csm_id, segment_id, a{i} AS s, "
                                         f"a{i + 1} AS e FROM keyed" for i in range(len(periods)))
    columns = ", ".join(FIGURES)
    sql = f"""
        INSERT INTO renewals_retentionquarter (tenant_id, day, quarter_start, csm_id, segment_id, {columns})
        WITH per_account AS MATERIALIZED (
          SELECT c.account_id, {arr_on_days}
          FROM renewals_contract c
          WHERE c.tenant_id = %(t)s AND c.start_date <= %(d{len(days) - 1})s AND c.end_date >= %(d0)s
          GROUP BY c.account_id),
        keyed AS MATERIALIZED (
          SELECT a.csm_id, a.segment_id, pa.* FROM per_account pa
          JOIN accounts_account a ON a.id = pa.account_id AND a.tenant_id = %(t)s),
        moves AS ({moves})
        SELECT %(t)s, %(day)s, m.q, m.csm_id, m.segment_id, {_MEASURES}
        FROM moves m WHERE m.s > 0 OR m.e > 0 GROUP BY m.q, m.csm_id, m.segment_id"""
    RetentionQuarter.objects.filter(day=day).delete()
    RetentionQuarter.objects.filter(day__lt=params["oldest"]).delete()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _pg() -> bool:
    return connection.vendor == "postgresql"


def retention_trend(*, tenant, upto: date, quarters: int = TREND_QUARTERS, csm_ids=None,
                    segment_ids=None) -> list[tuple[Quarter, RetentionRow]]:
    """The last `quarters` fiscal quarters' retention up to the one containing `upto` (to date), oldest first,
    for the accounts currently with `csm_ids` / in `segment_ids` (None: all). From the rows stored for `upto` when
    tonight's job has written them (two small queries), else computed from the contracts (retention_by_quarter)."""
    if not RetentionQuarter.objects.filter(day=upto).exists():
        return retention_by_quarter(tenant=tenant, quarters=quarters, upto=upto, csm_ids=csm_ids,
                                    segment_ids=segment_ids)
    stored = RetentionQuarter.objects.filter(day=upto)
    if csm_ids is not None:
        stored = stored.filter(csm_id__in=list(csm_ids))
    if segment_ids is not None:
        stored = stored.filter(segment_id__in=list(segment_ids))
    sums = {row["quarter_start"]: row for row in stored.values("quarter_start").annotate(
        **{f"sum_{name}": Sum(name) for name in FIGURES})}
    periods, _ = _trend_days(tenant, quarters, upto)
    trend = []
    for quarter in periods:
        row = sums.get(quarter.start)
        if row is None:
            trend.append((quarter, RetentionRow(key="total", label="All accounts")))
            continue
        trend.append((quarter, RetentionRow(
            key="total", label="All accounts", accounts=int(row["sum_accounts"]),
            starting_arr=_money(row["sum_starting_arr"]), churn=_money(row["sum_churn"]),
            contraction=_money(row["sum_contraction"]), expansion=_money(row["sum_expansion"]),
            ending_arr=_money(row["sum_ending_arr"]), new_arr=_money(row["sum_new_arr"]),
            churned_accounts=int(row["sum_churned_accounts"]), new_accounts=int(row["sum_new_accounts"]))))
    return trend
