"""Writes from the Health section of the Account 360 page: the CSM's sentiment pulse and "Send NPS survey".

With HTMX the answer is the refreshed panel (400 with the field errors on bad input); without it, a redirect
back to the account, or the account page itself with the errors.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.views.accounts import account_detail
from accounts.views.common import get_account_or_404, require_writable
from csplatform.tenancy.pages import tenant_page

from .. import services
from ..panels import health_panel

PANEL_TEMPLATE = "health/_account_panel.html"


class PulseForm(forms.Form):
    score = forms.TypedChoiceField(choices=[(i, str(i)) for i in range(1, 6)], coerce=int,
                                   error_messages={"required": "Pick a score from 1 to 5.",
                                                   "invalid_choice": "Pick a score from 1 to 5."})
    comment = forms.CharField(max_length=500, required=False, strip=True)


def _panel(request, account, *, status=200):
    return render(request, PANEL_TEMPLATE, {"account": account, "panel": health_panel(request, account)},
                  status=status)


def _account_page(request, account, *, status):
    """The full Account 360 page (the panel reads what this request carries), for browsers without HTMX."""
    response = account_detail(request, tenant_slug=request.tenant.slug, account_id=account.pk)
    response.status_code = status
    return response


def _back(request, account):
    return redirect("accounts:detail", tenant_slug=request.tenant.slug, account_id=account.pk)


@require_POST
@tenant_page("health.pulse")
def pulse_set(request, account_id):
    account = get_account_or_404(account_id)
    require_writable(request, account, "health.pulse")
    form = PulseForm(request.POST)
    if form.is_valid():
        try:
            services.pulse_set(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    if form.errors:
        request.health_pulse_form = form
        if request.htmx:
            return _panel(request, account, status=400)
        return _account_page(request, account, status=400)
    if request.htmx:
        request.health_pulse_saved = True
        return _panel(request, account)
    messages.success(request, "Sentiment pulse saved.")
    return _back(request, account)


@require_POST
@tenant_page("surveys.send")
def survey_send(request, account_id):
    account = get_account_or_404(account_id)
    try:
        invites = services.survey_send(account=account, by=request.user, base_url=request.build_absolute_uri("/"))
    except ValidationError as error:
        result = {"ok": False, "message": " ".join(error.messages)}
        status = 400
    else:
        count = len(invites)
        result = {"ok": True, "sent": count,
                  "message": f"NPS survey sent to {count} contact{'' if count == 1 else 's'}."}
        status = 200
    if request.htmx:
        request.health_survey_result = result
        return _panel(request, account, status=status)
    (messages.success if result["ok"] else messages.error)(request, result["message"])
    return _back(request, account)
