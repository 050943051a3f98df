"""The public survey page behind an emailed link: /survey/<tenant slug>/<token>/.

No login and no /t/ prefix, so the tenant middleware does not run: the view finds the tenant by its slug
and enters its context itself. An unknown tenant, an unknown token and another tenant's token all answer the
same 404 page, so the page reveals nothing about which tenants or links exist.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from csplatform.security import ratelimit
from csplatform.security.network import client_ip
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant

from .. import services
from ..models import SurveyInvite

RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 600
MAX_TOKEN_LENGTH = 100
COMMENT_MAX = 4000

SCALES = {
    SurveyInvite.Kind.NPS: (0, 10, "How likely are you to recommend {name} to a friend or colleague?",
                            "Not at all likely", "Extremely likely"),
    SurveyInvite.Kind.CSAT: (1, 5, "How satisfied are you with {name}?", "Very dissatisfied", "Very satisfied"),
}
STATUS = {"unknown": 404, "answered": 410, "expired": 410}


class AnswerForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(required=False, max_length=COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 4}),
                              label="Anything you would like to tell us? (optional)")

    def __init__(self, *args, low: int, high: int, **kwargs):
        super().__init__(*args, **kwargs)
        message = f"Pick a score from {low} to {high}."
        score = self.fields["score"]
        score.choices = [(i, str(i)) for i in range(low, high + 1)]
        score.error_messages.update(required=message, invalid_choice=message)


def _private(response):
    """The token is in the URL: keep it out of search engines and out of Referer headers.

    A page that carries the answer form says `same-origin` instead of `no-referrer`: under no-referrer browsers
    send `Origin: null` with the form's POST, which Django's CSRF check rejects (and on HTTPS it also wants a
    Referer). same-origin still never sends the link to another site; these pages link to none anyway.
    """
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin" if getattr(response, "has_form", False) else "no-referrer"
    return response


def _state_page(request, state: str, company: str = "", status: int = 200):
    return render(request, "health/survey_answer.html", {"state": state, "company": company}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request, tenant_slug, token):
    # Per (tenant, client address) in the shared cache; the address comes from REMOTE_ADDR or, behind
    # TRUSTED_PROXY_COUNT proxies, from their X-Forwarded-For entries (csplatform.security.network).
    retry_after = ratelimit.hit(f"survey:{tenant_slug}", client_ip(request) or "unknown", limit=RATE_LIMIT,
                                window_seconds=RATE_WINDOW_SECONDS)
    if retry_after is not None:
        response = _state_page(request, "limited", status=429)
        response["Retry-After"] = str(retry_after)
        return _private(response)
    tenant = Tenant.objects.filter(slug=tenant_slug, is_active=True).first()
    if tenant is None or len(token) > MAX_TOKEN_LENGTH:
        return _private(_state_page(request, "unknown", status=404))
    with tenant_context(tenant):
        return _private(_answer(request, tenant, token))


def _answer(request, tenant, token):
    try:
        invite = services.survey_invite_for_token(token)
    except services.SurveyLinkUnusable as unusable:
        return _unusable(request, tenant, unusable.why)
    low, high, question, low_label, high_label = SCALES[invite.kind]
    form = AnswerForm(request.POST if request.method == "POST" else None, low=low, high=high)
    if form.is_bound and form.is_valid():
        try:
            services.survey_answer(token=token, **form.cleaned_data)
        except services.SurveyLinkUnusable as unusable:  # answered in another tab meanwhile
            return _unusable(request, tenant, unusable.why)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return render(request, "health/survey_done.html", {"company": tenant.name, "state": "done"})
    response = render(request, "health/survey_answer.html", {
        "state": "open",
        "company": tenant.name,
        "question": question.format(name=tenant.name),
        "low_label": low_label,
        "high_label": high_label,
        "form": form,
        "choices": list(range(low, high + 1)),
        "selected": str(form["score"].value() or "") if form.is_bound else "",
        "invite": invite,
    }, status=400 if form.errors else 200)
    response.has_form = True
    return response


def _unusable(request, tenant, why: str):
    # An unknown token shows the page an unknown tenant shows: no tenant name.
    return _state_page(request, why, company="" if why == "unknown" else tenant.name, status=STATUS[why])
