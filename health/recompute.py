"""The health recompute: every account of a tenant for one day in one INSERT ... SELECT ... ON CONFLICT.

The statement is assembled from the tenant's scorecards: one common table expression per signal and
window in use (the windows are known before the query runs, so their dates are plain parameters), a
UNION of one raw value per (account, measure), the 0-100 mapping, the weighted mean over the measures
that have data, and the upsert. No Python loop touches an account. See docs/health.md for the rules.

PostgreSQL is the production path; SQLite (`make run`) runs the same statement through a few dialect
helpers.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from csplatform.db import local_planner_settings
from csplatform.tenancy.models import Tenant

from .models import HealthScore, HealthSettings, Measure, SupportTicket, UsageDaily

K = Measure.Kind
USAGE_KINDS = (K.ACTIVE_USERS, K.SEAT_UTILISATION, K.USAGE_EVENTS, K.FEATURE_BREADTH, K.USAGE_TREND)
TOUCH_KINDS = ("call", "meeting", "business_review", "training")
# A goal is on track while its progress is no more than this far behind its time used (success_plans.goals).
GOAL_TOLERANCE = "0.10"


def _pg() -> bool:
    return connection.vendor == "postgresql"


# Per (account, measure) arithmetic runs in floating point: PostgreSQL's numeric is several times slower,
# and scores are rounded to 2 decimals when stored.
FLOAT = "double precision"


def _clamp01(expr: str) -> str:
    return f"GREATEST(0, LEAST(1, {expr}))" if _pg() else f"MAX(0, MIN(1, {expr}))"


def _round2(expr: str) -> str:
    return f"ROUND(CAST({expr} AS numeric), 2)" if _pg() else f"ROUND({expr}, 2)"


def _days_between(later_date_param: str, earlier_expr: str) -> str:
    """Whole days from a timestamp or date expression to a date parameter."""
    if _pg():
        return f"(CAST({later_date_param} AS date) - CAST({earlier_expr} AS date))"
    return f"CAST(julianday({later_date_param}) - julianday(date({earlier_expr})) AS INTEGER)"


def _date_diff(later: str, earlier: str) -> str:
    if _pg():
        return f"(CAST({later} AS date) - CAST({earlier} AS date))"
    return f"(julianday({later}) - julianday({earlier}))"


def _components_agg() -> str:
    if _pg():
        return ("jsonb_agg(jsonb_build_array(s.measure_id, ROUND(CAST(s.raw AS numeric), 4), s.score, s.weight) "
                "ORDER BY s.position, s.measure_id)")
    return "json_group_array(json_array(s.measure_id, ROUND(s.raw, 4), s.score, s.weight))"


def _ts(value: datetime):
    # SQLite stores datetimes as text: compare against (and write) the same shape the ORM writes.
    return connection.ops.adapt_datetimefield_value(value)


# Each signal is aggregated once (MATERIALIZED): without it, a planner with stale statistics re-runs an
# aggregate once per account (nested loop), which turned milliseconds into seconds on small tenants.
@dataclass
class _Query:
    ctes: list[str]
    pieces: list[str]  # CASE branches: "WHEN <measure kind and window> THEN <raw value>"
    params: dict
    joins: dict[str, set[str]] = field(default_factory=dict)  # signal CTE -> the columns the branches use


def _day_bounds(day: date) -> datetime:
    """The end of `day` (exclusive), in the project's time zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _usage_cte(q: _Query, w: int, only: str) -> str:
    """Usage over the window, read once. The trend compares the window's later half with its earlier half (events
    per day), so a trend measure costs no scan beyond its window."""
    name = f"u_{w}"
    start, half = f"%({name}_from)s", f"%({name}_half)s"
    recent_days = max(1, w // 2)
    q.params[f"{name}_from"] = q.params["day_date"] - timedelta(days=w - 1)
    q.params[f"{name}_half"] = q.params["day_date"] - timedelta(days=recent_days - 1)
    q.ctes.append(f"""{name} AS MATERIALIZED (
        SELECT u.account_id,
          SUM(u.active_users) * 1.0 / {w} AS active_users,
          SUM(u.events) AS events,
          SUM(CASE WHEN u.events > 0 THEN u.features ELSE 0 END) * 1.0
            / NULLIF(SUM(CASE WHEN u.events > 0 THEN 1 ELSE 0 END), 0) AS features,
          SUM(CASE WHEN u.day >= {half} THEN u.events ELSE 0 END) * 1.0 / {recent_days} AS recent_rate,
          SUM(CASE WHEN u.day < {half} THEN u.events ELSE 0 END) * 1.0 / {max(1, w - recent_days)} AS early_rate
        FROM health_usagedaily u
        WHERE u.tenant_id = %(t)s AND u.day >= {start} AND u.day <= %(day)s
          {only.replace('a.id', 'u.account_id')}
        GROUP BY u.account_id)""")
    return name


def _since(q: _Query, w: int) -> str:
    key = f"ts_{w}"
    q.params[key] = _ts(q.params["day_end_dt"] - timedelta(days=w))
    return f"%({key})s"


def _piece(q: _Query, kinds, w: int | None, raw_expr: str, source: str | None = None) -> None:
    """One CASE branch: the raw value of measures of `kinds` (and window `w`) from the signal CTE `source`,
    whose columns the expression names as `x.<column>` (read from the account's wide row)."""
    kind_list = ", ".join(f"'{k}'" for k in kinds)
    window = f" AND am.w = {int(w)}" if w is not None else ""
    if source is not None:
        columns = set(re.findall(r"\bx\.(\w+)", raw_expr))
        q.joins.setdefault(source, set()).update(columns)
        raw_expr = re.sub(r"\bx\.(\w+)", lambda m: f"wide.{source}_{m.group(1)}", raw_expr)
    raw_expr = raw_expr.replace("am.seats", "wide.seats").replace("am.created_at", "wide.created_at")
    q.pieces.append(f"WHEN am.kind IN ({kind_list}){window} THEN {raw_expr}")


def _add_measure_sources(q: _Query, windows: dict[str, set[int]], only: str) -> None:
    has_usage, has_tickets = q.params["has_usage"], q.params["has_tickets"]
    zero_usage = "0" if has_usage else "NULL"
    zero_tickets = "0" if has_tickets else "NULL"

    usage_windows = set().union(*(windows.get(k, set()) for k in USAGE_KINDS))
    for w in sorted(usage_windows):
        name = _usage_cte(q, w, only)
        join = name
        _piece(q, [K.ACTIVE_USERS], w, f"COALESCE(x.active_users, {zero_usage})", join)
        _piece(q, [K.SEAT_UTILISATION], w,
               f"CASE WHEN am.seats > 0 THEN COALESCE(x.active_users, {zero_usage}) * 100.0 / am.seats END", join)
        _piece(q, [K.USAGE_EVENTS], w, f"COALESCE(x.events, {zero_usage})", join)
        _piece(q, [K.FEATURE_BREADTH], w, f"COALESCE(x.features, {zero_usage})", join)
        _piece(q, [K.USAGE_TREND], w,
               "CASE WHEN x.early_rate > 0 THEN (x.recent_rate - x.early_rate) * 100.0 / x.early_rate END", join)

    for kind, value in ((K.NPS, "(SUM(CASE WHEN r.score >= 9 THEN 1 ELSE 0 END) - "
                                "SUM(CASE WHEN r.score <= 6 THEN 1 ELSE 0 END)) * 100.0 / COUNT(*)"),
                        (K.CSAT, "AVG(r.score * 1.0)")):
        for w in sorted(windows.get(kind, ())):
            name = f"{kind}_{w}"
            q.ctes.append(f"""{name} AS MATERIALIZED (
                SELECT r.account_id, {value} AS value FROM health_surveyresponse r
                WHERE r.tenant_id = %(t)s AND r.kind = '{kind}' AND r.responded_at >= {_since(q, w)}
                  AND r.responded_at < %(day_end)s
                GROUP BY r.account_id)""")
            _piece(q, [kind], w, "x.value", name)

    if K.OPEN_PRIORITY_TICKETS in windows:
        priorities = ", ".join(f"'{p}'" for p in SupportTicket.HIGH_PRIORITIES)
        q.ctes.append(f"""open_tickets AS MATERIALIZED (
            SELECT k.account_id, COUNT(*) AS value FROM health_supportticket k
            WHERE k.tenant_id = %(t)s AND k.priority IN ({priorities}) AND k.opened_at < %(day_end)s
              AND (k.closed_at IS NULL OR k.closed_at >= %(day_end)s)
            GROUP BY k.account_id)""")
        _piece(q, [K.OPEN_PRIORITY_TICKETS], None, f"COALESCE(x.value, {zero_tickets})",
               "open_tickets")
    for w in sorted(windows.get(K.TICKETS_OPENED, ())):
        name = f"tickets_{w}"
        q.ctes.append(f"""{name} AS MATERIALIZED (
            SELECT k.account_id, COUNT(*) AS value FROM health_supportticket k
            WHERE k.tenant_id = %(t)s AND k.opened_at >= {_since(q, w)} AND k.opened_at < %(day_end)s
            GROUP BY k.account_id)""")
        _piece(q, [K.TICKETS_OPENED], w, f"COALESCE(x.value, {zero_tickets})",
               name)

    if K.DAYS_SINCE_TOUCH in windows:
        kinds = ", ".join(f"'{k}'" for k in TOUCH_KINDS)
        q.ctes.append(f"""touch AS MATERIALIZED (
            SELECT v.account_id, MAX(v.occurred_at) AS last_at FROM accounts_activity v
            WHERE v.tenant_id = %(t)s AND v.kind IN ({kinds}) AND v.occurred_at < %(day_end)s
            GROUP BY v.account_id)""")
        # Never touched counts from the day the account was created: silence is the signal.
        days = _days_between("%(day)s", "COALESCE(x.last_at, am.created_at)")
        _piece(q, [K.DAYS_SINCE_TOUCH], None, f"CASE WHEN {days} < 0 THEN 0 ELSE {days} END",
               "touch")

    for w in sorted(windows.get(K.SPONSOR_ENGAGED, ())):
        name = f"sponsor_{w}"
        q.ctes.append(f"""{name} AS MATERIALIZED (
            SELECT DISTINCT v.account_id, 1 AS engaged FROM accounts_activity v
            JOIN accounts_activitycontact vc ON vc.activity_id = v.id
            JOIN accounts_contact c ON c.id = vc.contact_id
            WHERE v.tenant_id = %(t)s AND c.persona = 'executive_sponsor'
              AND v.occurred_at >= {_since(q, w)} AND v.occurred_at < %(day_end)s)""")
        _piece(q, [K.SPONSOR_ENGAGED], w, "COALESCE(x.engaged, 0)",
               name)

    for w in sorted(windows.get(K.GOAL_ATTAINMENT, ())):
        name = f"goals_{w}"
        q.params[f"{name}_due_from"] = q.params["day_date"] - timedelta(days=w)
        progress = _clamp01("(g.current_value - g.baseline) * 1.0 / (g.target - g.baseline)")
        share = _date_diff("%(day)s", "g.start_date") + " * 1.0 / " + _date_diff("g.due_date", "g.start_date")
        time_used = f"CASE WHEN g.due_date <= g.start_date THEN 1 ELSE {_clamp01(share)} END"
        status = f"""CASE WHEN g.status_override <> '' THEN g.status_override
                          WHEN {progress} >= 1 THEN 'achieved'
                          WHEN %(day)s > g.due_date THEN 'missed'
                          WHEN {progress} + {GOAL_TOLERANCE} >= {time_used} THEN 'on_track'
                          ELSE 'at_risk' END"""
        q.ctes.append(f"""{name} AS MATERIALIZED (
            SELECT z.account_id,
                   SUM(CASE WHEN z.status IN ('on_track', 'achieved') THEN 1 ELSE 0 END) * 100.0 / COUNT(*) AS value
            FROM (SELECT g.account_id, {status} AS status
                  FROM success_plans_goal g JOIN success_plans_successplan p ON p.id = g.plan_id
                  WHERE g.tenant_id = %(t)s AND p.status = 'active' AND g.start_date <= %(day)s
                    AND g.due_date >= %({name}_due_from)s) z
            GROUP BY z.account_id)""")
        _piece(q, [K.GOAL_ATTAINMENT], w, "x.value", name)

    for w in sorted(windows.get(K.CSM_SENTIMENT, ())):
        name = f"pulse_{w}"
        q.params[f"{name}_from"] = q.params["day_date"] - timedelta(days=w - 1)
        q.ctes.append(f"""{name} AS MATERIALIZED (
            SELECT z.account_id, z.score FROM (
              SELECT p.account_id, p.score,
                     ROW_NUMBER() OVER (PARTITION BY p.account_id ORDER BY p.as_of DESC, p.id DESC) AS rn
              FROM health_sentimentpulse p
              WHERE p.tenant_id = %(t)s AND p.as_of >= %({name}_from)s AND p.as_of <= %(day)s) z
            WHERE z.rn = 1)""")
        _piece(q, [K.CSM_SENTIMENT], w, "x.score", name)


def _measure_windows() -> dict[str, set[int]]:
    windows: dict[str, set[int]] = {}
    rows = Measure.objects.filter(scorecard__is_active=True).values_list("kind", "window_days").distinct()
    for kind, w in rows:
        windows.setdefault(kind, set()).add(w)
    return windows


def health_settings(tenant: Tenant) -> HealthSettings:
    settings, _ = HealthSettings.objects.get_or_create(tenant=tenant)
    return settings


def scores_compute(*, tenant: Tenant, day: date, account_ids=None) -> int:
    """Writes the HealthScore of every active account of the tenant (or of `account_ids`) for `day`.

    Must run inside `tenant_context(tenant)`. Idempotent: a rerun overwrites the same rows. Returns the number
    of rows written.
    """
    if account_ids is not None and not account_ids:
        return 0
    only = ""
    if account_ids is not None:
        only = "AND a.id IN (" + ", ".join(str(int(i)) for i in account_ids) + ")"
    bands = health_settings(tenant)
    windows = _measure_windows()
    day_end = _day_bounds(day)
    usage_span = max((w for k in USAGE_KINDS for w in windows.get(k, ())),
                     default=0)
    now = timezone.now()
    q = _Query(ctes=[], pieces=[], params={
        "t": tenant.pk, "day": day, "day_date": day, "day_end_dt": day_end, "day_end": _ts(day_end),
        "now": _ts(now), "d7": day - timedelta(days=7), "d30": day - timedelta(days=30),
        "green_from": bands.green_from, "yellow_from": bands.yellow_from,
        "has_usage": bool(usage_span) and UsageDaily.objects.filter(
            day__gt=day - timedelta(days=usage_span), day__lte=day).exists(),
        "has_tickets": SupportTicket.objects.filter(opened_at__lt=day_end).exists(),
    })
    q.ctes.append(f"""acct AS MATERIALIZED (
        SELECT a.id AS account_id, a.segment_id, a.stage_id, a.licensed_seats, a.created_at
        FROM accounts_account a WHERE a.tenant_id = %(t)s AND a.status = 'active' {only})""")
    q.ctes.append("""cards AS MATERIALIZED (
        SELECT s.id, s.is_default, s.priority,
               EXISTS (SELECT 1 FROM health_scorecardsegment x WHERE x.scorecard_id = s.id) AS by_segment,
               EXISTS (SELECT 1 FROM health_scorecardstage x WHERE x.scorecard_id = s.id) AS by_stage
        FROM health_scorecard s WHERE s.tenant_id = %(t)s AND s.is_active)""")
    q.ctes.append("""card AS MATERIALIZED (
        SELECT ranked.account_id, ranked.scorecard_id FROM (
          SELECT acct.account_id, c.id AS scorecard_id,
                 ROW_NUMBER() OVER (PARTITION BY acct.account_id ORDER BY c.is_default, c.priority, c.id) AS rn
          FROM acct JOIN cards c ON c.is_default OR (
            (c.by_segment OR c.by_stage)
            AND (NOT c.by_segment OR EXISTS (SELECT 1 FROM health_scorecardsegment x
                                             WHERE x.scorecard_id = c.id AND x.segment_id = acct.segment_id))
            AND (NOT c.by_stage OR EXISTS (SELECT 1 FROM health_scorecardstage x
                                           WHERE x.scorecard_id = c.id AND x.stage_id = acct.stage_id)))
        ) ranked WHERE ranked.rn = 1)""")
    q.ctes.append(f"""am AS (
        SELECT card.account_id, m.id AS measure_id, m.kind, m.window_days AS w, m.weight,
               CAST(m.red_threshold AS {FLOAT}) AS red, CAST(m.green_threshold AS {FLOAT}) AS green, m.position
        FROM card JOIN health_measure m ON m.scorecard_id = card.scorecard_id)""")
    _add_measure_sources(q, windows, only)
    # One row per account with every signal it needs, then one CASE per (account, measure): each signal is
    # joined once per account, not once per measure.
    columns = "".join(f", {source}.{column} AS {source}_{column}"
                      for source, used in q.joins.items() for column in sorted(used))
    joins = "".join(f"\n        LEFT JOIN {source} ON {source}.account_id = card.account_id" for source in q.joins)
    q.ctes.append(f"""wide AS (
        SELECT card.account_id, acct.licensed_seats AS seats, acct.created_at{columns}
        FROM card JOIN acct ON acct.account_id = card.account_id{joins})""")
    raw_value = ("CASE " + "\n          ".join(q.pieces) + " END") if q.pieces else "CAST(NULL AS numeric)"
    q.ctes.append(f"""raw AS (
        SELECT am.account_id, am.measure_id, am.weight, am.red, am.green, am.position, {raw_value} AS raw
        FROM am JOIN wide ON wide.account_id = am.account_id)""")
    mapped = _round2(f"100 * {_clamp01('(CAST(r.raw AS double precision) - r.red) / (r.green - r.red)')}")
    q.ctes.append(f"""scored AS (
        SELECT r.account_id, r.measure_id, r.raw, r.weight, r.position,
               CASE WHEN r.raw IS NULL THEN NULL ELSE {mapped} END AS score
        FROM raw r)""")
    q.ctes.append(f"""overall AS MATERIALIZED (
        SELECT s.account_id,
               {_round2("SUM(s.score * s.weight) / NULLIF(SUM(CASE WHEN s.score IS NOT NULL THEN s.weight END), 0)")}
                 AS score,
               {_components_agg()} AS components
        FROM scored s GROUP BY s.account_id)""")
    empty = "'[]'::jsonb" if _pg() else "'[]'"
    sql = "WITH " + ",\n".join(q.ctes) + f"""
        INSERT INTO health_healthscore
          (tenant_id, account_id, day, scorecard_id, score, band, components, change_7d, change_30d, computed_at)
        SELECT %(t)s, card.account_id, %(day)s, card.scorecard_id, o.score,
               CASE WHEN o.score IS NULL THEN 'none' WHEN o.score >= %(green_from)s THEN 'green'
                    WHEN o.score >= %(yellow_from)s THEN 'yellow' ELSE 'red' END,
               COALESCE(o.components, {empty}), o.score - p7.score, o.score - p30.score, %(now)s
        FROM card LEFT JOIN overall o ON o.account_id = card.account_id
        LEFT JOIN health_healthscore p7 ON p7.tenant_id = %(t)s AND p7.account_id = card.account_id
                                        AND p7.day = %(d7)s
        LEFT JOIN health_healthscore p30 ON p30.tenant_id = %(t)s AND p30.account_id = card.account_id
                                         AND p30.day = %(d30)s
        WHERE TRUE
        ON CONFLICT (tenant_id, account_id, day) DO UPDATE SET
          scorecard_id = excluded.scorecard_id, score = excluded.score, band = excluded.band,
          components = excluded.components, change_7d = excluded.change_7d, change_30d = excluded.change_30d,
          computed_at = excluded.computed_at"""
    # Every join here is between whole sets: hash joins. The planner's estimates for the CTEs are often 1 row
    # (it cannot see into them), which made it pick nested loops (millions of comparisons on large tenants),
    # and the statement's cost estimate triggered JIT compilation that took longer than the query
    # (4 s of 7 s on an 18,500-account tenant: docs/benchmarks.md).
    with local_planner_settings(jit="off", enable_nestloop="off", work_mem="64MB"), connection.cursor() as cursor:
        cursor.execute(sql, q.params)
        if cursor.rowcount >= 0:
            return cursor.rowcount
    # SQLite does not report the rows of an INSERT that starts with WITH.
    return HealthScore.objects.filter(day=day, computed_at__gte=now).count()


def portfolio_rollup(*, tenant: Tenant, day: date) -> int:
    """Rewrites the band counts of `day` from that day's scores (one DELETE and one INSERT ... SELECT)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM health_portfoliohealthdaily WHERE tenant_id = %s AND day = %s", [tenant.pk, day])
        cursor.execute(
            """INSERT INTO health_portfoliohealthdaily (tenant_id, day, csm_id, segment_id, stage_id, band, accounts)
               SELECT h.tenant_id, h.day, a.csm_id, a.segment_id, a.stage_id, h.band, COUNT(*)
               FROM health_healthscore h JOIN accounts_account a ON a.id = h.account_id AND a.tenant_id = h.tenant_id
               WHERE h.tenant_id = %s AND h.day = %s AND a.status = 'active'
               GROUP BY h.tenant_id, h.day, a.csm_id, a.segment_id, a.stage_id, h.band""",
            [tenant.pk, day],
        )
        return cursor.rowcount
