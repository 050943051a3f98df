"""Scorecard configuration for ops: the list, create/edit with the measures, the tenant's health settings, and
"restate history" (recompute past days with the current rules)."""

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from .. import services
from ..forms import HealthSettingsForm, MeasureFormSet, RestateForm, ScorecardForm
from ..models import Measure, Scorecard
from ..recompute import health_settings


def _scorecard_or_404(pk) -> Scorecard:
    try:
        return Scorecard.objects.get(pk=pk)
    except Scorecard.DoesNotExist:
        raise Http404("No such scorecard") from None


def _list_context(request, *, settings_form=None, restate_form=None) -> dict:
    scorecards = (Scorecard.objects.annotate(measure_count=Count("measures", distinct=True))
                  .prefetch_related("segments", "stages"))
    return {
        "scorecards": scorecards,
        "settings_form": settings_form or HealthSettingsForm(instance=health_settings(request.tenant)),
        "restate_form": restate_form or RestateForm(),
        "just_saved": request.GET.get("saved", ""),
        "kinds": Measure.Kind.choices,
    }


def _back_to_list(request, saved: str):
    url = reverse("health:scorecards", kwargs={"tenant_slug": request.tenant.slug})
    return redirect(f"{url}?saved={saved}#restate")


@tenant_page("scorecards.manage")
def scorecard_list(request):
    return render(request, "health/scorecards.html", _list_context(request))


def _attach_errors(exc: ValidationError, form, measures) -> None:
    """Puts a service's ValidationError next to the field it names (or above the form / the measures)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        if field == "measures":
            measures._non_form_errors = measures.error_class(errors)
        elif field in form.fields:
            form.add_error(field, errors)
        else:
            form.add_error(None, [f"{field}: {e}" if field != NON_FIELD_ERRORS else e for e in errors])


@require_http_methods(["GET", "POST"])
@tenant_page("scorecards.manage")
def scorecard_edit(request, pk=None):
    scorecard = _scorecard_or_404(pk) if pk else Scorecard()
    heading = f"Edit {scorecard.name}" if pk else "New scorecard"  # before the form changes the instance
    form = ScorecardForm(request.POST or None, instance=scorecard)
    measures = MeasureFormSet(request.POST or None, instance=scorecard, prefix="measures")
    if request.method == "POST":
        if form.is_valid() and measures.is_valid():
            try:
                # One transaction: the card, its assignment and its measures are saved together or not at all.
                scorecard = services.scorecard_save(
                    scorecard=form.save(commit=False), segments=form.cleaned_data["segments"],
                    stages=form.cleaned_data["stages"], measures=measures.save(commit=False),
                    removed=measures.deleted_objects)
            except ValidationError as exc:
                _attach_errors(exc, form, measures)
            else:
                messages.success(request, f"{scorecard.name} saved. Scores already computed used the previous "
                                          "rules: restate history below to recompute them.")
                return _back_to_list(request, "scorecard")
    return render(request, "health/scorecard_form.html",
                  {"form": form, "measures": measures, "heading": heading, "editing": pk is not None,
                   "kinds": Measure.Kind.choices},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@tenant_page("scorecards.manage")
def settings_save(request):
    if request.method == "GET":  # the form lives on the scorecards page
        url = reverse("health:scorecards", kwargs={"tenant_slug": request.tenant.slug})
        return redirect(f"{url}#settings")
    form = HealthSettingsForm(request.POST, instance=health_settings(request.tenant))
    if not form.is_valid():
        return render(request, "health/scorecards.html", _list_context(request, settings_form=form), status=400)
    form.save()
    messages.success(request, "Health settings saved. Bands of past days change when they are recomputed: "
                              "restate history below.")
    return _back_to_list(request, "settings")


@require_POST
@tenant_page("scorecards.manage")
def restate(request):
    form = RestateForm(request.POST)
    if not form.is_valid():
        return render(request, "health/scorecards.html", _list_context(request, restate_form=form), status=400)
    days = form.cleaned_data["days"]
    services.health_restate(tenant=request.tenant, days=days)
    what = f"Recomputing the last {days} day{'' if days == 1 else 's'} is queued"
    if role_can(request.membership.role, "jobs.view"):
        messages.success(request, f"{what}: each day appears below as a health.scores run, oldest first.")
        url = reverse("jobs:runs", kwargs={"tenant_slug": request.tenant.slug})
        return redirect(f"{url}?job=health.scores")
    messages.success(request, f"{what}. The scores update as each day is done.")
    return redirect("health:scorecards", tenant_slug=request.tenant.slug)
