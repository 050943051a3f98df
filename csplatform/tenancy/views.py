from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .pages import tenant_page
from .selectors import memberships_for_user, team_members


@login_required
def pick_tenant(request):
    """After login: straight into the only workspace, or a choice between several."""
    memberships = list(memberships_for_user(user=request.user))
    if len(memberships) == 1:
        return redirect("tenant_home", tenant_slug=memberships[0].tenant.slug)
    return render(request, "tenancy/pick.html", {"memberships": memberships})


@tenant_page("tenant.view")
def tenant_home(request):
    members = list(team_members(tenant=request.tenant))
    return render(request, "tenancy/home.html", {"members": members})
