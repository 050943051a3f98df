"""Team compensation: a month's statements per CSM with totals, status and attainment. Managers and ops see
the lines and managers approve drafts (compare-and-set: the second approval of the same statement changes
nothing); executives see totals only. A fixed number of queries whatever the number of CSMs and lines."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from .. import selectors, services
from ..forms import TeamFilterForm
from ..models import CompPlan, CompStatement
from .exports import statements_csv, totals_csv


def _may_see_team(request):
    """Lines for managers and ops; totals only for executives (the decorator lets nobody else in)."""
    return role_can(request.membership.role, "comp.view_team")


def _chosen(request):
    form = TeamFilterForm(request.GET or None, today=timezone.localdate())
    month, team = form.chosen()
    return form, month, team


@tenant_page("comp.view_team", "comp.totals")
def team(request):
    lines_visible = _may_see_team(request)
    form, month, team_id = _chosen(request)
    statements = selectors.team_statements(month=month, team=team_id)
    plan = CompPlan.objects.filter(year=selectors.plan_year_of(month), is_default=True).prefetch_related(
        "rules").first()
    progress = {}
    if plan is not None and statements:
        upto = min(timezone.localdate(), month.replace(day=28))
        progress = {row.csm_id: row for row in selectors.attainment(
            plan=plan, upto=max(upto, month), csm_ids=[s.csm_id for s in statements])}
    for s in statements:
        s.progress = progress.get(s.csm_id)
    context = {
        "form": form, "month": month, "team": team_id, "statements": statements, "lines_visible": lines_visible,
        "can_approve": role_can(request.membership.role, "comp.approve"),
        "total": sum((s.total for s in statements), 0),
        "drafts": sum(1 for s in statements if s.status == CompStatement.Status.DRAFT),
    }
    return render(request, "compensation/team.html", context)


@tenant_page("comp.view_team", "comp.totals")
def team_csv(request):
    lines_visible = _may_see_team(request)
    _, month, team_id = _chosen(request)
    statements = selectors.team_statements(month=month, team=team_id)
    name = f"compensation-{month:%Y-%m}{f'-team-{team_id}' if team_id else ''}.csv"
    if not lines_visible:
        return totals_csv(name, statements)
    return statements_csv(name, statements, selectors.lines_with_sources([s.pk for s in statements]))


@require_POST
@tenant_page("comp.approve")
def approve(request, statement_id):
    found = selectors.statement_visible_or_404(request.membership, statement_id)
    if services.statement_approve(statement=found, by=request.user):
        messages.success(request, f"{found.csm.display_name}'s statement for {found.period_start:%B %Y} approved "
                                  "and locked.")
    else:
        found.refresh_from_db()
        who = found.approved_by.display_name if found.approved_by else "someone"
        messages.warning(request, f"{found.csm.display_name}'s statement for {found.period_start:%B %Y} was "
                                  f"already approved by {who}; nothing changed.")
    back = request.POST.get("next", "")
    if back.startswith(f"/t/{request.tenant.slug}/compensation/") and "//" not in back:
        return redirect(back)
    return redirect("compensation:team", tenant_slug=request.tenant.slug)
