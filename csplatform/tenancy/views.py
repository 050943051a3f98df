from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .models import Role
from .pages import tenant_page
from .selectors import memberships_for_user, team_members


@login_required
def pick_tenant(request):
    """After login: straight into the only workspace, or a choice between several."""
    memberships = list(memberships_for_user(user=request.user))
    if len(memberships) == 1:
        return redirect("tenant_home", tenant_slug=memberships[0].tenant.slug)
    return render(request, "tenancy/pick.html", {"memberships": memberships})


# Where each role starts its day. URL names, not imports: the pages live in apps above tenancy.
ROLE_HOMES = {
    Role.CSM: "plans:my_work",
    Role.MANAGER: "health:portfolio",
    Role.EXECUTIVE: "homes:executive",
    Role.OPS: "homes:ops",
    Role.ADMIN: "homes:ops",
}


@tenant_page("tenant.view")
def tenant_home(request):
    """The workspace's front door: each role lands on the page it works from (the nav leads everywhere else)."""
    name = ROLE_HOMES.get(request.membership.role, "tenant_members")
    return redirect(name, tenant_slug=request.tenant.slug)


@tenant_page("tenant.view")
def tenant_members(request):
    members = list(team_members(tenant=request.tenant))
    return render(request, "tenancy/home.html", {"members": members})
