"""The retention page for managers and executives: a period's GRR and NRR (a fiscal quarter or the fiscal year
to date) with the ARR bridge, by segment, CSM and cohort, the trend of the last 8 quarters, and the churn
analysis of the renewals closed in the period (why, where, when, and whether the health score warned).

Everything is computed on request from the contracts and the closed renewals by renewals.retention, a fixed
number of queries (one per grouping), so the query count does not depend on the number of accounts."""

from django import forms
from django.shortcuts import render
from django.utils import timezone

from accounts.filters import csm_choices
from accounts.models import Segment
from csplatform.tenancy.pages import tenant_page

from ..models import Contract
from ..periods import last_quarters, quarter_bounds
from ..retention import WARNING_BANDS, WARNING_DAYS, churn_analysis, retention, retention_by_quarter

TREND_QUARTERS = 8
# The current quarter (to date) and the 8 complete ones before it.
PERIOD_QUARTERS = TREND_QUARTERS + 1
YEAR_TO_DATE = "ytd"
BAND_LABELS = {"red": "Red", "yellow": "Yellow", "green": "Green", "none": "No score"}
GROUP_TITLES = [("segment", "Segment"), ("csm", "CSM"), ("cohort", "Cohort (first contract's quarter)")]
LOSS_TITLES = [("segment", "Segment"), ("csm", "CSM"), ("month", "Month")]
BAND_COLOURS = {"red": "#cf222e", "yellow": "#bf8700", "green": "#1a7f37", "none": "#8c959f"}


class Period:
    """What the page reports on: [start, end], `end` clamped to today for the periods still running."""

    def __init__(self, *, key: str, label: str, start, end, today):
        self.key, self.label, self.start = key, label, start
        self.end = min(end, today)
        self.to_date = end > today


class RetentionFilterForm(forms.Form):
    """GET filters. `period` is a Quarter.key ("2026-Q1") or "ytd"; `csm` and `segment` ids."""

    period = forms.ChoiceField(required=False, label="Period")
    csm = forms.ModelChoiceField(queryset=None, required=False, empty_label="Everyone", label="CSM")
    segment = forms.ModelChoiceField(queryset=Segment.objects.all(), required=False, empty_label="Any")

    def __init__(self, *args, tenant, today, **kwargs):
        super().__init__(*args, **kwargs)
        quarters = last_quarters(tenant, PERIOD_QUARTERS, today)[::-1]  # newest first
        current = quarters[0]
        year_start = quarter_bounds(tenant, current.year, 1).start
        periods = [Period(key=q.key, label=q.label + (" (to date)" if q.contains(today) else ""), start=q.start,
                          end=q.end, today=today) for q in quarters]
        periods.append(Period(key=YEAR_TO_DATE, label=f"FY{current.year} to date", start=year_start, end=today,
                              today=today))
        self.periods = {p.key: p for p in periods}
        self.default_key = quarters[1].key  # the last complete quarter
        self.fields["period"].choices = [(p.key, p.label) for p in periods]
        self.fields["csm"].queryset = csm_choices(tenant)

    def chosen_period(self) -> Period:
        return self.periods[self.cleaned_data.get("period") or self.default_key]


def _percent(value) -> float | None:
    return None if value is None else float(value)


def _chart_data(trend, analysis) -> dict:
    return {
        "trend": {"labels": [q.label for q, _ in trend], "grr": [_percent(r.grr) for _, r in trend],
                  "nrr": [_percent(r.nrr) for _, r in trend]},
        "reasons": {"labels": [r.label for r in analysis.by_reason],
                    "churned": [float(r.churned_arr) for r in analysis.by_reason],
                    "downsold": [float(r.downsold_arr) for r in analysis.by_reason]},
    }


@tenant_page("retention.view")
def page(request):
    tenant = request.tenant
    today = timezone.localdate()
    form = RetentionFilterForm(request.GET, tenant=tenant, today=today)
    context = {"form": form, "params": request.GET, "warning_days": WARNING_DAYS,
               "trend_quarters": TREND_QUARTERS}
    if not form.is_valid():
        return render(request, "renewals/retention.html", context, status=400)

    period = form.chosen_period()
    person = form.cleaned_data.get("csm")
    segment = form.cleaned_data.get("segment")
    context.update(period=period, person=person, segment=segment, filtered=bool(person or segment),
                   has_contracts=Contract.objects.exists())
    if not context["has_contracts"]:
        return render(request, "renewals/retention.html", context)

    scope = {"csm_ids": [person.pk] if person else None, "segment_ids": [segment.pk] if segment else None}
    [total] = retention(start=period.start, end=period.end, **scope)
    groups = {name: retention(start=period.start, end=period.end, group_by=name, **scope)
              for name in ("segment", "csm", "cohort")}
    trend = retention_by_quarter(tenant=tenant, quarters=TREND_QUARTERS, upto=today, **scope)
    analysis = churn_analysis(start=period.start, end=period.end)
    warned_arr = sum(row.churned_arr for row in analysis.bands if row.band in WARNING_BANDS)
    context.update(
        total=total, groupings=[(name, title, groups[name]) for name, title in GROUP_TITLES],
        losses=[(name, title, getattr(analysis, f"by_{name}")) for name, title in LOSS_TITLES],
        trend=[{"quarter": q, "row": row, "to_date": q.contains(today)} for q, row in trend],
        analysis=analysis, warned_arr=warned_arr,
        bands=[{"row": row, "label": BAND_LABELS[row.band], "colour": BAND_COLOURS[row.band]}
               for row in analysis.bands],
        chart_data=_chart_data(trend, analysis),
    )
    return render(request, "renewals/retention.html", context)
