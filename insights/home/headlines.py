"""The executive's headline numbers, each computed by the selector of the page that explains it:
GRR and NRR of the last complete fiscal quarter (renewals.retention_trend, the rows the forecast page's trend
reads), the forecast GRR and NRR of this quarter against the tenant's target (renewals.forecast, as the forecast
page), and the health mix by ARR (today's Account.arr in each band of the latest nightly scores).

A fixed number of queries whatever the size of the book: every figure is one grouped statement."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from accounts.models import Account
from health.models import Band, HealthScore
from renewals.forecast import ForecastSummary, forecast_summary, latest_forecast_day
from renewals.models import RetentionTarget
from renewals.periods import Quarter, fiscal_quarter
from renewals.retention import RetentionRow
from renewals.retention_trend import retention_trend

ZERO = Decimal("0")
EMPTY = {"arr": ZERO, "accounts": 0}
# Worst first, as an executive reads risk; the CSS custom property is the one every band colour comes from.
MIX_BANDS = [
    (Band.RED, "Red", "--band-red"),
    (Band.YELLOW, "Amber", "--band-amber"),
    (Band.GREEN, "Green", "--band-green"),
    (Band.NONE, "No score", "--band-none"),
]


@dataclass(frozen=True)
class BandShare:
    band: str
    label: str
    colour_var: str
    accounts: int
    arr: Decimal
    share: Decimal  # % of the ARR, to 0.1


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else ZERO


def health_mix_by_arr(*, today: date) -> dict:
    """Active accounts with ARR, per band of the latest nightly scores up to today (accounts that day did not score:
    "No score"), with their ARR, count and share of the ARR: three queries on the (tenant, day, band) index.

    The nightly recompute scores every active account, so the day's scores are each account's latest; reading them
    by day, rather than probing each account's latest score, keeps the page fast at 20,000 accounts."""
    with_arr = Account.objects.filter(status=Account.Status.ACTIVE, arr__gt=0)
    # The newest day that scored an active account (walks the (tenant, day) index backwards to the first one).
    day = (HealthScore.objects.filter(day__lte=today, account__status=Account.Status.ACTIVE)
           .order_by("-day").values_list("day", flat=True).first())
    found: dict[str, dict] = {}
    if day is not None:
        scored = (HealthScore.objects.filter(day=day, account__in=with_arr)
                  .values("band").annotate(arr=Sum("account__arr"), accounts=Count("id")).order_by())
        found = {row["band"] or Band.NONE: {"arr": Decimal(row["arr"] or 0), "accounts": row["accounts"]}
                 for row in scored}
    everyone = with_arr.aggregate(arr=Sum("arr"), accounts=Count("id"))
    scored_arr = sum((entry["arr"] for band, entry in found.items() if band != Band.NONE), ZERO)
    scored_accounts = sum(entry["accounts"] for band, entry in found.items() if band != Band.NONE)
    found[Band.NONE] = {"arr": Decimal(everyone["arr"] or 0) - scored_arr,
                        "accounts": (everyone["accounts"] or 0) - scored_accounts}
    total = Decimal(everyone["arr"] or 0)
    bands = [BandShare(band=band.value, label=label, colour_var=var, accounts=found.get(band, EMPTY)["accounts"],
                       arr=found.get(band, EMPTY)["arr"], share=_share(found.get(band, EMPTY)["arr"], total))
             for band, label, var in MIX_BANDS]
    return {"bands": bands, "total_arr": total, "accounts": sum(b.accounts for b in bands)}


def retention_last_quarter(*, tenant, today: date) -> tuple[Quarter, RetentionRow]:
    """The last complete fiscal quarter (the retention page's default period) and its GRR/NRR row, from the rows
    the nightly forecast job stores for the trend (computed from the contracts before tonight's first run)."""
    [(previous, row), _current] = retention_trend(tenant=tenant, upto=today, quarters=2)
    return previous, row


@dataclass(frozen=True)
class VersusTarget:
    forecast: Decimal | None
    target: Decimal | None

    @property
    def gap(self) -> Decimal | None:
        if self.forecast is None or self.target is None:
            return None
        return self.forecast - self.target

    @property
    def met(self) -> bool | None:
        return None if self.gap is None else self.gap >= 0

    @property
    def points(self) -> Decimal | None:
        return None if self.gap is None else abs(self.gap)


@dataclass(frozen=True)
class ForecastHeadline:
    quarter: Quarter
    day: date | None  # the forecast job's latest day; None before its first run
    summary: ForecastSummary | None
    target: RetentionTarget | None
    grr: VersusTarget
    nrr: VersusTarget


def forecast_this_quarter(*, tenant, today: date) -> ForecastHeadline:
    """This fiscal quarter's forecast GRR/NRR for the whole book (as the forecast page shows it unfiltered)
    against the tenant-wide retention target of the quarter."""
    quarter = fiscal_quarter(tenant, today)
    day = latest_forecast_day(upto=today)
    summary = forecast_summary(day=day, quarter_start=quarter.start) if day is not None else None
    target = RetentionTarget.objects.filter(year=quarter.year, quarter=quarter.quarter, csm__isnull=True,
                                            team_manager__isnull=True).first()
    return ForecastHeadline(
        quarter=quarter, day=day, summary=summary, target=target,
        grr=VersusTarget(forecast=summary.grr if summary else None, target=target.grr_target if target else None),
        nrr=VersusTarget(forecast=summary.nrr if summary else None, target=target.nrr_target if target else None))
