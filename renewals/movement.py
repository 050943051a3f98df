"""The weekly forecast movement: what changed between two days' forecast lines, the way a forecast call walks
through it (new risks first, then category moves, slipped and pulled-in close dates, expected ARR changes, stage
changes, renewals new in the forecast, renewals closed since).

Each side is the latest day with lines on or before the date asked for (the job may have skipped a night). Two
queries whatever the book's size: the two days, then one pass over both days' lines grouped by renewal that keeps
only the renewals that changed (with their account and CSM); classifying those rows is plain Python.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.models import User
from health.models import Band

from .models import RenewalOpportunity

CATEGORY = dict(RenewalOpportunity.Category.choices)
STAGE = dict(RenewalOpportunity.Stage.choices)
OUTCOME = dict(RenewalOpportunity.Outcome.choices)
BAND = dict(Band.choices)
MAX_RENEWALS = 200  # changed renewals listed (largest expected ARR first); the page says when there are more

# (kind, heading), in the order a forecast call reviews them.
KINDS = [
    ("new_risk", "New risks"),
    ("category", "Category changes"),
    ("slipped", "Close date slipped"),
    ("pulled_in", "Close date pulled in"),
    ("amount", "Expected ARR changes"),
    ("stage", "Stage changes"),
    ("new", "New in the forecast"),
    ("closed", "Closed since"),
    ("left", "Left the forecast"),
]


@dataclass(frozen=True)
class Move:
    kind: str
    renewal_id: int
    account_id: int
    account: str
    csm: str
    arr: Decimal  # expected ARR (today's, or the last one seen for renewals that left)
    before: object = None
    after: object = None
    delta: Decimal | None = None  # amount changes (after - before); days for close-date moves
    text: str = ""


@dataclass
class Movement:
    day: date | None  # the lines compared: the latest on or before the day asked for
    compare_day: date | None  # ... and on or before the comparison date
    moves: list[Move] = field(default_factory=list)
    truncated: bool = False

    @property
    def comparable(self) -> bool:
        return self.day is not None and self.compare_day is not None and self.compare_day < self.day

    def of(self, kind: str) -> list[Move]:
        return [m for m in self.moves if m.kind == kind]

    def groups(self) -> list[dict]:
        return [{"kind": kind, "label": label, "moves": self.of(kind)} for kind, label in KINDS if self.of(kind)]


def _scope(alias: str, csm_ids, segment_ids) -> str:
    """Keeps the lines whose account had one of the CSMs / segments (as the job saw it that day)."""
    sql = ""
    if csm_ids is not None:
        sql += f" AND {alias}.csm_id IN (" + (", ".join(str(int(i)) for i in csm_ids) or "NULL") + ")"
    if segment_ids is not None:
        sql += f" AND {alias}.segment_id IN (" + (", ".join(str(int(i)) for i in segment_ids) or "NULL") + ")"
    return sql


def _days(tenant_id: int, day: date, compare_to: date) -> tuple[date | None, date | None]:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT (SELECT MAX(day) FROM renewals_forecastline WHERE tenant_id = %(t)s AND day <= %(d)s),
                   (SELECT MAX(day) FROM renewals_forecastline WHERE tenant_id = %(t)s AND day <= %(c)s)""",
                       {"t": tenant_id, "d": day, "c": compare_to})
        found = cursor.fetchone()
    return tuple(date.fromisoformat(d) if isinstance(d, str) else d for d in found)


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.0f}"


def _classify(row: dict) -> list[Move]:
    old, new = row["o_id"] is not None, row["n_id"] is not None
    base = {"renewal_id": row["renewal_id"], "account_id": row["account_id"], "account": row["account"],
            "csm": row["csm"] or "Unassigned", "arr": row["n_expected"] if new else row["o_expected"]}
    moves: list[Move] = []
    if new and not old:
        moves.append(Move(kind="new", after=row["n_category"], text=(
            f"{CATEGORY.get(row['n_category'], row['n_category'])}, closes {row['n_close']:%Y-%m-%d}"), **base))
        if row["n_category"] == "at_risk" or row["n_band"] == Band.RED:
            moves.append(Move(kind="new_risk", after=row["n_category"], text="New in the forecast: " + ", ".join(
                x for x in (CATEGORY["at_risk"] if row["n_category"] == "at_risk" else "",
                            "health Red" if row["n_band"] == Band.RED else "") if x), **base))
        return moves
    if old and not new:
        if row["r_stage"] == RenewalOpportunity.Stage.CLOSED:
            renewed = row["renewed_arr"]
            text = OUTCOME.get(row["outcome"], row["outcome"])
            if renewed is not None:
                text += f": {_fmt(renewed)} renewed of {_fmt(row['current_arr'])}"
            if row["closed_on"]:
                text += f" on {row['closed_on']:%Y-%m-%d}"
            moves.append(Move(kind="closed", after=row["outcome"], delta=renewed, text=text, **base))
        else:
            moves.append(Move(kind="left", text="No longer in the forecast", **base))
        return moves

    risks = []
    if row["o_category"] != row["n_category"]:
        before = CATEGORY.get(row["o_category"], row["o_category"])
        after = CATEGORY.get(row["n_category"], row["n_category"])
        moves.append(Move(kind="category", before=row["o_category"], after=row["n_category"],
                          text=f"{before} → {after}", **base))
        if row["n_category"] == "at_risk":
            risks.append(f"{before} → {after}")
    if row["o_band"] != row["n_band"] and row["n_band"] == Band.RED:
        risks.append(f"health {BAND.get(row['o_band'], row['o_band'])} → Red")
    if risks:
        moves.append(Move(kind="new_risk", before=row["o_category"], after=row["n_category"], text="; ".join(risks),
                          **base))
    if row["o_close"] != row["n_close"]:
        days = (row["n_close"] - row["o_close"]).days
        moves.append(Move(kind="slipped" if days > 0 else "pulled_in", before=row["o_close"], after=row["n_close"],
                          delta=Decimal(days), text=f"{row['o_close']:%Y-%m-%d} → {row['n_close']:%Y-%m-%d} "
                                                    f"({'+' if days > 0 else ''}{days} days)", **base))
    if row["o_expected"] != row["n_expected"]:
        delta = row["n_expected"] - row["o_expected"]
        moves.append(Move(kind="amount", before=row["o_expected"], after=row["n_expected"], delta=delta,
                          text=f"{_fmt(row['o_expected'])} → {_fmt(row['n_expected'])} "
                               f"({'+' if delta > 0 else '−'}{_fmt(abs(delta))})", **base))
    if row["o_stage"] != row["n_stage"]:
        before, after = STAGE.get(row["o_stage"], row["o_stage"]), STAGE.get(row["n_stage"], row["n_stage"])
        moves.append(Move(kind="stage", before=row["o_stage"], after=row["n_stage"], text=f"{before} → {after}",
                          **base))
    return moves


