"""Drafting the monthly reports: every active account of a tenant for one month in one INSERT ... SELECT.

Each figure comes from one aggregate over its source table for the month and the month before (a common table
expression per source, read once), joined to the accounts; no Python loop touches an account. The job inserts
what is missing and never overwrites a report (ON CONFLICT DO NOTHING); "Refresh figures" on a draft passes the
account and rewrites the figures of drafts only (never the recommendation, never a delivered report).

PostgreSQL is the production path; SQLite (`make run`) runs the same statement through a few dialect helpers.
See docs/insights.md for where each figure comes from.
"""

from datetime import date, datetime, time

from django.db import connection
from django.utils import timezone

from accounts.models import Account
from csplatform.tenancy.models import Tenant
from renewals.periods import add_months, month_start

from ..models import MonthlyReport

PROMOTER_FROM = 9  # NPS: 9-10 promoters, 0-6 detractors (as health.selectors)
DETRACTOR_UNTIL = 6

# The figures the job writes (and "Refresh figures" rewrites on a draft), in the order of the SELECT below.
FIGURES = [
    "monthly_active_users", "monthly_active_users_prev", "features_used", "features_used_prev",
    "usage_events", "usage_events_prev", "licensed_seats", "health_score", "health_score_prev", "health_band",
    "value_realised_month", "value_realised_total", "arr", "renewal_date", "renewal_stage",
    "nps_responses", "nps_score",
]


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _ts(value: datetime):
    # SQLite stores datetimes as text: compare against (and write) the same shape the ORM writes.
    return connection.ops.adapt_datetimefield_value(value)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in the project's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _nps_score() -> str:
    value = "100.0 * (nps.promoters - nps.detractors) / nps.responses"
    rounded = f"ROUND(CAST({value} AS numeric))" if _pg() else f"ROUND({value})"
    # PostgreSQL's ROUND(numeric) and SQLite's ROUND round halves away from zero, like health.selectors.nps_score.
    return f"CASE WHEN nps.responses > 0 THEN CAST({rounded} AS integer) END"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"MAX({a}, {b})"


def _at_least_busiest_day(distinct: str, busiest_day: str) -> str:
    """Distinct users (or features) in the month from the ingested keys; where usage arrives as daily totals
    without ids (a CSV of daily counts, a warehouse sync) there are no keys, and the month counts at least as
    many as its busiest day: the figure never reads 0 for an account that used the product."""
    return _greatest(f"COALESCE({distinct}, 0)", f"COALESCE({busiest_day}, 0)")


