"""One tenant's book of business in a dozen set-based statements (INSERT ... SELECT FROM generate_series).

Every random draw is `hashint8extended(key, seed + salt)` of a key built from the tenant's index, the
account's ordinal and the row's ordinal (day, activity, ticket...), never from a row id or a scan order:
so the same seed gives the same book, whatever the ids and plans are. Each account draws a profile once
(segment, seats, baseline adoption, a trend: stable, growing, declining or a cliff, whether it went quiet
or churned, a "mood" that colours its surveys, sentiment, tickets and goals), and every table derives from
it, so usage, voice of the customer and engagement agree and the scores spread over the three bands.

Runs inside `tenant_context(tenant)`: row level security is forced on every tenant table.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from accounts.models import DEFAULT_STAGES, LifecycleStage, Segment

from .people import FIRST_NAMES, LAST_NAMES

STEMS = ["Acme", "Globex", "Initrode", "Umbra", "Vertex", "Northwind", "Contoso", "Helios", "Blue Harbor",
         "Redwood", "Silverline", "Quantum", "Nimbus", "Ironclad", "Evergreen", "Pioneer", "Summit", "Cobalt",
         "Lumen", "Orbital", "Keystone", "Atlas", "Beacon", "Crescent", "Horizon", "Meridian", "Sterling",
         "Tidewater", "Zenith", "Falcon"]
NOUNS = ["Logistics", "Health", "Bank", "Foods", "Energy", "Media", "Robotics", "Retail", "Insurance", "Labs",
         "Software", "Telecom", "Pharma", "Motors", "Travel", "Capital"]
INDUSTRIES = ["Software", "Financial services", "Healthcare", "Retail", "Manufacturing", "Logistics", "Media",
              "Education", "Energy", "Telecommunications"]
REGIONS = ["North America", "EMEA", "APAC", "LATAM"]
GOALS = [("Increase weekly active users", "weekly active users", "users"),
         ("Cut time to first report", "median time to first report", "days"),
         ("Roll out to the support team", "support agents onboarded", "agents"),
         ("Automate renewal reporting", "reports automated", "reports"),
         ("Reduce manual tickets", "manual tickets per month", "tickets")]
TICKET_SUBJECTS = ["Login fails with SSO", "Export times out", "Wrong totals on dashboard", "API rate limit",
                   "Invite emails not arriving", "Slow search", "Billing question", "Feature request"]


@dataclass
class TenantBook:
    tenant_id: int
    index: int  # 1-based position of the tenant in the book
    accounts: int
    days: int
    seed: int
    end: date  # last day with usage

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)


def rnd(key_sql: str, salt: int) -> str:
    """A uniform draw in [0, 1) from a bigint key (SQL text)."""
    return f"((hashint8extended(({key_sql})::bigint, {salt}::bigint) & 2147483647)::float8 / 2147483648.0)"


def pick(array_param: str, n: int, draw: str) -> str:
    return f"(%({array_param})s::text[])[1 + floor({draw} * {n})::int]"


class BookWriter:
    """Writes one tenant's rows; each public method is one phase (timed by the caller)."""

    def __init__(self, book: TenantBook, csm_ids: list[int]):
        self.b = book
        self.salt0 = book.seed * 1_000_003
        segments = dict(Segment.objects.values_list("name", "id"))
        stages = dict(LifecycleStage.objects.values_list("name", "id"))
        self.params = {
            "t": book.tenant_id, "ti": book.index, "n": book.accounts, "D": book.days,
            "start": book.start, "end": book.end, "end_excl": book.end + timedelta(days=1),
            "csms": csm_ids, "ncsm": len(csm_ids),
            "seg_e": segments["Enterprise"], "seg_m": segments["Mid-Market"], "seg_s": segments["SMB"],
            "stages": [stages[name] for name in DEFAULT_STAGES],
            "stems": STEMS, "nouns": NOUNS, "industries": INDUSTRIES, "regions": REGIONS,
            "goal_titles": [g[0] for g in GOALS], "goal_measures": [g[1] for g in GOALS],
            "goal_units": [g[2] for g in GOALS], "subjects": TICKET_SUBJECTS,
            "first": FIRST_NAMES, "last": LAST_NAMES, "nfirst": len(FIRST_NAMES), "nlast": len(LAST_NAMES),
        }

    def r(self, key_sql: str, salt: int) -> str:
        return rnd(key_sql, self.salt0 + salt)

    def _run(self, sql: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params)
            return max(cursor.rowcount, 0)

    # --- accounts -----------------------------------------------------------------------------------

    def accounts(self) -> int:
        """Draws every account's profile into a temporary table, then inserts the accounts from it."""
        r = self.r
        # Inside an outer transaction (the tests) the previous tenant's table is still there.
        self._run("DROP TABLE IF EXISTS bench_acct")
        self._run(f"""
            CREATE TEMP TABLE bench_acct ON COMMIT DROP AS
            SELECT p.*,
              CASE p.seg WHEN 'E' THEN round(250 * power(10, p.r2)) WHEN 'M' THEN round(40 * power(7.5, p.r2))
                         ELSE round(5 * power(12, p.r2)) END::int AS seats,
              CASE WHEN p.trend = 'g' THEN 0.15 + 0.5 * p.r7 WHEN p.trend = 'd' THEN -(0.3 + 0.55 * p.r7)
                   WHEN p.trend = 's' THEN -0.1 + 0.2 * p.r7 ELSE 0 END AS slope,
              floor(%(D)s * (0.5 + 0.45 * p.r7))::int AS cliff_day,
              0.1 + 0.25 * p.r8 AS cliff_level,
              GREATEST(0, LEAST(1, 0.45 * (p.util0 - 0.08) / 0.87 + 0.35 * p.r16
                + CASE p.trend WHEN 'g' THEN 0.15 WHEN 's' THEN 0.05 WHEN 'd' THEN -0.2 ELSE -0.25 END)) AS mood,
              NULL::bigint AS id, NULL::bigint AS champion_id, NULL::bigint AS sponsor_id
            FROM (
              SELECT q.ord, q.k, q.r2, q.r7, q.r8, q.r15, q.r16,
                CASE WHEN q.r1 < 0.12 THEN 'E' WHEN q.r1 < 0.45 THEN 'M' ELSE 'S' END AS seg,
                CASE WHEN q.r3 < 0.03 THEN NULL
                     ELSE (%(csms)s::bigint[])[1 + floor(q.r4 * %(ncsm)s)::int] END AS csm_id,
                0.08 + 0.87 * power(q.r5, 0.7) AS util0,
                CASE WHEN q.r6 < 0.60 THEN 's' WHEN q.r6 < 0.78 THEN 'g' WHEN q.r6 < 0.94 THEN 'd' ELSE 'c' END
                  AS trend,
                4 + 30 * q.r9 AS epu, 1 + 9 * q.r10 AS breadth, q.r11 < 0.15 AS quiet,
                CASE WHEN q.r12 < 0.03 THEN floor(%(D)s * (0.2 + 0.75 * q.r13))::int END AS churn_day,
                CASE WHEN q.r14 < 0.10 THEN 1 WHEN q.r14 < 0.55 THEN 2 WHEN q.r14 < 0.72 THEN 3
                     WHEN q.r14 < 0.90 THEN 4 ELSE 5 END AS stage_pos,
                {pick('stems', len(STEMS), 'q.r17')} AS stem, {pick('nouns', len(NOUNS), 'q.r18')} AS noun,
                {pick('industries', len(INDUSTRIES), 'q.r19')} AS industry,
                {pick('regions', len(REGIONS), 'q.r20')} AS region, q.r21
              FROM (
                SELECT g AS ord, %(ti)s::bigint * 10000000 + g AS k,
                  {', '.join(f"{r('%(ti)s::bigint * 10000000 + g', i)} AS r{i}" for i in range(1, 22))}
                FROM generate_series(1, %(n)s) g) q) p""")
        self._run("ALTER TABLE bench_acct ADD PRIMARY KEY (ord)")
        rows = self._run("""
            WITH ins AS (
              INSERT INTO accounts_account (tenant_id, name, external_id, domain, industry, region, licensed_seats,
                long_term_potential, status, churn_date, created_at, updated_at, csm_id, stage_id, segment_id,
                stage_entered_at, stage_recorded_id)
              SELECT %(t)s, b.stem || ' ' || b.noun || ' ' || b.ord,
                'B' || lpad(%(ti)s::text, 3, '0') || '-' || lpad(b.ord::text, 7, '0'),
                lower(replace(b.stem, ' ', '')) || b.ord || '.example', b.industry, b.region, b.seats,
                round((b.seats * CASE b.seg WHEN 'E' THEN 600 WHEN 'M' THEN 400 ELSE 250 END
                       * (1 + b.r21))::numeric, 2),
                CASE WHEN b.churn_day IS NULL THEN 'active' ELSE 'churned' END,
                %(start)s::date + b.churn_day, c.at, c.at, b.csm_id,
                (%(stages)s::bigint[])[CASE WHEN b.churn_day IS NULL THEN b.stage_pos ELSE 6 END],
                CASE b.seg WHEN 'E' THEN %(seg_e)s WHEN 'M' THEN %(seg_m)s ELSE %(seg_s)s END::bigint,
                c.at + interval '1 day' * floor(b.r15 * 30),
                (%(stages)s::bigint[])[CASE WHEN b.churn_day IS NULL THEN b.stage_pos ELSE 6 END]
              FROM bench_acct b
              CROSS JOIN LATERAL (SELECT (%(start)s::date - (31 + floor(b.r15 * 900))::int)::timestamptz
                                           + interval '9 hours' AS at) c
              RETURNING id, external_id)
            UPDATE bench_acct b SET id = ins.id FROM ins
            WHERE b.ord = split_part(ins.external_id, '-', 2)::int""")
        self._run("CREATE INDEX ON bench_acct (id)")
        self._run("ANALYZE bench_acct")
        return rows

    # --- contacts -----------------------------------------------------------------------------------

    def contacts(self) -> int:
        """2-3 contacts per SMB account, 3-5 Mid-Market, 5-8 Enterprise: a champion, usually an executive
        sponsor, then economic buyer, admin and end users."""
        r = self.r
        ck = "b.k * 16 + i"
        rows = self._run(f"""
            INSERT INTO accounts_contact (tenant_id, account_id, external_id, name, email, title, persona, influence,
              sentiment, receives_surveys, created_at)
            SELECT %(t)s, b.id, '', x.first || ' ' || x.last,
              lower(x.first || '.' || x.last || i) || '@' || lower(replace(b.stem, ' ', '')) || b.ord || '.example',
              CASE x.persona WHEN 'champion' THEN 'Head of Operations' WHEN 'executive_sponsor' THEN 'VP Operations'
                WHEN 'decision_maker' THEN 'Director of IT' WHEN 'economic_buyer' THEN 'CFO'
                WHEN 'admin' THEN 'Systems administrator' ELSE 'Analyst' END,
              x.persona,
              CASE WHEN x.persona IN ('executive_sponsor', 'economic_buyer') THEN 'high'
                   WHEN x.persona IN ('champion', 'decision_maker') THEN 'medium' ELSE 'low' END,
              CASE WHEN {r(ck, 31)} < 0.2 THEN 'unknown' WHEN b.mood > 0.6 THEN 'positive'
                   WHEN b.mood < 0.3 THEN 'negative' ELSE 'neutral' END,
              x.persona IN ('champion', 'admin') OR (x.persona = 'end_user' AND {r(ck, 32)} < 0.4)
                OR (x.persona = 'executive_sponsor' AND {r(ck, 33)} < 0.3),
              %(start)s::timestamptz - interval '20 days'
            FROM bench_acct b
            CROSS JOIN LATERAL generate_series(1, CASE b.seg WHEN 'E' THEN 5 + floor({r('b.k', 30)} * 4)
                                                    WHEN 'M' THEN 3 + floor({r('b.k', 30)} * 3)
                                                    ELSE 2 + floor({r('b.k', 30)} * 2) END::int) i
            CROSS JOIN LATERAL (SELECT
              (%(first)s::text[])[1 + floor({r(ck, 34)} * %(nfirst)s)::int] AS first,
              (%(last)s::text[])[1 + floor({r(ck, 35)} * %(nlast)s)::int] AS last,
              CASE WHEN i = 1 THEN 'champion'
                   WHEN i = 2 AND {r('b.k', 36)} < 0.85 THEN 'executive_sponsor'
                   WHEN i = 2 THEN 'decision_maker' WHEN i = 3 THEN 'economic_buyer' WHEN i = 4 THEN 'admin'
                   ELSE 'end_user' END AS persona) x""")
        self._run("""UPDATE bench_acct b SET champion_id = c.id FROM accounts_contact c
                     WHERE c.tenant_id = %(t)s AND c.account_id = b.id AND c.persona = 'champion'""")
        self._run("""UPDATE bench_acct b SET sponsor_id = c.id FROM accounts_contact c
                     WHERE c.tenant_id = %(t)s AND c.account_id = b.id AND c.persona = 'executive_sponsor'""")
        return rows

    # --- engagement ---------------------------------------------------------------------------------

    def activities(self) -> tuple[int, int]:
        """Calls, meetings, emails, notes, trainings and business reviews from 60 days before the period to its
        end (more for bigger accounts; none in the last 60 days for quiet accounts; none after churn), each with
        its contacts: the champion, and the executive sponsor in most meetings and reviews."""
        r = self.r
        ak = "b.k * 256 + i"
        same = "(extract(epoch FROM ins.occurred_at)::bigint * 1000003) # b.k"
        with connection.cursor() as cursor:
            cursor.execute(f"""
                WITH ins AS (
                  INSERT INTO accounts_activity (tenant_id, account_id, external_id, kind, occurred_at, logged_by_id,
                    subject, body, outcome, next_step, next_step_due, next_step_done, minutes_spent, created_at)
                  SELECT %(t)s, b.id, '', x.kind, x.at, b.csm_id,
                    CASE x.kind WHEN 'call' THEN 'Check-in call' WHEN 'meeting' THEN 'Adoption review'
                      WHEN 'email' THEN 'Follow-up email' WHEN 'note' THEN 'Account note'
                      WHEN 'training' THEN 'Admin training' ELSE 'Quarterly business review' END,
                    '', '', CASE WHEN x.next THEN 'Send the recap' ELSE '' END,
                    CASE WHEN x.next THEN x.at::date + 7 END, x.next AND x.at::date + 7 < %(end)s,
                    CASE x.kind WHEN 'call' THEN 15 + floor({r(ak, 44)} * 30)
                      WHEN 'meeting' THEN 30 + floor({r(ak, 44)} * 60) WHEN 'training' THEN 60
                      WHEN 'business_review' THEN 90 ELSE 5 END,
                    x.at
                  FROM bench_acct b
                  CROSS JOIN LATERAL (SELECT 60 + CASE WHEN b.quiet THEN %(D)s - 60
                                                       ELSE COALESCE(b.churn_day, %(D)s) END AS span) s
                  CROSS JOIN LATERAL generate_series(1, LEAST(200, round(s.span::float8
                    / CASE b.seg WHEN 'E' THEN 5 WHEN 'M' THEN 10 ELSE 20 END * (0.5 + {r('b.k', 40)})))::int) i
                  CROSS JOIN LATERAL (SELECT
                    CASE WHEN {r(ak, 41)} < 0.30 THEN 'call' WHEN {r(ak, 41)} < 0.55 THEN 'meeting'
                         WHEN {r(ak, 41)} < 0.85 THEN 'email' WHEN {r(ak, 41)} < 0.92 THEN 'note'
                         WHEN {r(ak, 41)} < 0.97 THEN 'training' ELSE 'business_review' END AS kind,
                    (%(start)s::date - 60 + floor({r(ak, 42)} * s.span)::int)::timestamptz
                      + interval '8 hours' + interval '1 minute' * floor({r(ak, 45)} * 600) AS at,
                    {r(ak, 43)} < 0.3 AS next) x
                  RETURNING id, account_id, kind, occurred_at),
                links AS (
                  INSERT INTO accounts_activitycontact (tenant_id, activity_id, contact_id)
                  SELECT %(t)s, ins.id, b.champion_id FROM ins JOIN bench_acct b ON b.id = ins.account_id
                  WHERE ins.kind <> 'note' AND b.champion_id IS NOT NULL
                  UNION ALL
                  SELECT %(t)s, ins.id, b.sponsor_id FROM ins JOIN bench_acct b ON b.id = ins.account_id
                  WHERE b.sponsor_id IS NOT NULL
                    AND ((ins.kind IN ('meeting', 'business_review') AND {r(same, 46)} < 0.6)
                         OR (ins.kind = 'call' AND {r(same, 46)} < 0.15))
                  RETURNING 1)
                SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM links)""", self.params)
            return cursor.fetchone()

    def touches(self) -> int:
        """Account.last_touch_at and Contact.last_engaged_at, as the app maintains them."""
        self._run("""UPDATE accounts_account a SET last_touch_at = m.last
                     FROM (SELECT account_id, max(occurred_at) AS last FROM accounts_activity
                           WHERE tenant_id = %(t)s GROUP BY account_id) m
                     WHERE a.tenant_id = %(t)s AND a.id = m.account_id""")
        return self._run("""UPDATE accounts_contact c SET last_engaged_at = m.last
                            FROM (SELECT ac.contact_id, max(v.occurred_at) AS last
                                  FROM accounts_activitycontact ac JOIN accounts_activity v ON v.id = ac.activity_id
                                  WHERE ac.tenant_id = %(t)s AND v.tenant_id = %(t)s GROUP BY ac.contact_id) m
                            WHERE c.tenant_id = %(t)s AND c.id = m.contact_id""")

    # --- outcomes and the customer's voice -------------------------------------------------------------

    def plans(self) -> tuple[int, int]:
        """A success plan for 80% of Enterprise, 50% of Mid-Market and 20% of SMB accounts, 2-4 goals each;
        progress follows the account's mood, 60% of goals are approved by the sponsor (or champion)."""
        r = self.r
        gk = "b.k * 8 + i"
        with connection.cursor() as cursor:
            cursor.execute(f"""
                WITH plans AS (
                  INSERT INTO success_plans_successplan (tenant_id, account_id, owner_id, title, period_start,
                    period_end, status, objectives, roi_hypothesis, created_at, updated_at)
                  SELECT %(t)s, b.id, b.csm_id, 'Success plan ' || to_char(p.ps, 'YYYY-MM'), p.ps,
                    p.ps + 180 + floor({r('b.k', 51)} * 185)::int,
                    CASE WHEN {r('b.k', 52)} < 0.9 THEN 'active' ELSE 'draft' END,
                    'Grow adoption and prove the value before the renewal.', '', p.ps::timestamptz, p.ps::timestamptz
                  FROM bench_acct b
                  CROSS JOIN LATERAL (SELECT %(end)s::date - floor({r('b.k', 53)} * 150)::int AS ps) p
                  WHERE b.churn_day IS NULL
                    AND {r('b.k', 50)} < CASE b.seg WHEN 'E' THEN 0.8 WHEN 'M' THEN 0.5 ELSE 0.2 END
                  RETURNING id, account_id, period_start),
                goals AS (
                  INSERT INTO success_plans_goal (tenant_id, plan_id, account_id, title, measure, unit, baseline,
                    target, current_value, current_as_of, start_date, due_date, status_override, override_reason,
                    approved_by_id, approved_on, created_by_id, created_at)
                  SELECT %(t)s, plans.id, b.id,
                    (%(goal_titles)s::text[])[1 + ((b.k + i) %% 5)::int],
                    (%(goal_measures)s::text[])[1 + ((b.k + i) %% 5)::int],
                    (%(goal_units)s::text[])[1 + ((b.k + i) %% 5)::int],
                    v.baseline, v.target, round(v.baseline + (v.target - v.baseline) * v.progress, 2),
                    GREATEST(plans.period_start, %(end)s::date - floor({r(gk, 57)} * 20)::int),
                    plans.period_start, plans.period_start + 60 + floor({r(gk, 58)} * 240)::int, '', '',
                    CASE WHEN v.approved THEN COALESCE(b.sponsor_id, b.champion_id) END,
                    CASE WHEN v.approved AND COALESCE(b.sponsor_id, b.champion_id) IS NOT NULL
                         THEN LEAST(plans.period_start + 7, %(end)s::date) END,
                    b.csm_id, plans.period_start::timestamptz
                  FROM plans JOIN bench_acct b ON b.id = plans.account_id
                  CROSS JOIN LATERAL generate_series(1, 2 + floor({r('b.k', 54)} * 3)::int) i
                  CROSS JOIN LATERAL (SELECT round((50 + {r(gk, 55)} * 450)::numeric, 2) AS baseline) v0
                  CROSS JOIN LATERAL (SELECT v0.baseline,
                    round(v0.baseline * (1.2 + {r(gk, 56)} * 0.8)::numeric, 2) AS target,
                    GREATEST(-0.1, LEAST(1.1, b.mood * 1.1 - 0.15 + 0.4 * ({r(gk, 59)} - 0.5)))::numeric AS progress,
                    {r(gk, 60)} < 0.6 AS approved) v
                  RETURNING 1)
                SELECT (SELECT count(*) FROM plans), (SELECT count(*) FROM goals)""", self.params)
            return cursor.fetchone()

    def pulses(self) -> int:
        """CSM sentiment: 1-3 pulses on 60% of accounts over the last 120 days, following the mood."""
        r = self.r
        pk = "b.k * 8 + j"
        return self._run(f"""
            INSERT INTO health_sentimentpulse (tenant_id, account_id, score, comment, as_of, set_by_id, created_at)
            SELECT %(t)s, b.id,
              1 + round(4 * GREATEST(0, LEAST(1, b.mood + 0.15 + 0.3 * ({r(pk, 62)} - 0.5))))::int, '', x.as_of,
              b.csm_id, x.as_of::timestamptz + interval '17 hours'
            FROM bench_acct b
            CROSS JOIN LATERAL generate_series(1, CASE WHEN {r('b.k', 61)} < 0.6
                                                       THEN 1 + floor({r('b.k', 64)} * 3)::int ELSE 0 END) j
            CROSS JOIN LATERAL (SELECT %(end)s::date - floor({r(pk, 63)} * LEAST(%(D)s, 120))::int AS as_of) x""")

    def tickets(self) -> int:
        """Support tickets: more for big and unhappy accounts; 85% closed within two weeks, the rest open."""
        r = self.r
        tk = "b.k * 64 + j"
        return self._run(f"""
            INSERT INTO health_supportticket (tenant_id, account_id, external_id, subject, priority, opened_at,
              closed_at)
            SELECT %(t)s, b.id, 'T' || %(ti)s || '-' || b.ord || '-' || j,
              {pick('subjects', len(TICKET_SUBJECTS), r(tk, 75))},
              CASE WHEN {r(tk, 72)} < 0.30 THEN 'low' WHEN {r(tk, 72)} < 0.75 THEN 'normal'
                   WHEN {r(tk, 72)} < 0.93 THEN 'high' ELSE 'urgent' END,
              o.at, CASE WHEN {r(tk, 73)} < 0.85 AND o.closes < %(end_excl)s::timestamptz THEN o.closes END
            FROM bench_acct b
            CROSS JOIN LATERAL generate_series(1, LEAST(60, floor(CASE b.seg WHEN 'E' THEN 8 WHEN 'M' THEN 3 ELSE 1 END
              * %(D)s / 100.0 * (1.5 - b.mood) * 2 * {r('b.k', 70)}))::int) j
            CROSS JOIN LATERAL (SELECT %(start)s::timestamptz + interval '1 minute' * floor({r(tk, 71)} * %(D)s * 1440)
                                  AS at) o0
            CROSS JOIN LATERAL (SELECT o0.at, o0.at + interval '1 hour' * (2 + floor({r(tk, 74)} * 336))
                                  AS closes) o""")

    def surveys(self) -> int:
        """NPS from the champion on 45% of accounts (1-3 answers), CSAT on 30%, both following the mood."""
        r = self.r
        sk = "b.k * 8 + j"
        since = "interval '1 minute' * (1 + floor({draw} * LEAST(%(D)s, 180) * 1440))"
        return self._run(f"""
            INSERT INTO health_surveyresponse (tenant_id, account_id, contact_id, kind, score, comment, responded_at,
              source, external_id)
            SELECT %(t)s, b.id, b.champion_id, 'nps',
              GREATEST(0, LEAST(10, round(4.5 + 7 * b.mood + 3 * ({r(sk, 82)} - 0.5))))::int, '',
              %(end_excl)s::timestamptz - {since.format(draw=r(sk, 83))}, 'api', ''
            FROM bench_acct b
            CROSS JOIN LATERAL generate_series(1, CASE WHEN {r('b.k', 80)} < 0.45
                                                       THEN 1 + floor({r('b.k', 81)} * 3)::int ELSE 0 END) j
            UNION ALL
            SELECT %(t)s, b.id, b.champion_id, 'csat',
              GREATEST(1, LEAST(5, round(2.5 + 3 * b.mood + 1.5 * ({r(sk, 86)} - 0.5))))::int, '',
              %(end_excl)s::timestamptz - {since.format(draw=r(sk, 87))}, 'api', ''
            FROM bench_acct b
            CROSS JOIN LATERAL generate_series(1, CASE WHEN {r('b.k', 84)} < 0.3
                                                       THEN 1 + floor({r('b.k', 85)} * 2)::int ELSE 0 END) j""")

    # --- product usage ------------------------------------------------------------------------------

    def usage(self) -> int:
        """One UsageDaily row per account per day: active users from seats x baseline adoption x the trend
        (x 0.25 at weekends, zero after churn) with daily noise; events per active user and features used
        are per-account habits."""
        r = self.r
        uk = "b.k * 1024 + d"
        return self._run(f"""
            INSERT INTO health_usagedaily (tenant_id, account_id, day, active_users, events, features, quantity)
            SELECT %(t)s, b.id, %(start)s::date + d, u.active, u.events, u.features, u.events
            FROM bench_acct b
            CROSS JOIN LATERAL generate_series(0, %(D)s - 1) d
            CROSS JOIN LATERAL (SELECT
              CASE WHEN b.churn_day IS NOT NULL AND d >= b.churn_day THEN 0
                   WHEN b.trend = 'c' THEN CASE WHEN d >= b.cliff_day THEN b.cliff_level ELSE 1 END
                   ELSE GREATEST(0.02, 1 + b.slope * d / %(D)s) END AS level,
              CASE WHEN extract(isodow FROM %(start)s::date + d) >= 6 THEN 0.25 ELSE 1 END AS weekday) l
            CROSS JOIN LATERAL (SELECT LEAST(b.seats, floor(b.seats * b.util0 * l.level * l.weekday
                                  * (0.75 + 0.5 * {r(uk, 90)}) + {r(uk, 91)}))::int AS active) a
            CROSS JOIN LATERAL (SELECT a.active, floor(a.active * b.epu * (0.6 + 0.8 * {r(uk, 92)}))::int AS events,
              CASE WHEN a.active = 0 THEN 0
                   ELSE GREATEST(1, LEAST(20, round(b.breadth * (0.5 + 0.5 * LEAST(1, l.level))
                                                    * (0.7 + 0.6 * {r(uk, 93)}))))::int END AS features) u""")

    def check_constraints(self) -> None:
        """Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL checks every inserted row (one
        lookup per key) at commit. Checking them here makes that cost a phase of its own."""
        self._run("SET CONSTRAINTS ALL IMMEDIATE")  # fires the pending checks
        self._run("SET CONSTRAINTS ALL DEFERRED")  # and back to the default for whatever follows