COLUMNS = ["renewal_id", "o_id", "n_id", "o_category", "n_category", "o_stage", "n_stage", "o_close", "n_close",
           "o_expected", "n_expected", "o_band", "n_band", "r_stage", "outcome", "renewed_arr", "closed_on",
           "current_arr", "account_id", "account", "csm"]


def forecast_movement(*, day: date, compare_to: date | None = None, csm_ids=None, segment_ids=None,
                      limit: int = MAX_RENEWALS) -> Movement:
    """What changed in the forecast between `compare_to` (default a week before `day`) and `day`, for the whole
    book or the renewals whose line carries one of `csm_ids` / `segment_ids` (the account's, as the job saw it)."""
    compare_to = compare_to or day - timedelta(days=7)
    tenant_id = current_tenant().pk
    d1, d0 = _days(tenant_id, day, compare_to)
    movement = Movement(day=d1, compare_day=d0)
    if not movement.comparable:
        return movement
    params = {"t": tenant_id, "d0": d0, "d1": d1, "limit": limit + 1}
    users = User._meta.db_table
    scope = _scope("l", csm_ids, segment_ids)

    def old(column):
        return f"MAX(CASE WHEN l.day = %(d0)s THEN l.{column} END)"

    def new(column):
        return f"MAX(CASE WHEN l.day = %(d1)s THEN l.{column} END)"

    # One pass over both days' lines grouped by renewal (no join of the two days, so the plan does not hinge on
    # fresh statistics right after the job); only the renewals that changed reach the joins for their names.
    changed = " OR ".join([f"{old(c)} <> {new(c)}" for c in ("category", "stage", "close_date", "expected_arr")]
                          + [f"({new('band')} = 'red' AND {old('band')} <> 'red')"])  # only a fall to red counts
    sql = f"""
        WITH pairs AS (
          SELECT l.renewal_id, {old('id')} AS o_id, {new('id')} AS n_id,
                 {old('category')} AS o_category, {new('category')} AS n_category,
                 {old('stage')} AS o_stage, {new('stage')} AS n_stage,
                 {old('close_date')} AS o_close, {new('close_date')} AS n_close,
                 {old('expected_arr')} AS o_expected, {new('expected_arr')} AS n_expected,
                 {old('band')} AS o_band, {new('band')} AS n_band,
                 MAX(CASE WHEN l.day = %(d1)s THEN l.csm_id END) AS n_csm, MAX(l.csm_id) AS any_csm
          FROM renewals_forecastline l
          WHERE l.tenant_id = %(t)s AND l.day IN (%(d0)s, %(d1)s) {scope}
          GROUP BY l.renewal_id
          HAVING {old('id')} IS NULL OR {new('id')} IS NULL OR {changed})
        SELECT p.renewal_id, p.o_id, p.n_id, p.o_category, p.n_category, p.o_stage, p.n_stage, p.o_close, p.n_close,
               p.o_expected, p.n_expected, p.o_band, p.n_band, r.stage, r.outcome, r.renewed_arr, r.closed_on,
               r.current_arr, a.id, a.name, COALESCE(NULLIF(u.full_name, ''), u.email)
        FROM pairs p
        JOIN renewals_renewalopportunity r ON r.id = p.renewal_id AND r.tenant_id = %(t)s
        JOIN accounts_account a ON a.id = r.account_id AND a.tenant_id = r.tenant_id
        LEFT JOIN {users} u ON u.id = COALESCE(p.n_csm, p.any_csm)
        ORDER BY COALESCE(p.n_expected, p.o_expected) DESC, a.name, p.renewal_id
        LIMIT %(limit)s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    movement.truncated = len(rows) > limit
    for values in rows[:limit]:
        row = dict(zip(COLUMNS, values, strict=True))
        for name in ("o_expected", "n_expected", "renewed_arr", "current_arr"):
            row[name] = _money(row[name])
        for name in ("o_close", "n_close", "closed_on"):
            row[name] = _date(row[name])
        movement.moves.extend(_classify(row))
    order = {kind: i for i, (kind, _) in enumerate(KINDS)}
    movement.moves.sort(key=lambda m: order[m.kind])  # stable: within a kind, largest ARR first
    return movement
