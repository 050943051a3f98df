"""My work: activity logged this week against the usual, open tasks, goals needing an update, business reviews
this month; the sections apps above register (at-risk accounts, renewals due, targets, monthly reports); a
manager's team view.

A fixed number of queries whatever the number of rows.
"""

from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Sum
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Activity
from accounts.permissions import team_user_ids
from csplatform.tenancy.models import Role, User
from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from .. import selectors
from ..models import Goal, SuccessPlan, Task
from ..mywork_sections import sections_for
from ..panels import decorate_goal, open_tasks

STALE_AFTER_DAYS = 30
LIST_ROWS = 50  # rows per list: a page a CSM reads on a Monday, not an export; the page says how many more
PACE_WEEKS = 8  # "usual" = the weekly average of this many ISO weeks before the current one


def _people(request):
    """Whom this member may pick: nobody for a CSM; a manager's team; everyone working for ops/admin."""
    membership = request.membership
    people = User.objects.filter(memberships__tenant=request.tenant, memberships__role__in=[Role.CSM, Role.MANAGER])
    if membership.role == Role.MANAGER:
        people = people.filter(pk__in=team_user_ids(membership))
    return list(people.order_by("full_name", "email"))


def _chosen(request):
    """(user ids, choice, people): ?user=<id> or ?user=team for managers and ops; default: myself."""
    choice = request.GET.get("user", "")
    if not choice or choice == str(request.user.pk):
        can_team = role_can(request.membership.role, "mywork.team")
        return [request.user.pk], str(request.user.pk), _people(request) if can_team else []
    if not role_can(request.membership.role, "mywork.team"):
        raise PermissionDenied("Only managers and ops see other people's work.")
    people = _people(request)
    ids = [p.pk for p in people]
    if choice == "team":
        return ids, "team", people
    if choice.isdigit() and int(choice) in ids:
        return [int(choice)], choice, people
    raise PermissionDenied("You can see your own work and your team's.")


def goals_needing_update(*, user_ids, today):
    """Open goals of these people's accounts whose latest reading is older than 30 days."""
    reached = (Q(target__gt=F("baseline")) & Q(current_value__gte=F("target"))) | (
        Q(target__lt=F("baseline")) & Q(current_value__lte=F("target")))
    return (
        Goal.objects.filter(account__csm_id__in=user_ids, current_as_of__lt=today - timedelta(days=STALE_AFTER_DAYS))
        .exclude(status_override__in=[Goal.Status.ACHIEVED, Goal.Status.MISSED])
        .exclude(Q(status_override="") & reached)
        .filter(Q(due_date__gte=today) | Q(status_override__in=[Goal.Status.ON_TRACK, Goal.Status.AT_RISK]))
        .exclude(plan__status__in=[SuccessPlan.Status.COMPLETED, SuccessPlan.Status.ARCHIVED])
        .select_related("account", "plan", "approved_by")
        .order_by("current_as_of", "id")
    )


def _midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def activity_pace(*, user_ids, today) -> dict:
    """Activities these people logged this ISO week so far (count, minutes) against the weekly average of the
    PACE_WEEKS weeks before: one query over the (tenant, logged_by, occurred_at) index."""
    monday = today - timedelta(days=today.weekday())
    this_week = Q(occurred_at__gte=_midnight(monday))
    totals = Activity.objects.filter(
        logged_by_id__in=list(user_ids), occurred_at__gte=_midnight(monday - timedelta(weeks=PACE_WEEKS)),
        occurred_at__lt=_midnight(monday + timedelta(weeks=1)),
    ).aggregate(count=Count("id", filter=this_week), minutes=Sum("minutes_spent", filter=this_week),
                before=Count("id", filter=~this_week), before_minutes=Sum("minutes_spent", filter=~this_week))

    def weekly(total) -> Decimal:
        return (Decimal(total or 0) / PACE_WEEKS).quantize(Decimal("0.1"), ROUND_HALF_UP)

    usual, usual_minutes = weekly(totals["before"]), weekly(totals["before_minutes"])
    count, minutes = totals["count"], totals["minutes"] or 0
    return {
        "count": count, "minutes": minutes, "usual": usual, "usual_minutes": usual_minutes,
        "monday": monday, "day_of_week": today.isoweekday(), "weeks": PACE_WEEKS,
        "none_at_all": not count and not totals["before"],
        # A week still running is compared with a whole usual week: "ahead" only once it already beats it.
        "ahead": count > usual, "minutes_ahead": minutes > usual_minutes,
    }


@tenant_page("accounts.view")
def my_work(request):
    today = timezone.localdate()
    user_ids, chosen, people = _chosen(request)
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    team_view = chosen == "team"
    overdue_by_csm = []
    if people and role_can(request.membership.role, "mywork.team"):
        counts = dict(
            Task.objects.filter(status=Task.Status.OPEN, due_date__lt=today, owner_id__in=[p.pk for p in people])
            .values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n")
        )
        overdue_by_csm = [{"person": p, "overdue": counts.get(p.pk, 0)} for p in people]
    tasks = open_tasks(owner_id__in=user_ids)
    goals = goals_needing_update(user_ids=user_ids, today=today)
    # Ops, admins and executives looking at their own work carry no book and log little: no pace to compare.
    own_only = user_ids == [request.user.pk]
    logs_activity = not own_only or request.membership.role in (Role.CSM, Role.MANAGER)
    return render(request, "success_plans/mywork.html", {
        "tasks": list(tasks[:LIST_ROWS]),
        "tasks_total": tasks.count(),
        "goals": [decorate_goal(g, today) for g in goals[:LIST_ROWS]],
        "goals_total": goals.count(),
        "reviews": list(selectors.reviews_between(start=month, end=next_month, user_ids=user_ids)),
        "month": month,
        "today": today,
        "people": people,
        "chosen": chosen,
        "team_view": team_view,
        "overdue_by_csm": overdue_by_csm,
        "can_see_team": role_can(request.membership.role, "mywork.team"),
        "stale_days": STALE_AFTER_DAYS,
        "sections": sections_for(request, user_ids, today),
        "pace": activity_pace(user_ids=user_ids, today=today) if logs_activity else None,
        "own_only": own_only,
    })
