"""The counting queries behind the targets: each is ONE query grouped by CSM, whatever the number of CSMs,
accounts or records (insights/targets/progress.py turns the numbers into goals, statuses and paces).

Every function takes the CSMs' user ids and the period's bounds and returns {user_id: numbers}; a CSM without a
row simply has nothing counted. "Clients" are the ACTIVE accounts whose CSM is the person now."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate

from accounts.models import Account, Activity
from health.models import Band, HealthScore, SurveyInvite, SurveyResponse
from health.selectors import DETRACTOR_UNTIL, PROMOTER_FROM
from renewals.models import ExpansionOpportunity
from success_plans.models import Advocacy, Goal

from ..models import MonthlyReport
from .periods import local_end, local_start

ZERO = Decimal("0")


def _clients(user_ids):
    return Account.objects.filter(status=Account.Status.ACTIVE, csm_id__in=user_ids)


def latest_scored_day(today: date) -> date | None:
    """The last day (up to today) the health recompute scored any account of the tenant."""
    return HealthScore.objects.filter(day__lte=today).order_by("-day").values_list("day", flat=True).first()


def book(user_ids, *, scored_on: date | None) -> dict[int, dict]:
    """Per CSM: clients, their ARR, and how many of them (and how much ARR) are green / red on `scored_on`.

    Two grouped queries: the clients per CSM, then the day's scores joined to them per (CSM, band). A band looked
    up per account (a correlated subquery inside each aggregate) made PostgreSQL rescan the day's scores per
    account once the night had just written them: seconds on an 18,000-account tenant."""
    found = {}
    for row in _clients(user_ids).values("csm_id").annotate(clients=Count("id"), arr=Sum("arr")).order_by():
        found[row["csm_id"]] = {"clients": row["clients"], "arr": row["arr"] or ZERO, "green": 0, "green_arr": ZERO,
                                "red": 0, "red_arr": ZERO}
    if scored_on is None or not found:
        return found
    banded = (HealthScore.objects.filter(day=scored_on, band__in=[Band.GREEN, Band.RED],
                                         account__status=Account.Status.ACTIVE, account__csm_id__in=user_ids)
              .values("account__csm_id", "band").annotate(n=Count("id"), arr=Sum("account__arr")).order_by())
    for row in banded:
        numbers = found.get(row["account__csm_id"])
        if numbers is not None:
            numbers[row["band"]] = row["n"]
            numbers[f"{row['band']}_arr"] = row["arr"] or ZERO
    return found


def _counted(rows, key) -> dict[int, int]:
    return {row[key]: row["n"] for row in rows.order_by()}


def approved_goals(user_ids, start: date, upto: date) -> dict[int, int]:
    rows = (Goal.objects.filter(account__status=Account.Status.ACTIVE, account__csm_id__in=user_ids,
                                approved_on__gte=start, approved_on__lte=upto)
            .values("account__csm_id").annotate(n=Count("id")))
    return _counted(rows, "account__csm_id")


def expansions_flagged(user_ids, start: date, upto: date) -> dict[int, int]:
    rows = (ExpansionOpportunity.objects.filter(lead_source_id__in=user_ids, created_at__gte=local_start(start),
                                                created_at__lt=local_end(upto))
            .values("lead_source_id").annotate(n=Count("id")))
    return _counted(rows, "lead_source_id")


def advocacy(kind: str):
    def count(user_ids, start: date, upto: date) -> dict[int, int]:
        rows = (Advocacy.objects.filter(kind=kind, captured_by_id__in=user_ids, happened_on__gte=start,
                                        happened_on__lte=upto)
                .exclude(status=Advocacy.Status.DECLINED)
                .values("captured_by_id").annotate(n=Count("id")))
        return _counted(rows, "captured_by_id")
    return count


def feedback_solicited(user_ids, start: date, upto: date) -> dict[int, int]:
    """Clients covered: a survey invite sent, or a "Feedback requested" activity, in the period (once each)."""
    since, until = local_start(start), local_end(upto)
    surveyed = SurveyInvite.objects.filter(account=OuterRef("pk"), sent_at__gte=since, sent_at__lt=until)
    asked = Activity.objects.filter(account=OuterRef("pk"), kind=Activity.Kind.FEEDBACK, occurred_at__gte=since,
                                    occurred_at__lt=until)
    rows = (_clients(user_ids).values("csm_id")
            .annotate(n=Count("id", filter=Q(Exists(surveyed)) | Q(Exists(asked)))))
    return _counted(rows, "csm_id")


def reports(user_ids, cycles: list[date]) -> dict[int, dict[date, tuple[int, int]]]:
    """Per CSM and report month: (reports drafted for them, reports delivered)."""
    rows = (MonthlyReport.objects.filter(csm_id__in=user_ids, month__in=cycles)
            .values("csm_id", "month")
            .annotate(total=Count("id"), delivered=Count("id", filter=Q(status=MonthlyReport.Status.DELIVERED)))
            .order_by())
    found: dict[int, dict[date, tuple[int, int]]] = {}
    for row in rows:  # at most one row per CSM and month of the period
        found.setdefault(row["csm_id"], {})[row["month"]] = (row["total"], row["delivered"])
    return found


def activity_days(user_ids, start: date, upto: date) -> dict[int, int]:
    """Distinct local working days with at least one activity with time spent that the person logged."""
    rows = (Activity.objects.filter(logged_by_id__in=user_ids, minutes_spent__gt=0,
                                    occurred_at__gte=local_start(start), occurred_at__lt=local_end(upto),
                                    occurred_at__iso_week_day__lte=5)
            .annotate(local_day=TruncDate("occurred_at"))
            .values("logged_by_id").annotate(n=Count("local_day", distinct=True)))
    return _counted(rows, "logged_by_id")


def nps_answers(user_ids, start: date, upto: date) -> dict[int, dict]:
    rows = (SurveyResponse.objects.filter(kind=SurveyResponse.Kind.NPS, account__status=Account.Status.ACTIVE,
                                          account__csm_id__in=user_ids, responded_at__gte=local_start(start),
                                          responded_at__lt=local_end(upto))
            .values("account__csm_id")
            .annotate(answers=Count("id"), promoters=Count("id", filter=Q(score__gte=PROMOTER_FROM)),
                      detractors=Count("id", filter=Q(score__lte=DETRACTOR_UNTIL)))
            .order_by())
    return {row.pop("account__csm_id"): row for row in rows}
