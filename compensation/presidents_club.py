"""President's Club (rule 8): progress toward the three criteria during the plan year, a yes/no once it has ended.

- Retention: 100% of the CSM's clients retained. A client is lost when a renewal closed as churned in the plan
  year is credited to the CSM (`credited_csm`, as for retention and the churn bonus); the clients are the accounts
  assigned to the CSM now (`Account.csm`) plus those lost ones.
- ROI: 100% of the CSM's active clients have validated ROI of at least 100%: value realised in the plan year and
  validated by a customer contact (`ValueRealised.validated_by`) adding up to at least the account's ARR
  (`Account.arr`). Accounts with no ARR are not paying and are left out.
- Business found: lead source on at least 125,000 of expansion ARR closed won in the plan year.

A CSM with no clients meets neither client criterion. A fixed number of queries (four), whatever the book."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Account
from renewals.models import ExpansionOpportunity, RenewalOpportunity

from .engine import money, plan_year_bounds
from .models import CompAssignment

HUNDRED = Decimal("100")
BUSINESS_TARGET = Decimal("125000.00")
ZERO = Decimal("0.00")


@dataclass
class Criterion:
    name: str
    target: Decimal
    actual: Decimal
    met: bool
    detail: str


@dataclass
class ClubStatus:
    criteria: list[Criterion]
    qualified: bool | None  # None until the plan year has ended
    year_end: bool


def _percent(part: int, whole: int) -> Decimal:
    return money(HUNDRED * part / whole) if whole else ZERO


def _retention(csm, start: date, end: date) -> Criterion:
    lost = set(RenewalOpportunity.objects
               .filter(credited_csm=csm, outcome=RenewalOpportunity.Outcome.CHURNED, closed_on__range=(start, end))
               .values_list("account_id", flat=True))
    clients = set(Account.objects.filter(csm=csm).values_list("pk", flat=True)) | lost
    retained = len(clients - lost)
    return Criterion("retention", HUNDRED, _percent(retained, len(clients)), bool(clients) and not lost,
                     f"{retained} of {len(clients)} client{'' if len(clients) == 1 else 's'} retained"
                     + (f", {len(lost)} churned this plan year" if lost else ""))


def _roi(csm, start: date, end: date) -> Criterion:
    validated = Q(value_records__validated_by__isnull=False, value_records__realised_on__range=(start, end))
    rows = list(Account.objects
                .filter(csm=csm, status=Account.Status.ACTIVE, arr__gt=0)
                .annotate(value=Coalesce(Sum("value_records__amount", filter=validated), Value(ZERO)))
                .values_list("arr", "value"))
    met = sum(1 for arr, value in rows if value >= arr)
    return Criterion("roi", HUNDRED, _percent(met, len(rows)), bool(rows) and met == len(rows),
                     f"{met} of {len(rows)} paying client{'' if len(rows) == 1 else 's'} with validated value "
                     "realised this plan year at least their ARR")


def _business(csm, start: date, end: date) -> Criterion:
    won = (ExpansionOpportunity.objects
           .filter(lead_source=csm, stage=ExpansionOpportunity.Stage.WON, closed_on__range=(start, end))
           .aggregate(total=Sum("amount"))["total"])
    won = money(won or ZERO)
    return Criterion("business", BUSINESS_TARGET, won, won >= BUSINESS_TARGET,
                     f"{won:,.2f} of {BUSINESS_TARGET:,.2f} closed-won expansion ARR you found this plan year")


def presidents_club(assignment: CompAssignment, upto: date) -> ClubStatus:
    """The criteria as they stand on `upto` (counting from the plan year's start); qualified once the year ended."""
    start, end = plan_year_bounds(assignment.plan)
    until = min(upto, end)
    csm = assignment.csm
    criteria = [_retention(csm, start, until), _roi(csm, start, until), _business(csm, start, until)]
    over = upto >= end
    return ClubStatus(criteria, all(c.met for c in criteria) if over else None, over)
