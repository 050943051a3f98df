"""The "Renewals in the next 90 days" section of My work (registered in apps.py): the open renewals of the people
shown (theirs, or unowned ones on their accounts), overdue ones included, with ARR, stage, forecast category and the
account's health band. Two queries whatever the book."""

from datetime import timedelta

from django.db.models import Count, Q, Sum

from health.models import Band
from health.mywork import carries_no_book
from success_plans.mywork_sections import register_mywork_section

from .models import RenewalOpportunity
from .selectors import band_subquery

DAYS_AHEAD = 90
SHOWN = 25


def renewals_section(request, user_ids, today) -> dict | None:
    if carries_no_book(request, user_ids):
        return None
    user_ids = list(user_ids)
    renewals = (RenewalOpportunity.objects.exclude(stage=RenewalOpportunity.Stage.CLOSED)
                .filter(close_date__lte=today + timedelta(days=DAYS_AHEAD))
                .filter(Q(owner_id__in=user_ids) | Q(owner__isnull=True, account__csm_id__in=user_ids)))
    totals = renewals.aggregate(n=Count("id"), arr=Sum("current_arr"),
                                overdue=Count("id", filter=Q(close_date__lt=today)))
    rows = list(renewals.select_related("account", "owner").annotate(band=band_subquery(today=today))
                .order_by("close_date", "id")[:SHOWN])
    for renewal in rows:
        renewal.band = renewal.band or Band.NONE
        renewal.band_label = "Amber" if renewal.band == Band.YELLOW else Band(renewal.band).label
    board_csm = "me" if user_ids == [request.user.pk] else (str(user_ids[0]) if len(user_ids) == 1 else "")
    return {"rows": rows, "total": totals["n"], "arr": totals["arr"], "overdue": totals["overdue"], "today": today,
            "days": DAYS_AHEAD, "until": today + timedelta(days=DAYS_AHEAD), "team": len(user_ids) > 1,
            "board_csm": board_csm}


register_mywork_section(name="renewals", order=4, template="renewals/_mywork_renewals.html", context=renewals_section)
