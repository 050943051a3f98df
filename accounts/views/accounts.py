from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from csplatform.tenancy.pages import tenant_page

from .. import selectors
from ..filters import AccountFilter, csm_choices
from ..forms import AccountForm, ActivityForm, ContactForm, EscalationForm
from ..models import Activity
from ..panels import panels_for
from ..permissions import account_writable
from .common import get_account_or_404, require_writable


@tenant_page("accounts.view")
def account_list(request):
    params = request.GET.copy()
    if "csm" not in params and request.membership.role == "csm":
        params["csm"] = "me"  # a CSM starts on their own book; "All accounts" clears it
    account_filter = AccountFilter(params, queryset=selectors.accounts_for_list(), request=request)
    page = Paginator(account_filter.qs, 25).get_page(request.GET.get("page"))
    return render(request, "accounts/list.html", {
        "filter": account_filter,
        "page": page,
        "params": params,
        "csms": csm_choices(request.tenant),
        "mine": params.get("csm") == "me",
    })


def _detail_context(request, account, *, activity_form=None, kind=None):
    return {
        "account": account,
        "manager": selectors.account_manager(account),
        "subsidiaries": account.subsidiaries.order_by("name"),
        "stakeholders": selectors.stakeholder_map(account=account),
        "timeline": selectors.timeline(account=account, kind=kind)[:50],
        "kinds": Activity.Kind.choices,
        "selected_kind": kind or "",
        "escalations": selectors.open_escalations(account=account),
        "activity_form": activity_form or ActivityForm(account=account),
        "can_log": account_writable(request.membership, account, "activities.log"),
        "can_edit_contacts": account_writable(request.membership, account, "contacts.edit"),
        "can_escalate": account_writable(request.membership, account, "escalations.manage"),
        "can_edit": account_writable(request.membership, account, "accounts.edit"),
    }


@tenant_page("accounts.view")
def account_detail(request, account_id):
    account = get_account_or_404(account_id)
    kind = request.GET.get("kind") or None
    if request.htmx and request.htmx.target == "timeline":
        return render(request, "accounts/_timeline.html", _detail_context(request, account, kind=kind))
    context = _detail_context(request, account, kind=kind)
    context["panels"] = panels_for(request, account)  # full page only; HTMX partials do not show them
    return render(request, "accounts/detail.html", context)


@require_http_methods(["POST"])
@tenant_page("activities.log")
def activity_create(request, account_id):
    from ..services import activity_log

    account = get_account_or_404(account_id)
    require_writable(request, account, "activities.log")
    form = ActivityForm(request.POST, account=account)
    if form.is_valid():
        activity_log(account=account, by=request.user, **form.cleaned_data)
        if not request.htmx:
            messages.success(request, "Activity logged.")
            return redirect("accounts:detail", tenant_slug=request.tenant.slug, account_id=account.pk)
        context = _detail_context(request, account)
        context["just_logged"] = True
        return render(request, "accounts/_activity_panel.html", context)
    if not request.htmx:
        context = _detail_context(request, account, activity_form=form)
        context["panels"] = panels_for(request, account)
        return render(request, "accounts/detail.html", context,
                      status=400)
    return render(request, "accounts/_activity_panel.html",
                  _detail_context(request, account, activity_form=form), status=400)


@require_http_methods(["GET", "POST"])
@tenant_page("accounts.edit")
def account_edit(request, account_id=None):
    account = get_account_or_404(account_id) if account_id else None
    if account is not None:
        require_writable(request, account, "accounts.edit")
    form = AccountForm(request.POST or None, instance=account, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        account = form.save()
        messages.success(request, f"{account.name} saved.")
        return redirect("accounts:detail", tenant_slug=request.tenant.slug, account_id=account.pk)
    return render(request, "accounts/form.html", {"form": form, "account": account},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@tenant_page("contacts.edit")
def contact_edit(request, account_id, contact_id=None):
    account = get_account_or_404(account_id)
    require_writable(request, account, "contacts.edit")
    contact = None
    if contact_id is not None:
        from django.http import Http404

        contact = account.contacts.filter(pk=contact_id).first()
        if contact is None:
            raise Http404("No such contact")
    form = ContactForm(request.POST or None, instance=contact, account=account)
    if request.method == "POST" and form.is_valid():
        contact = form.save()
        messages.success(request, f"{contact.name} saved.")
        return redirect("accounts:detail", tenant_slug=request.tenant.slug, account_id=account.pk)
    return render(request, "accounts/contact_form.html", {"form": form, "account": account, "contact": contact},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@tenant_page("escalations.manage")
def escalation_create(request, account_id):
    from ..services import escalation_open

    account = get_account_or_404(account_id)
    require_writable(request, account, "escalations.manage")
    form = EscalationForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        escalation = escalation_open(account=account, by=request.user, **form.cleaned_data)
        messages.success(request, "Escalation opened.")
        return redirect("accounts:escalation", tenant_slug=request.tenant.slug, escalation_id=escalation.pk)
    return render(request, "accounts/escalation_form.html", {"form": form, "account": account},
                  status=400 if form.errors else 200)
