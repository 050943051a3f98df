"""One tenant's contracts, renewals and expansions, set-based, from the accounts already in the book.

Runs after the health history (a later phase, so it can be added to a book generated before it existed: the
accounts' profile draws lived in a temporary table that is gone, so this phase reads what it needs from the
accounts themselves (segment, seats, status, churn date, customer since, CSM) and the account's latest health
band). Every draw is `hashint8extended` of (tenant index, account ordinal, slot) keys, as in book.py.

Per account (customer since = its created_at date): terms of 12 months (SMB; most Mid-Market), 24 or 36
(part of Enterprise) from that date, the current term (ending after the book's last day; for a churned
account, the term that ended the day before its churn date) and the previous one when there was one, so 1-2
terms. ARR = seats x a per-seat price by segment (Enterprise 600, Mid-Market 400, SMB 250, +-20%), plus a
"Premium support" line (12%) on a quarter of the accounts. The previous term's renewal is closed renewed flat
(62%), with expansion (22%, fewer seats before) or downsell (16%, more seats before, with a reason); 30% of
accounts with a previous term also had an "Analytics add-on" contract, 30% of which churned at its renewal
(with a reason); churned accounts' last renewal closed churned. About 10% of closed renewals churned.
Contracts ending within 120 days of the last day have an open renewal (the nightly job's lead time), its
stage by how close the date is, its category following the health band. Expansions: 0-2 per active account,
45% open, 30% won (in the current term; won adds a contract co-termed with it, as `expansion_move` does),
25% lost, the CSM as lead source on most.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from accounts.models import Segment
from renewals.arr import accounts_arr_refresh
from renewals.models import ChurnReason
from renewals.services import renewals_defaults_ensure

from .book import rnd

LEAD_DAYS = 120
TABLES = ["renewals_contract", "renewals_contractline", "renewals_renewalopportunity",
          "renewals_expansionopportunity", "accounts_account"]


@dataclass
class RenewalsBook:
    tenant_id: int
    index: int  # 1-based position of the tenant in the book
    seed: int
    end: date


class RenewalsWriter:
    """Writes one tenant's renewals data inside its tenant context; `write()` returns the row counts."""

    def __init__(self, book: RenewalsBook):
        renewals_defaults_ensure()  # churn reasons and probability table, for tenants made before renewals
        self.b = book
        self.salt0 = book.seed * 1_000_003 + 500
        segments = dict(Segment.objects.values_list("name", "id"))
        both = ChurnReason.AppliesTo.BOTH
        churn = list(ChurnReason.objects.filter(applies_to__in=[both, "churn"]).order_by("position")
                     .values_list("id", flat=True))
        down = list(ChurnReason.objects.filter(applies_to__in=[both, "downsell"]).order_by("position")
                    .values_list("id", flat=True))
        self.params = {
            "t": book.tenant_id, "ti": book.index, "end": book.end, "lead_end": book.end + timedelta(days=LEAD_DAYS),
            "year_ago": book.end - timedelta(days=365),
            "seg_e": segments.get("Enterprise"), "seg_m": segments.get("Mid-Market"),
            "churn_ids": churn, "nchurn": len(churn), "down_ids": down, "ndown": len(down),
        }

    def r(self, key_sql: str, salt: int) -> str:
        return rnd(key_sql, self.salt0 + salt)

    def _run(self, sql: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params)
            return max(cursor.rowcount, 0)

    def write(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            # Per transaction: the temporary tables have fresh statistics, the rest are analysed; JIT would
            # compile every statement for the rows it expects and save nothing.
            cursor.execute("SET LOCAL work_mem = '128MB'; SET LOCAL jit = off")
        self._accounts()
        self._expansion_plan()
        self._contract_plan()
        counts = {"contracts": self._contracts(), "contract lines": self._lines(),
                  "renewals": self._renewals(), "expansions": self._expansions()}
        accounts_arr_refresh(on=self.b.end)
        counts["renewals open"] = self._count("SELECT count(*) FROM renewals_renewalopportunity "
                                              "WHERE tenant_id = %(t)s AND stage <> 'closed'")
        return counts

    def _count(self, sql: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params)
            return cursor.fetchone()[0]

    def _accounts(self) -> None:
        r = self.r
        self._run("DROP TABLE IF EXISTS bench_ren_acct")
        self._run(f"""
            CREATE TEMP TABLE bench_ren_acct ON COMMIT DROP AS
            SELECT t.*, (t.s1 + make_interval(months => t.months))::date - 1 AS e1_anniversary,
              CASE WHEN t.n >= 1 THEN (t.c + make_interval(months => (t.n - 1) * t.months))::date END AS s0
            FROM (
              SELECT u.*, (u.c + make_interval(months => u.n * u.months))::date AS s1
              FROM (
                SELECT v.*, ((date_part('year', age(v.x, v.c)) * 12 + date_part('month', age(v.x, v.c)))::int
                             / v.months) AS n
                FROM (
                  SELECT a.id, a.csm_id, a.ord, a.k, a.seg, a.seats, a.churned, a.churn_date, a.c, a.band,
                    CASE WHEN a.churned THEN a.churn_date - 1 ELSE %(end)s::date END AS x,
                    CASE WHEN a.seg = 'S' THEN 12
                         WHEN a.seg = 'M' THEN CASE WHEN {r('a.k', 1)} < 0.75 THEN 12 ELSE 24 END
                         WHEN {r('a.k', 1)} < 0.45 THEN 12 WHEN {r('a.k', 1)} < 0.8 THEN 24 ELSE 36 END AS months,
                    round((CASE a.seg WHEN 'E' THEN 600 WHEN 'M' THEN 400 ELSE 250 END
                           * (0.8 + 0.4 * {r('a.k', 2)}))::numeric, 2) AS price,
                    {r('a.k', 3)} < 0.25 AS support,
                    CASE WHEN {r('a.k', 4)} < 0.62 THEN 'renewed_flat' WHEN {r('a.k', 4)} < 0.84
                         THEN 'renewed_expansion' ELSE 'downsell' END AS outcome0,
                    0.6 + 0.3 * {r('a.k', 5)} AS down_f, 1.1 + 0.4 * {r('a.k', 5)} AS up_f,
                    NOT a.churned AND {r('a.k', 6)} < 0.30 AS addon, {r('a.k', 7)} < 0.30 AS addon_churned,
                    {r('a.k', 8)} AS r_close, {r('a.k', 9)} AS r_reason, {r('a.k', 10)} AS r_stage,
                    {r('a.k', 11)} AS r_cat, {r('a.k', 12)} AS r_exp, {r('a.k', 13)} AS r_auto,
                    {r('a.k', 14)} AS r_nexp
                  FROM (
                    SELECT a.id, a.csm_id, split_part(a.external_id, '-', 2)::int AS ord,
                      %(ti)s::bigint * 10000000 + split_part(a.external_id, '-', 2)::int AS k,
                      CASE a.segment_id WHEN %(seg_e)s THEN 'E' WHEN %(seg_m)s THEN 'M' ELSE 'S' END AS seg,
                      GREATEST(a.licensed_seats, 5) AS seats, a.status = 'churned' AND a.churn_date IS NOT NULL
                        AS churned, a.churn_date, (a.created_at AT TIME ZONE 'UTC')::date AS c,
                      COALESCE(h.band, 'none') AS band
                    FROM accounts_account a
                    LEFT JOIN (SELECT DISTINCT ON (account_id) account_id, band FROM health_healthscore
                               WHERE tenant_id = %(t)s AND day <= %(end)s ORDER BY account_id, day DESC) h
                      ON h.account_id = a.id
                    WHERE a.tenant_id = %(t)s) a) v) u) t""")
        # A churned account's last term ended the day before its churn date.
        self._run("ALTER TABLE bench_ren_acct ADD COLUMN e1 date")
        self._run("UPDATE bench_ren_acct SET e1 = CASE WHEN churned THEN x ELSE e1_anniversary END")
        self._run("ALTER TABLE bench_ren_acct ADD PRIMARY KEY (id)")
        self._run("ANALYZE bench_ren_acct")

    def _expansion_plan(self) -> None:
        r = self.r
        ek = "a.k * 8 + j"
        self._run("DROP TABLE IF EXISTS bench_ren_exp")
        self._run(f"""
            CREATE TEMP TABLE bench_ren_exp ON COMMIT DROP AS
            SELECT q.*, CASE q.stage WHEN 'won' THEN q.s1 + floor(q.r_when * (%(end)s::date - q.s1 + 1))::int
                                     WHEN 'lost' THEN GREATEST(q.c, %(end)s::date - floor(q.r_when * 365)::int)
                        END AS closed_on
            FROM (
              SELECT a.id AS account_id, a.ord, a.csm_id, a.s1, a.c, j,
                CASE WHEN {r(ek, 20)} < 0.6 THEN 'upsell' ELSE 'cross_sell' END AS kind,
                CASE WHEN {r(ek, 20)} < 0.6 THEN 'Additional seats'
                     WHEN {r(ek, 20)} < 0.75 THEN 'Analytics add-on'
                     WHEN {r(ek, 20)} < 0.9 THEN 'Premium support' ELSE 'API access' END AS product,
                round((a.seats * a.price * (0.1 + 0.4 * {r(ek, 21)}))::numeric, 2) AS amount,
                CASE WHEN {r(ek, 22)} < 0.45 THEN
                       (ARRAY['identified', 'qualified', 'proposal', 'negotiation'])[1 + floor({r(ek, 23)} * 4)::int]
                     WHEN {r(ek, 22)} < 0.75 THEN 'won' ELSE 'lost' END AS stage,
                {r(ek, 24)} AS r_when, 7 + floor({r(ek, 25)} * 173)::int AS ahead,
                CASE WHEN {r(ek, 26)} < 0.85 THEN a.csm_id END AS lead_source_id
              FROM bench_ren_acct a
              CROSS JOIN LATERAL generate_series(1, CASE WHEN a.churned THEN 0 WHEN a.r_nexp < 0.55 THEN 0
                                                         WHEN a.r_nexp < 0.85 THEN 1 ELSE 2 END) j) q""")

    def _contract_plan(self) -> None:
        """Every contract to write: m0/m1 the previous and current main terms, a0/a1 the add-on, x<j> the won
        expansions; `arr` is the sum of the lines `_lines` writes."""
        self._run("DROP TABLE IF EXISTS bench_ren_ctr")
        main = ("round(({q} * a.price)::numeric, 2) + CASE WHEN a.support THEN round(({q} * a.price * 0.12)::numeric, "
                "2) ELSE 0 END")
        qty0 = ("(CASE a.outcome0 WHEN 'renewed_flat' THEN a.seats WHEN 'renewed_expansion' "
                "THEN GREATEST(1, floor(a.seats / a.up_f)) ELSE ceil(a.seats / a.down_f) END)::numeric")
        addon_qty = "ceil(a.seats / 10.0)::numeric"
        self._run(f"""
            CREATE TEMP TABLE bench_ren_ctr ON COMMIT DROP AS
            SELECT a.id AS account_id, a.ord, 'm1' AS slot, 'm0' AS prev, 'Platform subscription' AS product,
              a.s1 AS start_date, a.e1 AS end_date, a.seats::numeric AS qty, a.price, a.support,
              {main.format(q='a.seats')} AS arr
            FROM bench_ren_acct a
            UNION ALL
            SELECT a.id, a.ord, 'm0', NULL, 'Platform subscription', a.s0, a.s1 - 1, {qty0}, a.price, a.support,
              {main.format(q=qty0)}
            FROM bench_ren_acct a WHERE a.s0 IS NOT NULL
            UNION ALL
            SELECT a.id, a.ord, 'a0', NULL, 'Analytics add-on', a.s0, a.s1 - 1, {addon_qty}, 120::numeric, false,
              {addon_qty} * 120
            FROM bench_ren_acct a WHERE a.addon AND a.s0 IS NOT NULL
            UNION ALL
            SELECT a.id, a.ord, 'a1', 'a0', 'Analytics add-on', a.s1, a.e1, {addon_qty}, 120, false,
              {addon_qty} * 120
            FROM bench_ren_acct a WHERE a.addon AND a.s0 IS NOT NULL AND NOT a.addon_churned
            UNION ALL
            SELECT a.id, a.ord, 'x' || e.j, NULL, e.product, e.closed_on, a.e1, 1::numeric, e.amount, false, e.amount
            FROM bench_ren_exp e JOIN bench_ren_acct a ON a.id = e.account_id
            WHERE e.stage = 'won' AND e.amount > 0""")
        self._run("ALTER TABLE bench_ren_ctr ADD COLUMN id bigint")
        self._run("CREATE UNIQUE INDEX ON bench_ren_ctr (account_id, slot)")
        self._run("ANALYZE bench_ren_ctr")

    def _contracts(self) -> int:
        ext = "'C' || lpad(%(ti)s::text, 3, '0') || '-' || lpad(p.ord::text, 7, '0') || '-' || p.slot"
        rows = self._run(f"""
            WITH ins AS (
              INSERT INTO renewals_contract (tenant_id, account_id, external_id, name, start_date, end_date,
                auto_renew, status, cancelled_on, arr, renewal_of_id, created_at, updated_at)
              SELECT %(t)s, p.account_id, {ext},
                p.product || ' ' || to_char(p.start_date, 'YYYY-MM') || ' to ' || to_char(p.end_date, 'YYYY-MM'),
                p.start_date, p.end_date, a.r_auto < CASE a.seg WHEN 'S' THEN 0.7 ELSE 0.2 END, 'active', NULL,
                p.arr, NULL, p.start_date::timestamptz, p.start_date::timestamptz
              FROM bench_ren_ctr p JOIN bench_ren_acct a ON a.id = p.account_id
              RETURNING id, account_id, external_id)
            UPDATE bench_ren_ctr p SET id = ins.id FROM ins
            WHERE p.account_id = ins.account_id AND p.slot = split_part(ins.external_id, '-', 3)""")
        self._run("""UPDATE renewals_contract c SET renewal_of_id = o.id
                     FROM bench_ren_ctr p JOIN bench_ren_ctr o ON o.account_id = p.account_id AND o.slot = p.prev
                     WHERE c.tenant_id = %(t)s AND c.id = p.id""")
        return rows

    def _lines(self) -> int:
        return self._run("""
            INSERT INTO renewals_contractline (tenant_id, contract_id, product, quantity, unit_price, arr)
            SELECT %(t)s, p.id, p.product, p.qty, p.price, round(p.qty * p.price, 2) FROM bench_ren_ctr p
            UNION ALL
            SELECT %(t)s, p.id, 'Premium support', 1, round(p.qty * p.price * 0.12, 2),
              round(p.qty * p.price * 0.12, 2)
            FROM bench_ren_ctr p WHERE p.support AND p.slot IN ('m0', 'm1')""")

    def _renewals(self) -> int:
        churn_reason = "(%(churn_ids)s::bigint[])[1 + floor({d} * %(nchurn)s)::int]"
        down_reason = "(%(down_ids)s::bigint[])[1 + floor({d} * %(ndown)s)::int]"
        # Closed: the previous main term (flat / expansion / downsell into the current term), the add-on
        # (churned or flat) and a churned account's last term. Open: what ends within the lead time.
        closed = self._run(f"""
            INSERT INTO renewals_renewalopportunity (tenant_id, account_id, contract_id, owner_id, stage, category,
              current_arr, expected_arr, close_date, outcome, renewed_arr, reason_id, reason_comment, closed_on,
              created_at, updated_at)
            SELECT %(t)s, a.id, p.id, a.csm_id, 'closed', 'commit', p.arr, z.renewed, p.end_date, z.outcome, z.renewed,
              z.reason, '', LEAST(%(end)s::date, p.end_date + 5 - floor(a.r_close * 45)::int),
              (p.end_date - {LEAD_DAYS})::timestamptz, LEAST(%(end)s::date, p.end_date + 5)::timestamptz
            FROM bench_ren_ctr p
            JOIN bench_ren_acct a ON a.id = p.account_id
            LEFT JOIN bench_ren_ctr n ON n.account_id = p.account_id AND n.prev = p.slot
            CROSS JOIN LATERAL (SELECT
              CASE WHEN p.slot = 'm1' THEN 'churned' WHEN p.slot = 'a0' AND n.id IS NULL THEN 'churned'
                   WHEN p.slot = 'a0' THEN 'renewed_flat' ELSE a.outcome0 END AS outcome,
              COALESCE(n.arr, 0) AS renewed) z0
            CROSS JOIN LATERAL (SELECT z0.outcome, z0.renewed,
              CASE z0.outcome WHEN 'churned' THEN {churn_reason.format(d='a.r_reason')}
                              WHEN 'downsell' THEN {down_reason.format(d='a.r_reason')} END AS reason) z
            WHERE p.slot IN ('m0', 'a0') OR (p.slot = 'm1' AND a.churned)""")
        stage = ("(ARRAY['not_started', 'engaged', 'proposal', 'verbal'])[1 + LEAST(3, floor(4 * (0.6 * a.r_stage "
                 "+ 0.4 * (1 - (p.end_date - %(end)s::date) / 120.0))))::int]")
        cat = "a.r_cat"
        opened = self._run(f"""
            INSERT INTO renewals_renewalopportunity (tenant_id, account_id, contract_id, owner_id, stage, category,
              current_arr, expected_arr, close_date, outcome, renewed_arr, reason_id, reason_comment, closed_on,
              created_at, updated_at)
            SELECT %(t)s, a.id, p.id, a.csm_id, {stage}, y.category, p.arr,
              round(p.arr * CASE y.category WHEN 'at_risk' THEN 0.5 + 0.4 * a.r_exp
                                            WHEN 'commit' THEN CASE WHEN a.r_exp < 0.3 THEN 1 + 0.2 * a.r_exp / 0.3
                                                                    ELSE 1 END
                                            ELSE 1 END::numeric, 2),
              p.end_date, '', NULL, NULL, '', NULL, (p.end_date - {LEAD_DAYS})::timestamptz,
              (%(end)s::date - floor(a.r_close * 20)::int)::timestamptz
            FROM bench_ren_ctr p
            JOIN bench_ren_acct a ON a.id = p.account_id
            CROSS JOIN LATERAL (SELECT CASE a.band
              WHEN 'red' THEN CASE WHEN {cat} < 0.5 THEN 'at_risk' WHEN {cat} < 0.8 THEN 'pipeline'
                                   WHEN {cat} < 0.95 THEN 'best_case' ELSE 'omitted' END
              WHEN 'yellow' THEN CASE WHEN {cat} < 0.15 THEN 'at_risk' WHEN {cat} < 0.55 THEN 'pipeline'
                                      WHEN {cat} < 0.85 THEN 'best_case' ELSE 'commit' END
              WHEN 'green' THEN CASE WHEN {cat} < 0.05 THEN 'at_risk' WHEN {cat} < 0.3 THEN 'pipeline'
                                     WHEN {cat} < 0.6 THEN 'best_case' ELSE 'commit' END
              ELSE 'pipeline' END AS category) y
            WHERE p.slot NOT IN ('m0', 'a0') AND NOT a.churned
              AND p.end_date >= %(end)s AND p.end_date <= %(lead_end)s""")
        return closed + opened

    def _expansions(self) -> int:
        return self._run("""
            INSERT INTO renewals_expansionopportunity (tenant_id, account_id, kind, product, amount, stage,
              expected_close, closed_on, lead_source_id, owner_id, notes, external_id, created_at, updated_at)
            SELECT %(t)s, e.account_id, e.kind, e.product, e.amount, e.stage,
              COALESCE(e.closed_on, %(end)s::date + e.ahead), e.closed_on, e.lead_source_id, e.csm_id, '',
              'X' || lpad(%(ti)s::text, 3, '0') || '-' || lpad(e.ord::text, 7, '0') || '-' || e.j,
              (COALESCE(e.closed_on, %(end)s::date) - 30 - floor(e.r_when * 60)::int)::timestamptz,
              COALESCE(e.closed_on, %(end)s::date)::timestamptz
            FROM bench_ren_exp e""")
