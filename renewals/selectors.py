"""Reads for the renewals pages and the API, in the current tenant. No query runs per row: the board is a
fixed number of queries whatever the number of renewals, the account panel whatever the account's history."""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, Count, DateField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import TruncMonth

from accounts.permissions import account_writable, team_user_ids
from csplatform.tenancy.models import Role
from health.models import Band, HealthScore

from .models import ChurnReason, Contract, ExpansionOpportunity, RenewalOpportunity

ZERO = Decimal("0")
BOARD_MONTHS = 12
BOARD_MAX_ROWS = 200  # the totals cover every renewal; the rows listed stop here (narrow the filters)
OVERDUE = date(1900, 1, 1)  # the bucket of open renewals whose close date has passed


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def band_subquery(*, today: date, account_ref: str = "account_id") -> Subquery:
    """The band of the account's latest health score up to today (the unique (tenant, account, day) index)."""
    return Subquery(HealthScore.objects.filter(account_id=OuterRef(account_ref), day__lte=today)
                    .order_by("-day").values("band")[:1])


def band_today(*, account, today: date) -> str:
    band = (HealthScore.objects.filter(account=account, day__lte=today).order_by("-day")
            .values_list("band", flat=True).first())
    return band or Band.NONE


@dataclass(frozen=True)
class BoardScope:
    """The board's filters: csm_id None = anyone, 0 = unassigned; months are firsts of months."""

    csm_id: int | None = None
    segment_id: int | None = None
    category: str = ""
    month_from: date | None = None
    month_to: date | None = None


def board_bounds(*, today: date, scope: BoardScope) -> tuple[date | None, date]:
    """(lower, upper) close dates shown. Without a start month every overdue renewal is shown too."""
    lower = scope.month_from
    upper = month_end(scope.month_to or add_months(today, BOARD_MONTHS - 1))
    return lower, upper


def board_queryset(*, today: date, scope: BoardScope):
    lower, upper = board_bounds(today=today, scope=scope)
    rows = RenewalOpportunity.objects.exclude(stage=RenewalOpportunity.Stage.CLOSED).filter(close_date__lte=upper)
    if lower is not None:
        rows = rows.filter(close_date__gte=lower)
    if scope.csm_id == 0:
        rows = rows.filter(owner__isnull=True)
    elif scope.csm_id is not None:
        rows = rows.filter(owner_id=scope.csm_id)
    if scope.segment_id is not None:
        rows = rows.filter(account__segment_id=scope.segment_id)
    if scope.category:
        rows = rows.filter(category=scope.category)
    return rows


def _bucket(today: date):
    return Case(When(close_date__lt=today, then=Value(OVERDUE)), default=TruncMonth("close_date"),
                output_field=DateField())


def board_totals(*, today: date, scope: BoardScope) -> dict[date, dict]:
    """{bucket: {renewals, arr_up, expected}} over every renewal the filters match (one query)."""
    rows = (board_queryset(today=today, scope=scope).annotate(bucket=_bucket(today)).order_by()
            .values("bucket").annotate(renewals=Count("id"), arr_up=Sum("current_arr"), expected=Sum("expected_arr")))
    totals = {}
    for row in rows:
        bucket = row["bucket"]
        if hasattr(bucket, "date"):  # SQLite's TruncMonth of a date comes back as a datetime
            bucket = bucket.date()
        totals[bucket] = {"renewals": row["renewals"], "arr_up": row["arr_up"] or ZERO,
                          "expected": row["expected"] or ZERO}
    return totals


def board_rows(*, today: date, scope: BoardScope, membership, limit: int = BOARD_MAX_ROWS) -> list:
    """The renewals of the board, oldest close date first, with the account's band today and whether this
    member may edit each (one query, plus one for a manager's team)."""
    rows = list(board_queryset(today=today, scope=scope)
                .select_related("account", "account__segment", "owner")
                .annotate(band=band_subquery(today=today)).order_by("close_date", "id")[:limit])
    team = team_user_ids(membership) if membership.role == Role.MANAGER else None
    for renewal in rows:
        renewal.band = renewal.band or Band.NONE
        renewal.band_label = Band(renewal.band).label
        renewal.writable = account_writable(membership, renewal.account, "renewals.edit", team_ids=team)
    return rows


def board_row(*, renewal_id: int, today: date, membership) -> RenewalOpportunity:
    """One renewal as a board row (for the HTMX answer of an edit); DoesNotExist for another tenant's id."""
    renewal = (RenewalOpportunity.objects.select_related("account", "account__segment", "owner")
               .annotate(band=band_subquery(today=today)).get(pk=renewal_id))
    renewal.band = renewal.band or Band.NONE
    renewal.band_label = Band(renewal.band).label
    renewal.writable = account_writable(membership, renewal.account, "renewals.edit")
    return renewal


def reasons_active() -> list[ChurnReason]:
    return list(ChurnReason.objects.filter(is_active=True).order_by("position", "name"))


# --- the Account 360 panel ----------------------------------------------------------------------


def contracts_of(*, account) -> list[Contract]:
    """The account's contracts with their lines, newest first (two queries)."""
    return list(Contract.objects.filter(account=account).prefetch_related("lines").order_by("-start_date", "-id"))


def counts_on(contract: Contract, day: date) -> bool:
    """renewals.arr.COUNTS_ON, for one contract already loaded."""
    if not (contract.start_date <= day <= contract.end_date):
        return False
    return contract.status == Contract.Status.ACTIVE or (contract.cancelled_on is not None
                                                         and contract.cancelled_on > day)


def arr_history(*, contracts: list[Contract], today: date, months: int = 24) -> list[dict]:
    """Month-end ARR for the last `months` months, oldest first; the current month is taken today."""
    points = []
    for back in range(months - 1, -1, -1):
        day = min(month_end(add_months(today, -back)), today)
        arr = sum((c.arr for c in contracts if counts_on(c, day)), ZERO)
        points.append({"day": day, "arr": arr})
    return points


def renewals_of(*, account) -> list[RenewalOpportunity]:
    return list(RenewalOpportunity.objects.filter(account=account).select_related("reason", "owner", "contract")
                .order_by("close_date", "id"))


def expansions_of(*, account) -> list[ExpansionOpportunity]:
    return list(ExpansionOpportunity.objects.filter(account=account).select_related("lead_source", "owner")
                .order_by("expected_close", "id"))
