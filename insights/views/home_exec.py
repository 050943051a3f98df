"""The executive's home: NRR and GRR of the last complete quarter, this quarter's forecast against the target, and
the health mix by ARR. Each figure links to the page that explains it (retention, forecast, portfolio)."""

from django.shortcuts import render

from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.timezones import business_day

from ..home.headlines import forecast_this_quarter, health_mix_by_arr, retention_last_quarter


@tenant_page("retention.view")
def page(request):
    tenant = request.tenant
    today = business_day()  # the figures are keyed by the jobs' day
    quarter, retained = retention_last_quarter(tenant=tenant, today=today)
    forecast = forecast_this_quarter(tenant=tenant, today=today)
    return render(request, "insights/home_exec.html", {
        "today": today,
        "retention_quarter": quarter,
        "retained": retained,
        "forecast": forecast,
        "forecast_rows": [("NRR", forecast.nrr), ("GRR", forecast.grr)],
        "mix": health_mix_by_arr(today=today),
    })
