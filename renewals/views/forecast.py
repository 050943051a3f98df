"""The forecast page for managers and executives: a fiscal quarter's forecast (this one or one of the next 3) vs
the retention target, the forecast categories by month, the week's movement and the GRR/NRR trend of the last 8
quarters, for the whole book, one CSM, a manager's team or a segment.

It reads what the nightly job wrote (renewals.forecast: snapshot rows and lines) plus one retention query over
the contracts, so its query count does not depend on the number of renewals."""

from django import forms
from django.shortcuts import render
from django.utils import timezone

from accounts.filters import csm_choices
from accounts.models import Segment
from csplatform.tenancy.models import Membership, Role
from csplatform.tenancy.pages import tenant_page

from ..forecast import JOB_NAME, forecast_summary, latest_forecast_day
from ..models import RetentionTarget
from ..movement import forecast_movement
from ..periods import fiscal_quarter, shift_quarter
from ..retention_trend import retention_trend

QUARTERS_AHEAD = 3
TREND_QUARTERS = 8
# Stacked from the surest to the least sure; "renewed" is what already closed this quarter.
CATEGORY_SERIES = [("renewed", "Renewed (closed)", "#0969da"), ("committed", "Commit", "#1a7f37"),
                   ("best_case", "Best case", "#54aeff"), ("pipeline", "Pipeline", "#8c959f"),
                   ("at_risk", "At risk", "#cf222e")]


class ForecastFilterForm(forms.Form):
    """GET filters. `quarter` is a Quarter.key ("2026-Q1"); `csm` a member's id or "team-<manager id>"."""

    quarter = forms.ChoiceField(required=False, label="Quarter")
    csm = forms.ChoiceField(required=False, label="CSM or team")
    segment = forms.ModelChoiceField(queryset=Segment.objects.all(), required=False, empty_label="Any")

    def __init__(self, *args, quarters, csms, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.quarters = {q.key: q for q in quarters}
        self.managers = {str(m.pk): m for m in managers}
        self.csms = {str(u.pk): u for u in csms}
        self.fields["quarter"].choices = [(q.key, q.label) for q in quarters]
        self.fields["csm"].choices = [("", "Everyone"),
                                      *((f"team-{pk}", f"Team of {m.display_name}") for pk, m in self.managers.items()),
                                      *((pk, u.display_name) for pk, u in self.csms.items())]

    def chosen_quarter(self):
        return self.quarters.get(self.cleaned_data.get("quarter") or "") or next(iter(self.quarters.values()))

    def people(self) -> tuple[str, object]:
        """("tenant", None), ("csm", user) or ("team", manager)."""
        value = self.cleaned_data.get("csm") or ""
        if value.startswith("team-"):
            return "team", self.managers[value.removeprefix("team-")]
        if value:
            return "csm", self.csms[value]
        return "tenant", None


def _csm_ids(tenant, kind: str, person) -> list[int] | None:
    if kind == "csm":
        return [person.pk]
    if kind == "team":  # the manager's reports, and the manager's own accounts
        return [person.pk, *Membership.objects.filter(tenant=tenant, manager=person).values_list("user_id", flat=True)]
    return None


def _target(quarter, kind: str, person):
    targets = RetentionTarget.objects.filter(year=quarter.year, quarter=quarter.quarter)
    if kind == "csm":
        return targets.filter(csm=person).first()
    if kind == "team":
        return targets.filter(team_manager=person).first()
    return targets.filter(csm__isnull=True, team_manager__isnull=True).first()


def _versus(forecast, target) -> dict | None:
    if forecast is None or target is None:
        return None
    gap = forecast - target
    return {"gap": gap, "points": abs(gap), "met": gap >= 0}


def _chart_data(summary, trend) -> dict:
    data = {"trend": {"labels": [q.label for q, _ in trend],
                      "grr": [None if r.grr is None else float(r.grr) for _, r in trend],
                      "nrr": [None if r.nrr is None else float(r.nrr) for _, r in trend]}}
    if summary is not None:
        data["months"] = {
            "labels": [m.period_start.strftime("%b %Y") for m in summary.months],
            "series": [{"label": label, "colour": colour, "values": [float(getattr(m, name)) for m in summary.months]}
                       for name, label, colour in CATEGORY_SERIES]}
    return data


@tenant_page("forecast.view")
def page(request):
    tenant = request.tenant
    today = timezone.localdate()
    current = fiscal_quarter(tenant, today)
    quarters = [shift_quarter(tenant, current, i) for i in range(QUARTERS_AHEAD + 1)]
    managers = [m.user for m in Membership.objects.filter(tenant=tenant, role=Role.MANAGER)
                .select_related("user").order_by("user__full_name", "user__email")]
    form = ForecastFilterForm(request.GET, quarters=quarters, csms=list(csm_choices(tenant)), managers=managers)
    context = {"form": form, "params": request.GET, "job_name": JOB_NAME, "series": CATEGORY_SERIES}
    if not form.is_valid():
        return render(request, "renewals/forecast.html", context, status=400)

    quarter = form.chosen_quarter()
    kind, person = form.people()
    csm_ids = _csm_ids(tenant, kind, person)
    segment = form.cleaned_data.get("segment")
    segment_ids = [segment.pk] if segment else None
    day = latest_forecast_day(upto=today)
    summary = movement = None
    if day is not None:
        summary = forecast_summary(day=day, quarter_start=quarter.start, csm_ids=csm_ids, segment_ids=segment_ids)
        movement = forecast_movement(day=day, csm_ids=csm_ids, segment_ids=segment_ids)
    target = _target(quarter, kind, person)
    trend = retention_trend(tenant=tenant, quarters=TREND_QUARTERS, upto=today, csm_ids=csm_ids,
                            segment_ids=segment_ids)
    context.update(
        quarter=quarter, current=current, day=day, summary=summary, movement=movement, target=target,
        scope_kind=kind, person=person, segment=segment, filtered=bool(person or segment),
        grr_vs=_versus(summary and summary.grr, target and target.grr_target),
        nrr_vs=_versus(summary and summary.nrr, target and target.nrr_target),
        trend=[{"quarter": q, "row": row, "to_date": q.contains(today)} for q, row in trend],
        chart_data=_chart_data(summary, trend),
    )
    return render(request, "renewals/forecast.html", context)
