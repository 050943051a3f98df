"""The "At-risk accounts" section of My work (registered in apps.py): the accounts of the people shown that are red,
or amber and lower than a week ago, on the latest day the nightly job scored. Three queries whatever the book."""

from django.db.models import Case, Count, IntegerField, Max, OuterRef, Q, Subquery, Value, When

from accounts.models import Account
from csplatform.tenancy.models import Role
from success_plans.mywork_sections import register_mywork_section

from .models import Band, HealthAlert, HealthScore

SHOWN = 25
AT_RISK = Q(band=Band.RED) | Q(band=Band.YELLOW, change_7d__lt=0)


def carries_no_book(request, user_ids) -> bool:
    """Ops, admins and executives looking at their own work own no accounts: the section would only ever be empty."""
    return list(user_ids) == [request.user.pk] and request.membership.role not in (Role.CSM, Role.MANAGER)


def at_risk_section(request, user_ids, today) -> dict | None:
    if carries_no_book(request, user_ids):
        return None
    day = HealthScore.objects.filter(day__lte=today).aggregate(day=Max("day"))["day"]
    scores = HealthScore.objects.filter(AT_RISK, day=day, account__csm_id__in=list(user_ids),
                                        account__status=Account.Status.ACTIVE)
    counts = scores.aggregate(red=Count("id", filter=Q(band=Band.RED)), amber=Count("id", filter=Q(band=Band.YELLOW)))
    open_task = HealthAlert.objects.filter(account_id=OuterRef("account_id"), closed_on__isnull=True).values("task_id")
    rows = list(scores.select_related("account", "account__csm")
                .annotate(red_first=Case(When(band=Band.RED, then=Value(0)), default=Value(1),
                                         output_field=IntegerField()),
                          recovery_task_id=Subquery(open_task[:1]))
                .order_by("red_first", "score", "change_7d", "account__name")[:SHOWN])
    for score in rows:
        score.band_label = "Red" if score.band == Band.RED else "Amber"
    return {"day": day, "rows": rows, "red": counts["red"], "amber": counts["amber"],
            "total": counts["red"] + counts["amber"], "shown": SHOWN, "team": len(user_ids) > 1,
            "csm_param": _csm_param(request, user_ids)}


def _csm_param(request, user_ids) -> str:
    """The portfolio's and the board's `csm` filter for the people shown ("" for a team: the whole book)."""
    user_ids = list(user_ids)
    if user_ids == [request.user.pk]:
        return "me"
    return str(user_ids[0]) if len(user_ids) == 1 else ""


register_mywork_section(name="at_risk", order=2, template="health/_mywork_at_risk.html", context=at_risk_section)
