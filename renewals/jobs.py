from datetime import timedelta

from csplatform.jobs.registry import nightly_job

from .arr import accounts_arr_refresh
from .services import renewals_defaults_ensure, renewals_open_due


@nightly_job("renewals.open", order=40)
def open_due_renewals(*, tenant, day) -> int:
    """Opens the renewal opportunities of contracts entering the lead window, once each."""
    renewals_defaults_ensure()  # tenants created before renewals get their lists on the first night
    return renewals_open_due(day=day)


@nightly_job("renewals.arr", order=41)
def refresh_account_arr(*, tenant, day) -> int:
    """Today's ARR on every account (contracts start, end and get cancelled with the calendar)."""
    return accounts_arr_refresh(on=day)


FORECAST_LINES_KEPT_DAYS = 60


@nightly_job("renewals.forecast", order=50)
def compute_forecast(*, tenant, day) -> int:
    """Forecast lines (probability from category, stage and today's health band) and snapshot rows of the day;
    after health (20-26) so the bands are today's, and after renewals.open so new renewals are in. Also the
    stored GRR/NRR trend of the last quarters (the forecast page reads it)."""
    from .forecast import forecast_compute
    from .models import ForecastLine
    from .retention_trend import retention_trend_store

    # The weekly movement reads a day and the week before; older lines are only history nobody reads, and the
    # table would otherwise grow by every open renewal every night. Snapshots (aggregates) are kept.
    ForecastLine.objects.filter(day__lt=day - timedelta(days=FORECAST_LINES_KEPT_DAYS)).delete()
    return forecast_compute(tenant=tenant, day=day) + retention_trend_store(tenant=tenant, day=day)
