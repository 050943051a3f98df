"""The "Success plan" section of the Account 360 page (registered in apps.py).

A fixed number of queries whatever the number of goals, tasks or decisions: no query per row.
"""

from django.db.models import Case, F, IntegerField, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.permissions import account_writable, team_user_ids
from csplatform.tenancy.models import Role

from . import selectors
from .goals import goal_progress, goal_status
from .models import BusinessReview, Decision, Goal, SuccessPlan, Task

TARGET_APPROVED_GOALS_PER_YEAR = 2


def decorate_goal(goal: Goal, today) -> Goal:
    """Adds what the pages show: progress (0..100) and the status (override or derived)."""
    progress = goal_progress(baseline=goal.baseline, target=goal.target, current=goal.current_value)
    goal.progress_pct = int(progress * 100)
    goal.status_now = goal_status(goal, today)
    goal.status_label = Goal.Status(goal.status_now).label
    return goal


def current_plan(account):
    """The account's active plan, else its latest one, else None."""
    return (
        SuccessPlan.objects.filter(account=account)
        .select_related("owner")
        .order_by(Case(When(status=SuccessPlan.Status.ACTIVE, then=Value(0)), default=Value(1),
                       output_field=IntegerField()), "-period_start", "-id")
        .first()
    )


def open_tasks(**filters):
    """Open tasks, overdue (earliest due) first, undated last."""
    return (
        Task.objects.filter(status=Task.Status.OPEN, **filters)
        .select_related("account", "owner", "plan")
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )


def review_url(request, review_id):
    """The reviews page of another helper, when it exists; None otherwise."""
    try:
        return reverse("reviews:detail", kwargs={"tenant_slug": request.tenant.slug, "review_id": review_id})
    except NoReverseMatch:
        return None


def writable(request, account) -> dict:
    """can_* flags for the plan writes on this account (one team query for a manager, whatever the count)."""
    membership = request.membership
    team = team_user_ids(membership) if membership.role == Role.MANAGER else None
    return {
        f"can_{name}": account_writable(membership, account, action, team_ids=team)
        for name, action in [("edit_plan", "plans.edit"), ("approve", "goals.approve"),
                             ("record_value", "value.record"), ("edit_tasks", "tasks.edit")]
    }


def success_plan_panel(request, account) -> dict:
    today = timezone.localdate()
    plan = current_plan(account)
    goals = []
    if plan is not None:
        goals = [decorate_goal(g, today) for g in Goal.objects.filter(plan=plan).select_related("approved_by")]
    tasks = list(open_tasks(account=account)[:20])
    decisions = list(
        Decision.objects.filter(account=account, status=Decision.Status.OPEN)
        .select_related("review", "owner", "owner_contact")
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )
    for decision in decisions:
        decision.review_url = review_url(request, decision.review_id)
    next_review = BusinessReview.objects.filter(account=account, held_on__gte=today).order_by("held_on", "id").first()
    value = selectors.value_in_year(account=account, year=today.year)
    return {
        "plan": plan,
        "plan_goals": goals,
        "approved_this_year": selectors.approved_goals_in_year(account=account, year=today.year),
        "approved_target": TARGET_APPROVED_GOALS_PER_YEAR,
        "value_year": today.year,
        "value": value,
        # Account.arr is kept from the contracts by renewals; no contracts means no ROI, never a guess.
        "roi": selectors.roi(value=value["total"], paid=account.arr),
        "open_tasks": tasks,
        "decisions": decisions,
        "next_review": next_review,
        "today": today,
        **writable(request, account),
    }