def _statement(*, only: str, refresh: bool) -> str:
    only_k = only.replace("a.id", "k.account_id")
    only_u = only.replace("a.id", "u.account_id")
    only_h = only.replace("a.id", "h.account_id")
    only_v = only.replace("a.id", "v.account_id")
    only_r = only.replace("a.id", "r.account_id")
    only_s = only.replace("a.id", "s.account_id")
    empty = "'{}'::jsonb" if _pg() else "'{}'"
    columns = ", ".join(FIGURES)
    if refresh:
        assignments = ", ".join(f"{name} = excluded.{name}" for name in FIGURES + ["csm_id", "drafted_at",
                                                                                  "updated_at"])
        conflict = f"DO UPDATE SET {assignments} WHERE insights_monthlyreport.status = 'draft'"
    else:
        conflict = "DO NOTHING"
    # The WITH sits inside the INSERT (not before it) so that SQLite reports the rows written too.
    return f"""
        INSERT INTO insights_monthlyreport
          (tenant_id, account_id, month, csm_id, status, {columns}, recommendation, snapshot, drafted_at, updated_at)
        WITH acct AS MATERIALIZED (
          SELECT a.id, a.csm_id, a.licensed_seats, a.arr FROM accounts_account a
          WHERE a.tenant_id = %(t)s AND a.status = 'active' AND a.created_at < %(end_ts)s {only}),
        keys AS MATERIALIZED (
          SELECT k.account_id,
                 COUNT(DISTINCT CASE WHEN k.kind = 'u' AND k.day >= %(m0)s THEN k.key END) AS users,
                 COUNT(DISTINCT CASE WHEN k.kind = 'u' AND k.day < %(m0)s THEN k.key END) AS users_prev,
                 COUNT(DISTINCT CASE WHEN k.kind = 'f' AND k.day >= %(m0)s THEN k.key END) AS features,
                 COUNT(DISTINCT CASE WHEN k.kind = 'f' AND k.day < %(m0)s THEN k.key END) AS features_prev
          FROM health_usagekey k
          WHERE k.tenant_id = %(t)s AND k.day >= %(mp)s AND k.day < %(m1)s {only_k}
          GROUP BY k.account_id),
        usage AS MATERIALIZED (
          SELECT u.account_id,
                 SUM(CASE WHEN u.day >= %(m0)s THEN u.events ELSE 0 END) AS events,
                 SUM(CASE WHEN u.day < %(m0)s THEN u.events ELSE 0 END) AS events_prev,
                 MAX(CASE WHEN u.day >= %(m0)s THEN u.active_users END) AS busiest_users,
                 MAX(CASE WHEN u.day < %(m0)s THEN u.active_users END) AS busiest_users_prev,
                 MAX(CASE WHEN u.day >= %(m0)s THEN u.features END) AS busiest_features,
                 MAX(CASE WHEN u.day < %(m0)s THEN u.features END) AS busiest_features_prev
          FROM health_usagedaily u
          WHERE u.tenant_id = %(t)s AND u.day >= %(mp)s AND u.day < %(m1)s {only_u}
          GROUP BY u.account_id),
        scored AS MATERIALIZED (
          SELECT h.account_id,
                 MAX(CASE WHEN h.day >= %(m0)s THEN h.day END) AS day,
                 MAX(CASE WHEN h.day < %(m0)s THEN h.day END) AS day_prev
          FROM health_healthscore h
          WHERE h.tenant_id = %(t)s AND h.day >= %(mp)s AND h.day < %(m1)s {only_h}
          GROUP BY h.account_id),
        value AS MATERIALIZED (
          SELECT v.account_id,
                 SUM(CASE WHEN v.realised_on >= %(m0)s THEN v.amount ELSE 0 END) AS in_month,
                 SUM(v.amount) AS total
          FROM success_plans_valuerealised v
          WHERE v.tenant_id = %(t)s AND v.realised_on < %(m1)s {only_v}
          GROUP BY v.account_id),
        renewal AS MATERIALIZED (
          SELECT z.account_id, z.close_date, z.stage FROM (
            SELECT r.account_id, r.close_date, r.stage,
                   ROW_NUMBER() OVER (PARTITION BY r.account_id ORDER BY r.close_date, r.id) AS rn
            FROM renewals_renewalopportunity r
            WHERE r.tenant_id = %(t)s AND r.stage <> 'closed' {only_r}) z
          WHERE z.rn = 1),
        nps AS MATERIALIZED (
          SELECT s.account_id, COUNT(*) AS responses,
                 SUM(CASE WHEN s.score >= {PROMOTER_FROM} THEN 1 ELSE 0 END) AS promoters,
                 SUM(CASE WHEN s.score <= {DETRACTOR_UNTIL} THEN 1 ELSE 0 END) AS detractors
          FROM health_surveyresponse s
          WHERE s.tenant_id = %(t)s AND s.kind = 'nps' AND s.responded_at >= %(start_ts)s
            AND s.responded_at < %(end_ts)s {only_s}
          GROUP BY s.account_id)
        SELECT %(t)s, acct.id, %(m0)s, acct.csm_id, 'draft',
               {_at_least_busiest_day("keys.users", "usage.busiest_users")},
               {_at_least_busiest_day("keys.users_prev", "usage.busiest_users_prev")},
               {_at_least_busiest_day("keys.features", "usage.busiest_features")},
               {_at_least_busiest_day("keys.features_prev", "usage.busiest_features_prev")},
               COALESCE(usage.events, 0), COALESCE(usage.events_prev, 0),
               acct.licensed_seats, h.score, hp.score, COALESCE(h.band, ''),
               COALESCE(value.in_month, 0), COALESCE(value.total, 0), acct.arr,
               renewal.close_date, COALESCE(renewal.stage, ''),
               COALESCE(nps.responses, 0), {_nps_score()},
               '', {empty}, %(now)s, %(now)s
        FROM acct
        LEFT JOIN keys ON keys.account_id = acct.id
        LEFT JOIN usage ON usage.account_id = acct.id
        LEFT JOIN scored ON scored.account_id = acct.id
        LEFT JOIN health_healthscore h ON h.tenant_id = %(t)s AND h.account_id = acct.id AND h.day = scored.day
        LEFT JOIN health_healthscore hp ON hp.tenant_id = %(t)s AND hp.account_id = acct.id
                                        AND hp.day = scored.day_prev
        LEFT JOIN value ON value.account_id = acct.id
        LEFT JOIN renewal ON renewal.account_id = acct.id
        LEFT JOIN nps ON nps.account_id = acct.id
        WHERE TRUE
        ON CONFLICT (tenant_id, account_id, month) {conflict}"""


CATCH_UP_MAX = 1000  # accounts missing a report, past which the statement reads the whole tenant


def _accounts_without_report(m0: date, m1: date) -> list[int]:
    """The active accounts created before the month ended that have no report for it (current tenant)."""
    return list(Account.objects.filter(status=Account.Status.ACTIVE, created_at__lt=start_of_day(m1))
                .exclude(pk__in=MonthlyReport.objects.filter(month=m0).values("account_id"))
                .values_list("pk", flat=True))


def reports_draft(*, tenant: Tenant, month: date, account_ids=None) -> int:
    """Drafts `month`'s report (month: any day of it) of every active account created before the month ended.

    Without `account_ids` (the nightly job): inserts the missing reports, leaves existing ones alone.
    With `account_ids` ("Refresh figures"): also rewrites the figures (and CSM) of those accounts' DRAFT reports;
    the recommendation and delivered reports are never touched. Must run inside `tenant_context(tenant)`.
    Idempotent per account and month. Returns the number of reports inserted or refreshed.
    """
    if account_ids is not None and not account_ids:
        return 0
    m0 = month_start(month)
    m1 = add_months(m0, 1)
    refresh = account_ids is not None
    if not refresh:
        # Every night after the 1st, the reports exist: one cheap anti-join says so, instead of aggregating two
        # months of usage, scores and surveys only to have every row conflict. A catch-up of a few accounts reads
        # only theirs.
        missing = _accounts_without_report(m0, m1)
        if not missing:
            return 0
        if len(missing) <= CATCH_UP_MAX:
            account_ids = missing
    only = ""
    if account_ids is not None:
        only = "AND a.id IN (" + ", ".join(str(int(i)) for i in account_ids) + ")"
    now = timezone.now()
    params = {
        "t": tenant.pk, "m0": m0, "m1": m1, "mp": add_months(m0, -1),
        "start_ts": _ts(start_of_day(m0)), "end_ts": _ts(start_of_day(m1)), "now": _ts(now),
    }
    with connection.cursor() as cursor:
        cursor.execute(_statement(only=only, refresh=refresh), params)
        if cursor.rowcount >= 0:
            return cursor.rowcount
    return MonthlyReport.objects.filter(month=m0, drafted_at__gte=now).count()
