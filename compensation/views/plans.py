"""Ops: the plans with their rules and parameters (edit a plan's name and base range, a rule's parameters; create
next year's default plan from this year's), the assignments (add or edit one: CSM, annual base within the plan's
range, start and end), and generating this month's draft statements now instead of tonight.
A refused form answers 400 with the field errors on the same page; nothing is written. Plan edits never touch a
statement: drafts pick them up on their next run, approved statements stay locked."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from csplatform.tenancy.pages import tenant_page
from renewals.periods import fiscal_quarter

from .. import plan_services, services
from ..forms import AssignmentForm, PlanForm, RuleForm
from ..models import CompAssignment, CompPlan, CompRule


def _assignment_or_404(assignment_id) -> CompAssignment:
    found = CompAssignment.objects.select_related("plan", "csm").filter(pk=assignment_id).first()
    if found is None:
        raise Http404("No such assignment")
    return found


def _plan_or_404(plan_id) -> CompPlan:
    found = CompPlan.objects.filter(pk=plan_id).first()
    if found is None:
        raise Http404("No such plan")
    return found


def _rule_or_404(rule_id) -> CompRule:
    found = CompRule.objects.select_related("plan").filter(pk=rule_id).first()
    if found is None:
        raise Http404("No such rule")
    return found


def _errors_to_form(form, error: ValidationError):
    for name, problems in error.message_dict.items():
        form.add_error(name if name in form.fields else None, problems)


def _page(request, *, form=None, editing=None, status=200, plan_form=None, rule_form=None, next_year_error=None):
    plans = list(CompPlan.objects.prefetch_related("rules").order_by("-year", "name"))
    for plan in plans:
        plan.edit_form = plan_form if plan_form is not None and plan_form.plan_id == plan.pk else PlanForm(plan=plan)
        for rule in plan.rules.all():
            rule.edit_form = (rule_form if rule_form is not None and rule_form.rule_id == rule.pk
                              else RuleForm(rule=rule))
    this_year = fiscal_quarter(request.tenant, timezone.localdate()).year
    defaults = {p.year for p in plans if p.is_default}
    can_copy = this_year in defaults and this_year + 1 not in defaults
    assignments = list(CompAssignment.objects.select_related("plan", "csm")
                       .order_by("-plan__year", "csm__full_name", "csm_id"))
    if editing is None and request.GET.get("assignment", "").isdigit():
        editing = _assignment_or_404(request.GET["assignment"])
    context = {"plans": plans, "assignments": assignments, "editing": editing,
               "form": form or AssignmentForm(tenant=request.tenant, assignment=editing),
               "next_year": this_year + 1, "can_copy": can_copy, "next_year_error": next_year_error}
    return render(request, "compensation/plans.html", context, status=status)


@tenant_page("comp.manage")
def plans(request):
    return _page(request)


@require_POST
@tenant_page("comp.manage")
def assignment_save(request, assignment_id=None):
    editing = _assignment_or_404(assignment_id) if assignment_id else None
    form = AssignmentForm(request.POST, tenant=request.tenant, assignment=editing)
    if form.is_valid():
        data = form.cleaned_data
        plan, csm = (editing.plan, editing.csm) if editing else (data["plan"], data["csm"])
        try:
            assignment = services.comp_assign(plan=plan, csm=csm, annual_base=data["annual_base"],
                                              starts_on=data["starts_on"], ends_on=data["ends_on"])
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"{csm.display_name} is on {plan} at {assignment.annual_base:,.2f} a year "
                                      f"from {assignment.starts_on:%Y-%m-%d}.")
            return redirect(reverse("compensation:plans", kwargs={"tenant_slug": request.tenant.slug})
                            + "#assignments")
    return _page(request, form=form, editing=editing, status=400)


@require_POST
@tenant_page("comp.manage")
def generate(request):
    month = timezone.localdate().replace(day=1)
    count = services.statements_generate_for_month(month=month)
    messages.success(request, f"{count} draft statement(s) for {month:%B %Y} written; approved ones were left "
                              "as they are.")
    return redirect("compensation:plans", tenant_slug=request.tenant.slug)


def _plans_url(request, anchor: str) -> str:
    return reverse("compensation:plans", kwargs={"tenant_slug": request.tenant.slug}) + f"#{anchor}"


@require_POST
@tenant_page("comp.manage")
def plan_save(request, plan_id):
    plan = _plan_or_404(plan_id)
    form = PlanForm(request.POST, plan=plan)
    form.plan_id = plan.pk
    if form.is_valid():
        try:
            plan = plan_services.comp_plan_update(plan=plan, **form.cleaned_data)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"{plan} saved: base {plan.base_min:,.2f} to {plan.base_max:,.2f}. "
                                      "Statements were not changed.")
            return redirect(_plans_url(request, f"plan-{plan.pk}"))
    return _page(request, plan_form=form, status=400)


@require_POST
@tenant_page("comp.manage")
def rule_save(request, rule_id):
    rule = _rule_or_404(rule_id)
    form = RuleForm(request.POST, rule=rule)
    form.rule_id = rule.pk
    if form.is_valid():
        try:
            rule = plan_services.comp_rule_update(rule=rule, **form.cleaned_data)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"{rule.get_kind_display()} on {rule.plan} saved; drafts use it from their "
                                      "next run, approved statements are unchanged.")
            return redirect(_plans_url(request, f"rule-{rule.pk}"))
    return _page(request, rule_form=form, status=400)


@require_POST
@tenant_page("comp.manage")
def next_year(request):
    try:
        plan = plan_services.comp_plan_next_year_create()
    except ValidationError as error:
        return _page(request, next_year_error=" ".join(error.messages), status=400)
    messages.success(request, f"{plan} created from this year's default plan, with its rules.")
    return redirect(_plans_url(request, f"plan-{plan.pk}"))
