"""The Team page: per CSM, progress against the tenant's targets, this cycle's monthly reports and coverage.

Managers see their team, ops, admins and executives every CSM and manager. A fixed number of queries whatever
the number of CSMs or accounts: each section is one selector with grouped queries."""

from django.shortcuts import render
from django.utils import timezone

from csplatform.tenancy.models import User
from csplatform.tenancy.pages import tenant_page

from ..coverage.selectors import coverage_by_csm
from ..reports.selectors import delivery_by_csm, report_cycle_month
from ..targets.progress import targets_progress
from ..targets.selectors import team_of


@tenant_page("targets.view_team")
def page(request):
    today = timezone.localdate()
    user_ids = team_of(request.membership)
    people = list(User.objects.filter(pk__in=user_ids).order_by("full_name", "email"))
    report_month = report_cycle_month(today)
    delivery = delivery_by_csm(user_ids=user_ids, month=report_month)
    return render(request, "insights/team.html", {
        "people": people,
        "today": today,
        "targets": targets_progress(tenant=request.tenant, user_ids=user_ids, today=today),
        "report_month": report_month,
        "delivery_rows": [{"person": p, **delivery[p.pk]} for p in people],
        "coverage": coverage_by_csm(tenant=request.tenant, user_ids=user_ids),
    })
