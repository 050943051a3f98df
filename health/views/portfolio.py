"""The portfolio dashboard: band mix, green share vs the team goal, the 90-day trend, movers, at-risk accounts
and NPS, for the whole book or a slice of it (CSM, segment, lifecycle stage). Reads precomputed rows only."""

from django.shortcuts import render

from accounts.filters import csm_choices
from csplatform.tenancy.models import Role
from csplatform.tenancy.pages import tenant_page

from .. import portfolio as selectors
from ..forms import PortfolioFilterForm
from ..recompute import health_settings


def _chart_data(mix, trend) -> dict:
    return {
        "mix": {"labels": [b["label"] for b in mix["bands"]], "counts": [b["count"] for b in mix["bands"]],
                "percents": [b["percent"] for b in mix["bands"]], "colours": [b["colour"] for b in mix["bands"]],
                "total": mix["total"]},
        "trend": {"days": trend["days"],
                  "series": [{k: s[k] for k in ("label", "colour", "counts")} for s in trend["series"]]},
    }


def _mover_blocks(movers) -> list[dict]:
    return [
        {"id": "drops", "title": "Biggest drops this week", "rows": movers["drops"],
         "empty": "No account's score fell over the last 7 days."},
        {"id": "rises", "title": "Biggest rises this week", "rows": movers["rises"],
         "empty": "No account's score rose over the last 7 days."},
    ]


@tenant_page("health.view")
def portfolio(request):
    params = request.GET.copy()
    if "csm" not in params and request.membership.role == Role.CSM:
        params["csm"] = "me"  # a CSM starts on their own book; "Anyone" shows everyone's
    params.setdefault("period", str(selectors.NPS_DEFAULT_DAYS))  # so the period list shows the one in use
    csms = list(csm_choices(request.tenant))
    form = PortfolioFilterForm(params, csms=csms, user=request.user)
    rules = health_settings(request.tenant)
    context = {"form": form, "params": params, "csms": csms, "goal": rules.green_goal_percent,
               "bands": selectors.BAND_COLOURS}
    if not form.is_valid():
        return render(request, "health/portfolio.html", context, status=400)

    scope = form.scope()
    day = selectors.latest_day()
    context.update(day=day, mine=params.get("csm") == "me",
                   filtered=any(v is not None for v in (scope.csm_id, scope.segment_id, scope.stage_id)),
                   nps=selectors.nps(scope=scope, days=form.cleaned_data["period"]))
    if day is not None:
        mix = selectors.band_mix(day=day, scope=scope)
        trend = selectors.band_trend(day=day, scope=scope)
        context.update(
            mix=mix, trend=trend, movers=_mover_blocks(selectors.movers(day=day, scope=scope)),
            at_risk=selectors.at_risk(scope=scope), chart_data=_chart_data(mix, trend),
            goal_met=mix["total"] > 0 and mix["green_percent"] >= rules.green_goal_percent,
        )
    return render(request, "health/portfolio.html", context)
