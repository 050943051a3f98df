"""Success plan pages: the plan, its goals, value realised, risks and tasks.

Reads are for every member; writes need the action and the "whose account" rule
(accounts.permissions.account_writable). Another tenant's ids are simply not found (404).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Contact
from accounts.views.common import get_account_or_404, require_writable
from csplatform.tenancy.pages import tenant_page

from .. import selectors, services
from ..forms import (
    GoalApproveForm,
    GoalCreateForm,
    GoalOverrideForm,
    GoalProgressForm,
    RiskForm,
    RiskStatusForm,
    SuccessPlanForm,
    TaskCreateForm,
    ValueRecordForm,
)
from ..models import Goal, GoalUpdate, Risk, SuccessPlan, Task, ValueRealised
from ..panels import decorate_goal, writable

HX_400_SWAP = "if(event.detail.xhr.status===400){event.detail.shouldSwap=true;event.detail.isError=false;}"


# --- lookups ---------------------------------------------------------------------------------------------------

def _get_or_404(queryset, pk, what):
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404(f"No such {what}") from None


def _plan(plan_id):
    return _get_or_404(SuccessPlan.objects.select_related("account", "account__csm", "owner"), plan_id, "plan")


def _goal(goal_id):
    return _get_or_404(Goal.objects.select_related("account", "plan", "approved_by"), goal_id, "goal")


def _goal_for_row(goal_id):
    goal = _get_or_404(
        Goal.objects.select_related("account", "plan", "approved_by").prefetch_related(
            Prefetch("updates", queryset=GoalUpdate.objects.select_related("by"))),
        goal_id, "goal")
    return decorate_goal(goal, timezone.localdate())


def _account_from_query(request):
    account_id = request.GET.get("account") or request.POST.get("account") or ""
    if not account_id.isdigit():
        raise Http404("Which account? Pass ?account=<id>.")
    return get_account_or_404(int(account_id))


def _plan_of_account(request, account):
    """The optional ?plan=<id> of a value or task form; it must belong to the account."""
    plan_id = request.GET.get("plan") or request.POST.get("plan_id") or ""
    if not plan_id.isdigit():
        return None
    plan = _get_or_404(SuccessPlan.objects.all(), int(plan_id), "plan")
    if plan.account_id != account.pk:
        raise Http404("No such plan on this account")
    return plan


def _back(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _plan_url(request, plan):
    return reverse("plans:detail", kwargs={"tenant_slug": request.tenant.slug, "plan_id": plan.pk})


def _account_url(request, account):
    return reverse("accounts:detail", kwargs={"tenant_slug": request.tenant.slug, "account_id": account.pk})


def _form_page(request, *, form, title, account, plan=None, submit="Save", status=None):
    return render(request, "success_plans/plans/form.html", {
        "form": form, "title": title, "account": account, "plan": plan, "submit": submit,
        "back": _plan_url(request, plan) if plan else _account_url(request, account),
    }, status=status if status is not None else (400 if form.errors else 200))


# --- the plan page ---------------------------------------------------------------------------------------------

def _plan_context(request, plan):
    today = timezone.localdate()
    account = plan.account
    goals = [
        decorate_goal(goal, today)
        for goal in Goal.objects.filter(plan=plan).select_related("approved_by").prefetch_related(
            Prefetch("updates", queryset=GoalUpdate.objects.select_related("by")))
    ]
    return {
        "plan": plan,
        "account": account,
        "goals": goals,
        "contacts": list(Contact.objects.filter(account=account).order_by("name")),
        "values": ValueRealised.objects.filter(plan=plan).select_related("goal", "validated_by", "recorded_by"),
        "value": selectors.value_in_year(account=account, year=today.year),
        "value_year": today.year,
        "approved_this_year": selectors.approved_goals_in_year(account=account, year=today.year),
        "risks": Risk.objects.filter(plan=plan).select_related("owner"),
        "risk_statuses": Risk.Status.choices,
        "goal_statuses": Goal.Status.choices,
        "tasks": Task.objects.filter(plan=plan).select_related("owner").order_by("status", "due_date", "id"),
        "today": today,
        "hx_400_swap": HX_400_SWAP,
        **writable(request, account),
    }


@tenant_page("accounts.view")
def plan_detail(request, plan_id):
    plan = _plan(plan_id)
    return render(request, "success_plans/plans/detail.html", _plan_context(request, plan))


@require_http_methods(["GET", "POST"])
@tenant_page("plans.edit")
def plan_edit(request, plan_id=None):
    plan = _plan(plan_id) if plan_id else None
    account = plan.account if plan else _account_from_query(request)
    require_writable(request, account, "plans.edit")
    form = SuccessPlanForm(request.POST or None, instance=plan, account=account, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        plan = form.save()
        messages.success(request, f"{plan.title} saved.")
        return redirect("plans:detail", tenant_slug=request.tenant.slug, plan_id=plan.pk)
    return render(request, "success_plans/plans/plan_form.html", {"form": form, "plan": plan, "account": account},
                  status=400 if form.errors else 200)


# --- goals -----------------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@tenant_page("plans.edit")
def goal_create(request, plan_id):
    plan = _plan(plan_id)
    require_writable(request, plan.account, "plans.edit")
    form = GoalCreateForm(request.POST or None, account=plan.account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.goal_create(plan=plan, by=request.user, title=data["title"], measure=data["measure"],
                                 unit=data["unit"], baseline=data["baseline"], target=data["target"],
                                 start_date=data["start_date"], due_date=data["due_date"],
                                 approved_by=data["approved_by"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Goal added.")
            return redirect("plans:detail", tenant_slug=request.tenant.slug, plan_id=plan.pk)
    return _form_page(request, form=form, title=f"Add a goal to {plan.title}", account=plan.account, plan=plan,
                      submit="Add goal")


def _add_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _goal_row(request, goal_id, *, form=None, notice="", status=200):
    goal = _goal_for_row(goal_id)
    context = {
        "goal": goal, "plan": goal.plan, "account": goal.account, "row_form": form, "notice": notice,
        "contacts": list(Contact.objects.filter(account=goal.account).order_by("name")),
        "goal_statuses": Goal.Status.choices, "today": timezone.localdate(), **writable(request, goal.account),
    }
    return render(request, "success_plans/plans/_goal_row.html", context, status=status)


def _goal_write(request, goal_id, *, action, form_class, title, apply, done):
    """The shared shape of the goal row writes: check, validate, apply; HTMX refreshes the row in place."""
    goal = _goal(goal_id)
    require_writable(request, goal.account, action)
    kwargs = {"account": goal.account} if form_class in (GoalApproveForm,) else {}
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        try:
            apply(goal, form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
    if form.errors:
        if request.htmx:
            return _goal_row(request, goal.pk, form=form, status=400)
        return _form_page(request, form=form, title=f"{title}: {goal.title}", account=goal.account, plan=goal.plan)
    if request.htmx:
        return _goal_row(request, goal.pk, notice=done)
    messages.success(request, done)
    return redirect("plans:detail", tenant_slug=request.tenant.slug, plan_id=goal.plan_id)


@require_POST
@tenant_page("plans.edit")
def goal_progress(request, goal_id):
    def apply(goal, data):
        services.goal_progress_update(goal=goal, by=request.user, value=data["value"], as_of=data["as_of"],
                                      note=data["note"])

    return _goal_write(request, goal_id, action="plans.edit", form_class=GoalProgressForm, title="Update progress",
                       apply=apply, done="Progress recorded.")


@require_POST
@tenant_page("goals.approve")
def goal_approve(request, goal_id):
    def apply(goal, data):
        services.goal_approve(goal=goal, contact=data["contact"], on=data["approved_on"])

    return _goal_write(request, goal_id, action="goals.approve", form_class=GoalApproveForm, title="Approve",
                       apply=apply, done="Goal approved.")


@require_POST
@tenant_page("plans.edit")
def goal_override(request, goal_id):
    def apply(goal, data):
        services.goal_status_override(goal=goal, status=data["status"], reason=data["reason"])

    return _goal_write(request, goal_id, action="plans.edit", form_class=GoalOverrideForm, title="Override status",
                       apply=apply, done="Status saved.")


# --- value realised --------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@tenant_page("value.record")
def value_create(request, account_id):
    account = get_account_or_404(account_id)
    require_writable(request, account, "value.record")
    plan = _plan_of_account(request, account)
    form = ValueRecordForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.value_record(account=account, by=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Value recorded.")
            return _back(request, _plan_url(request, plan) if plan else _account_url(request, account))
    return _form_page(request, form=form, title=f"Record value realised at {account.name}", account=account,
                      plan=plan, submit="Record value")


# --- risks -----------------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@tenant_page("plans.edit")
def risk_create(request, plan_id):
    plan = _plan(plan_id)
    require_writable(request, plan.account, "plans.edit")
    form = RiskForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        form.instance.plan = plan
        form.save()
        messages.success(request, "Risk added.")
        return redirect("plans:detail", tenant_slug=request.tenant.slug, plan_id=plan.pk)
    return _form_page(request, form=form, title=f"Add a risk to {plan.title}", account=plan.account, plan=plan,
                      submit="Add risk")


@require_POST
@tenant_page("plans.edit")
def risk_status(request, risk_id):
    risk = _get_or_404(Risk.objects.select_related("plan", "plan__account"), risk_id, "risk")
    require_writable(request, risk.plan.account, "plans.edit")
    form = RiskStatusForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form=form, title=f"Risk: {risk.title}", account=risk.plan.account, plan=risk.plan)
    Risk.objects.filter(pk=risk.pk).update(status=form.cleaned_data["status"])
    messages.success(request, "Risk updated.")
    return redirect("plans:detail", tenant_slug=request.tenant.slug, plan_id=risk.plan_id)


# --- tasks -----------------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@tenant_page("tasks.edit")
def task_create(request, account_id):
    account = get_account_or_404(account_id)
    require_writable(request, account, "tasks.edit")
    plan = _plan_of_account(request, account)
    form = TaskCreateForm(request.POST or None, account=account, tenant=request.tenant,
                          initial={"plan": plan.pk} if plan else None)
    if request.method == "POST" and form.is_valid():
        task = services.task_create(account=account, by=request.user, **form.cleaned_data)
        messages.success(request, "Task added.")
        return _back(request, _plan_url(request, task.plan) if task.plan else _account_url(request, account))
    return _form_page(request, form=form, title=f"Add a task at {account.name}", account=account, plan=plan,
                      submit="Add task")


@require_POST
@tenant_page("tasks.edit")
def task_done(request, task_id):
    task = _get_or_404(Task.objects.select_related("account"), task_id, "task")
    require_writable(request, task.account, "tasks.edit")
    completed = services.task_complete(task=task)
    if request.htmx:
        if not completed:
            return HttpResponse("This task was already closed.", status=409)
        return HttpResponse("")  # the row leaves the list of open tasks
    if completed:
        messages.success(request, f"Done: {task.title}")
    else:
        messages.info(request, f"{task.title} was already closed.")
    return _back(request, _account_url(request, task.account))
