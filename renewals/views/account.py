"""Writes from the Renewals section of the Account 360 page: flag an expansion, move an expansion's stage.

With HTMX the answer is the refreshed panel (400 with the field errors on bad input); without it, a redirect
back to the account, or the account page itself with the errors."""

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.views.accounts import account_detail
from accounts.views.common import get_account_or_404, require_writable
from csplatform.tenancy.pages import tenant_page

from .. import services
from ..forms import ExpansionFlagForm, ExpansionMoveForm
from ..models import ExpansionOpportunity
from ..panels import renewals_panel

PANEL_TEMPLATE = "renewals/_account_panel.html"


def _panel(request, account, *, status=200):
    return render(request, PANEL_TEMPLATE, {"account": account, "panel": renewals_panel(request, account)},
                  status=status)


def _answer(request, account, *, status, notice=""):
    account = get_account_or_404(account.pk)  # a won expansion changed its ARR in the database
    if request.htmx:
        request.renewals_notice = notice
        return _panel(request, account, status=status)
    if status != 200:
        response = account_detail(request, tenant_slug=request.tenant.slug, account_id=account.pk)
        response.status_code = status
        return response
    messages.success(request, notice)
    return redirect("accounts:detail", tenant_slug=request.tenant.slug, account_id=account.pk)


def _attach(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields and name != NON_FIELD_ERRORS else None, errors)


@require_POST
@tenant_page("expansions.flag")
def expansion_flag(request, account_id):
    account = get_account_or_404(account_id)
    require_writable(request, account, "expansions.flag")
    form = ExpansionFlagForm(request.POST)
    if form.is_valid():
        try:
            expansion = services.expansion_flag(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _attach(form, error)
    if form.errors:
        request.renewals_flag_form = form
        return _answer(request, account, status=400)
    return _answer(request, account, status=200,
                   notice=f"Expansion flagged: {expansion.product} ({expansion.get_kind_display().lower()}).")


@require_POST
@tenant_page("expansions.flag")
def expansion_move(request, account_id, expansion_id):
    account = get_account_or_404(account_id)
    expansion = ExpansionOpportunity.objects.filter(account=account, pk=expansion_id).first()
    if expansion is None:
        raise Http404("No such expansion")
    require_writable(request, account, "expansions.flag")
    form = ExpansionMoveForm(request.POST)
    if form.is_valid():
        try:
            services.expansion_move(expansion=expansion, stage=form.cleaned_data["stage"])
        except ValidationError as error:
            _attach(form, error)
    if form.errors:
        request.renewals_move_errors = [f"{expansion.product}: {e}" for errors in form.errors.values() for e in errors]
        return _answer(request, account, status=400)
    moved = "won: its ARR is added as a contract" if expansion.stage == ExpansionOpportunity.Stage.WON else (
        f"moved to {expansion.get_stage_display().lower()}")
    return _answer(request, account, status=200, notice=f"{expansion.product} {moved}.")
