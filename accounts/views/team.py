"""Pages about people's work: timesheet, weekly workplan, book of business."""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from csplatform.tenancy.models import Role, User
from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from .. import selectors
from ..permissions import team_user_ids


def _visible_user_ids(request) -> set[int] | None:
    """Whose work this member may see: None means everyone in the tenant."""
    role = request.membership.role
    if role in (Role.OPS, Role.ADMIN, Role.EXECUTIVE):
        return None
    if role == Role.MANAGER:
        return team_user_ids(request.membership)
    return {request.user.pk}


def _people(request, visible):
    people = User.objects.filter(memberships__tenant=request.tenant, memberships__role__in=[Role.CSM, Role.MANAGER])
    if visible is not None:
        people = people.filter(pk__in=visible)
    return list(people.order_by("full_name", "email"))


def _chosen_user_ids(request, visible, people):
    """?user=<id> for one person, ?user=team for everyone visible; default: myself."""
    choice = request.GET.get("user", "")
    if choice == "team":
        if not role_can(request.membership.role, "timesheet.view_team"):
            raise PermissionDenied("Only managers and ops see the team's time.")
        return [p.pk for p in people], "team"
    if choice.isdigit():
        user_id = int(choice)
        if visible is not None and user_id not in visible:
            raise PermissionDenied("You can see your own time and your team's.")
        return [user_id], choice
    return [request.user.pk], str(request.user.pk)


def _month(value: str | None) -> date:
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


@tenant_page("accounts.view")
def timesheet(request):
    visible = _visible_user_ids(request)
    people = _people(request, visible)
    user_ids, chosen = _chosen_user_ids(request, visible, people)
    month = _month(request.GET.get("month"))
    next_month = (month + timedelta(days=32)).replace(day=1)
    previous_month = (month - timedelta(days=1)).replace(day=1)
    sheet = selectors.timesheet(user_ids=user_ids, start=month, end=next_month)
    names = {p.pk: p.display_name for p in people} | {request.user.pk: request.user.display_name}
    for row in sheet["rows"]:
        row["person"] = names.get(row["user_id"], "")
    return render(request, "accounts/timesheet.html", {
        "sheet": sheet, "people": people, "chosen": chosen, "month": month,
        "next_month": next_month, "previous_month": previous_month, "team_view": chosen == "team",
        "can_see_team": role_can(request.membership.role, "timesheet.view_team"),
    })


@tenant_page("accounts.view")
def workplan(request):
    visible = _visible_user_ids(request)
    people = _people(request, visible)
    user_ids, chosen = _chosen_user_ids(request, visible, people)
    today = timezone.localdate()
    end = today + timedelta(days=8)
    steps = selectors.workplan(user_ids=user_ids, end=end)
    return render(request, "accounts/workplan.html", {
        "steps": steps, "today": today, "end": end - timedelta(days=1), "people": people, "chosen": chosen,
        "can_see_team": role_can(request.membership.role, "timesheet.view_team"),
    })


@tenant_page("book.view")
def book_of_business(request):
    visible = _visible_user_ids(request)
    csm_ids = None if visible is None else list(visible)
    untouched = selectors.untouched_accounts(days=30, csm_ids=csm_ids)
    return render(request, "accounts/book.html", {
        "rows": selectors.book_of_business(csm_ids=csm_ids),
        "untouched": untouched[:50],
        "untouched_count": untouched.count(),
    })


@require_POST
@tenant_page("activities.log")
def next_step_done(request, activity_id):
    from django.http import Http404, HttpResponse

    from ..models import Activity
    from ..services import next_step_complete
    from .common import require_writable

    activity = Activity.objects.select_related("account").filter(pk=activity_id).first()
    if activity is None:
        raise Http404("No such activity")
    require_writable(request, activity.account, "activities.log")
    next_step_complete(activity=activity)
    if request.htmx:
        return HttpResponse("")  # the row disappears from the workplan
    return redirect("accounts:workplan", tenant_slug=request.tenant.slug)
