"""My compensation: this month's draft, the year to date, progress toward the quota and the spiff, the gates
and President's Club; one
statement in full with its CSV. A CSM only ever reaches their own statements: another's id answers 404, like
an id that does not exist."""

from importlib import import_module

from django.shortcuts import redirect, render
from django.utils import timezone

from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can
from renewals.periods import month_start

from .. import engine, selectors
from ..models import CompLine, CompRule, CompStatement
from ..presidents_club import presidents_club
from .exports import statements_csv

FIELDS = {f.attname for f in CompLine._meta.concrete_fields}


def _gates(assignment, upto):
    """The year-end gates, when the year-end module provides them (it is being built separately)."""
    try:
        yearend = import_module("compensation.yearend")
    except ModuleNotFoundError:
        return None
    gates_status = getattr(yearend, "gates_status", None)
    return gates_status(assignment, upto) if gates_status else None


@tenant_page("comp.view_own")
def mine(request):
    today = timezone.localdate()
    assignment = selectors.assignment_for(request.user, today)
    if assignment is None:
        role = request.membership.role
        if role_can(role, "comp.view_team") or role_can(role, "comp.totals"):
            return redirect("compensation:team", tenant_slug=request.tenant.slug)
        return render(request, "compensation/mine.html", {"assignment": None})
    this_month = month_start(today)
    statement = CompStatement.objects.filter(csm=request.user, period_start=this_month).select_related(
        "approved_by").first()
    if statement is not None:
        lines = selectors.lines_with_sources([statement.pk]).get(statement.pk, [])
        preview = False
    else:
        # Not generated yet tonight: what the engine would write, read-only.
        drafts = engine.monthly_lines(assignment=assignment, month_start=this_month)
        lines = selectors.attach_sources([CompLine(position=i, **{k: v for k, v in vars(d).items() if k in FIELDS})
                                          for i, d in enumerate(drafts)])
        preview = True
    rules = {r.kind: r for r in assignment.plan.rules.all()}
    rows = selectors.attainment(plan=assignment.plan, upto=today, csm_ids=[request.user.pk])
    context = {
        "assignment": assignment,
        "this_month": this_month,
        "statement": statement,
        "lines": lines,
        "preview": preview,
        "preview_total": sum((line.amount for line in lines), 0) if preview else None,
        "ytd": selectors.year_to_date(request.user, assignment.plan, today),
        "attainment": rows[0] if rows else None,
        "quota_rule": rules.get(CompRule.Kind.QUOTA_BONUS),
        "spiff_rule": rules.get(CompRule.Kind.PROCESS_DOC_SPIFF),
        "gates": _gates(assignment, today),
        "club": presidents_club(assignment, today),
    }
    return render(request, "compensation/mine.html", context)


@tenant_page("comp.view_own")
def statement(request, statement_id):
    found = selectors.statement_visible_or_404(request.membership, statement_id)
    lines = selectors.lines_with_sources([found.pk]).get(found.pk, [])
    own = found.csm_id == request.user.pk
    return render(request, "compensation/statement.html", {
        "statement": found, "lines": lines, "own": own,
        "can_approve": role_can(request.membership.role, "comp.approve")
        and found.status == CompStatement.Status.DRAFT})


@tenant_page("comp.view_own")
def statement_csv(request, statement_id):
    found = selectors.statement_visible_or_404(request.membership, statement_id)
    lines = selectors.lines_with_sources([found.pk])
    name = f"statement-{found.period_start:%Y-%m}-{found.csm.email.split('@')[0]}.csv"
    return statements_csv(name, [found], lines)
