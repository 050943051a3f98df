from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from csplatform.tenancy.pages import tenant_page

from .. import selectors
from ..forms import EscalationMoveForm
from ..models import Escalation
from ..services import StaleEscalation, escalation_move
from .common import require_writable


@tenant_page("accounts.view")
def escalation_list(request):
    status = request.GET.get("status", "open")
    escalations = Escalation.objects.select_related("account", "owner", "escalated_to")
    if status == "open":
        escalations = escalations.exclude(status=Escalation.Status.RESOLVED)
    elif status in Escalation.Status.values:
        escalations = escalations.filter(status=status)
    page = Paginator(escalations, 25).get_page(request.GET.get("page"))
    return render(request, "accounts/escalations.html", {
        "page": page, "selected_status": status, "statuses": Escalation.Status.choices,
    })


@require_http_methods(["GET", "POST"])
@tenant_page("accounts.view")
def escalation_detail(request, escalation_id):
    try:
        escalation = selectors.escalation_get(escalation_id=escalation_id)
    except Escalation.DoesNotExist:
        raise Http404("No such escalation") from None
    form = EscalationMoveForm(request.POST or None, initial={"status": escalation.status,
                                                            "seen_status": escalation.status})
    status_code = 200
    if request.method == "POST":
        require_writable(request, escalation.account, "escalations.manage")
        if form.is_valid():
            escalation.status = form.cleaned_data["seen_status"]
            try:
                escalation_move(escalation=escalation, by=request.user, to_status=form.cleaned_data["status"],
                                note=form.cleaned_data["note"], resolution=form.cleaned_data["resolution"])
            except StaleEscalation as exc:
                messages.error(request, str(exc))
                return redirect("accounts:escalation", tenant_slug=request.tenant.slug, escalation_id=escalation.pk)
            except ValueError as exc:
                form.add_error("resolution" if "resolved" in str(exc) else "status", str(exc))
            else:
                messages.success(request, "Escalation updated.")
                return redirect("accounts:escalation", tenant_slug=request.tenant.slug, escalation_id=escalation.pk)
        status_code = 400
        escalation.refresh_from_db()
    return render(request, "accounts/escalation_detail.html", {
        "escalation": escalation,
        "events": escalation.events.select_related("by"),
        "form": form,
        "can_manage": _can_manage(request, escalation),
    }, status=status_code)


def _can_manage(request, escalation):
    from ..permissions import account_writable

    return account_writable(request.membership, escalation.account, "escalations.manage")
