"""Ops: the plans with their rules and parameters, the assignments (add or edit one: CSM, annual base within
the plan's range, start and end), and generating this month's draft statements now instead of tonight.
A refused assignment answers 400 with the field errors on the same page; nothing is written."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from csplatform.tenancy.pages import tenant_page

from .. import services
from ..forms import AssignmentForm
from ..models import CompAssignment, CompPlan


def _assignment_or_404(assignment_id) -> CompAssignment:
    found = CompAssignment.objects.select_related("plan", "csm").filter(pk=assignment_id).first()
    if found is None:
        raise Http404("No such assignment")
    return found


def _page(request, *, form=None, editing=None, status=200):
    plans = list(CompPlan.objects.prefetch_related("rules").order_by("-year", "name"))
    assignments = list(CompAssignment.objects.select_related("plan", "csm")
                       .order_by("-plan__year", "csm__full_name", "csm_id"))
    if editing is None and request.GET.get("assignment", "").isdigit():
        editing = _assignment_or_404(request.GET["assignment"])
    context = {"plans": plans, "assignments": assignments, "editing": editing,
               "form": form or AssignmentForm(tenant=request.tenant, assignment=editing)}
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
            for name, problems in error.message_dict.items():
                form.add_error(name if name in form.fields else None, problems)
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
