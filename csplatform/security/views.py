"""Pages: my API tokens, every token of the tenant (ops), login security (ops)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from csplatform.tenancy.models import Membership
from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can
from csplatform.tenancy.selectors import api_tokens_for
from csplatform.tenancy.services import api_token_revoke

from . import selectors, services
from .forms import TokenCreateForm


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_page("tokens.own")
def my_tokens(request):
    """List and create. A new token's value is shown in this answer only: it is never stored or shown again."""
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    created = raw = None
    if form.is_bound and form.is_valid():
        try:
            created, raw = services.api_token_issue(tenant=request.tenant, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = TokenCreateForm()
    tokens = selectors.tokens_with_status(api_tokens_for(tenant=request.tenant, user=request.user))
    return render(request, "security/my_tokens.html", {
        "form": form, "tokens": tokens, "created": created, "raw": raw,
    }, status=400 if form.errors else 201 if created else 200)


@require_GET
@tenant_page("tokens.manage")
def tenant_tokens(request):
    page = Paginator(api_tokens_for(tenant=request.tenant), 50).get_page(request.GET.get("page"))
    page.object_list = selectors.tokens_with_status(page.object_list)
    return render(request, "security/tenant_tokens.html", {"page": page})


@require_http_methods(["GET", "POST"])
@tenant_page("tokens.own")
def token_revoke(request, token_id):
    """GET asks to confirm, POST revokes. A member reaches their own tokens, ops and admins any of the tenant's;
    any other id answers 404."""
    manages = role_can(request.membership.role, "tokens.manage")
    token = get_object_or_404(api_tokens_for(tenant=request.tenant, user=None if manages else request.user),
                              pk=token_id)
    back = "security:my_tokens" if token.user_id == request.user.pk else "security:tenant_tokens"
    if request.method == "POST":
        if api_token_revoke(token=token):
            messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
        else:
            messages.info(request, f"Token “{token.name}” was already revoked.")
        return redirect(back, tenant_slug=request.tenant.slug)
    token.status = selectors.token_status(token)
    return render(request, "security/token_revoke.html", {"token": token, "back": back})


@require_GET
@tenant_page("security.manage")
def login_security(request):
    return render(request, "security/login_security.html", {
        "members": selectors.member_login_failures(tenant=request.tenant),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "ip_failure_limit": settings.LOGIN_IP_FAILURE_LIMIT,
        "cool_off_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    })


@require_http_methods(["GET", "POST"])
@tenant_page("security.manage")
def login_unlock(request, user_id):
    """GET asks to confirm, POST clears the member's failed logins. A non-member's id answers 404."""
    membership = get_object_or_404(Membership.objects.select_related("user"), tenant=request.tenant, user_id=user_id)
    if request.method == "POST":
        services.login_failures_clear(tenant=request.tenant, user=membership.user, by=request.user)
        messages.success(request, f"Failed logins of {membership.user.display_name} cleared: "
                                  "their email is no longer locked.")
        return redirect("security:login_security", tenant_slug=request.tenant.slug)
    return render(request, "security/unlock_confirm.html", {"member": membership.user})

