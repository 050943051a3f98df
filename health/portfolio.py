"""Reads for the portfolio dashboard. Every function is a fixed number of queries over precomputed rows
(PortfolioHealthDaily band counts, the latest HealthScore day, open HealthAlerts, survey responses), so the page
costs the same for 20 accounts as for 20,000. Filters are applied in the database, never in Python."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from accounts.models import Account

from .alerts import at_risk_accounts
from .models import Band, HealthScore, PortfolioHealthDaily, SurveyResponse

BAND_COLOURS = {Band.GREEN: "#1a7f37", Band.YELLOW: "#bf8700", Band.RED: "#cf222e", Band.NONE: "#8c959f"}
BAND_ORDER = [Band.GREEN, Band.YELLOW, Band.RED, Band.NONE]
TREND_DAYS = 90
MOVERS = 10
AT_RISK_SHOWN = 50
NPS_PERIODS = (30, 90, 180, 365)
NPS_DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Scope:
    """Which slice of the book the dashboard shows. `csm_id` None = anyone, 0 = unassigned accounts."""

    csm_id: int | None = None
    segment_id: int | None = None
    stage_id: int | None = None

    def rollup_filter(self) -> Q:
        """For PortfolioHealthDaily, which carries the account's CSM, segment and stage of the day."""
        return self._filter("")

    def account_filter(self, path: str = "account__") -> Q:
        """For rows that point at an account (scores, alerts, survey responses)."""
        return self._filter(path)

    def _filter(self, prefix: str) -> Q:
        q = Q()
        if self.csm_id == 0:
            q &= Q(**{f"{prefix}csm__isnull": True})
        elif self.csm_id is not None:
            q &= Q(**{f"{prefix}csm_id": self.csm_id})
        if self.segment_id is not None:
            q &= Q(**{f"{prefix}segment_id": self.segment_id})
        if self.stage_id is not None:
            q &= Q(**{f"{prefix}stage_id": self.stage_id})
        return q


def _percent(part: int, whole: int) -> int:
    if not whole:
        return 0
    return int((Decimal(100) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def latest_day() -> date | None:
    """The last day the nightly job rolled up (whatever the filters: every block shows the same day)."""
    return PortfolioHealthDaily.objects.aggregate(day=Max("day"))["day"]


def band_mix(*, day: date, scope: Scope) -> dict:
    """Accounts per band on `day`, with their share; plus the green share the team goal is about."""
    counts = dict(PortfolioHealthDaily.objects.filter(scope.rollup_filter(), day=day)
                  .values("band").annotate(n=Sum("accounts")).values_list("band", "n"))
    total = sum(counts.values())
    bands = [{"band": band.value, "label": band.label, "count": counts.get(band, 0),
              "percent": _percent(counts.get(band, 0), total), "colour": BAND_COLOURS[band]}
             for band in BAND_ORDER]
    return {"bands": bands, "total": total, "green": counts.get(Band.GREEN, 0),
            "green_percent": _percent(counts.get(Band.GREEN, 0), total)}


def band_trend(*, day: date, scope: Scope, days: int = TREND_DAYS) -> dict:
    """Accounts per band per day over the `days` days up to `day` (days without a rollup are left out)."""
    rows = (PortfolioHealthDaily.objects.filter(scope.rollup_filter(), day__gt=day - timedelta(days=days),
                                                day__lte=day)
            .values("day", "band").annotate(n=Sum("accounts")).order_by("day"))
    by_day: dict[date, dict[str, int]] = {}
    for row in rows:
        by_day.setdefault(row["day"], {})[row["band"]] = row["n"]
    days_seen = sorted(by_day)
    table = []
    for d in days_seen:
        total = sum(by_day[d].values())
        table.append({"day": d, "total": total, "green_percent": _percent(by_day[d].get(Band.GREEN, 0), total),
                      "counts": [by_day[d].get(band, 0) for band in BAND_ORDER]})
    return {
        "days": [d.isoformat() for d in days_seen],
        "series": [{"band": band.value, "label": band.label, "colour": BAND_COLOURS[band],
                    "counts": [by_day[d].get(band, 0) for d in days_seen]} for band in BAND_ORDER],
        "table": table,
        "first": table[0] if table else None,
        "last": table[-1] if table else None,
    }


def movers(*, day: date, scope: Scope, limit: int = MOVERS) -> dict:
    """The biggest 7-day drops and rises on `day` (two indexed queries, `limit` rows each)."""
    scores = (HealthScore.objects.filter(scope.account_filter(), day=day, account__status=Account.Status.ACTIVE)
              .select_related("account", "account__csm"))
    return {
        "drops": list(scores.filter(change_7d__lt=0).order_by("change_7d", "account__name")[:limit]),
        "rises": list(scores.filter(change_7d__gt=0).order_by("-change_7d", "account__name")[:limit]),
    }


def at_risk(*, scope: Scope, today: date | None = None, limit: int = AT_RISK_SHOWN) -> dict:
    """Open at-risk episodes, lowest score first, with the recovery task and its owner."""
    alerts = at_risk_accounts().filter(scope.account_filter())
    today = today or timezone.localdate()
    shown = list(alerts[:limit])
    for alert in shown:  # at most `limit` rows: the page's own list, not the book
        alert.days_open = (today - alert.opened_on).days
    # Always counted (not only when the list is full), so the page's query count never depends on the data.
    return {"alerts": shown, "total": alerts.count()}


def nps(*, scope: Scope, days: int = NPS_DEFAULT_DAYS, now=None) -> dict:
    """Tenant NPS over the last `days` days: % promoters (9-10) minus % detractors (0-6), whole points."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    counts = SurveyResponse.objects.filter(
        scope.account_filter(), kind=SurveyResponse.Kind.NPS, responded_at__gt=since, responded_at__lte=now,
    ).aggregate(responses=Count("id"), promoters=Count("id", filter=Q(score__gte=9)),
                detractors=Count("id", filter=Q(score__lte=6)))
    responses = counts["responses"]
    score = None
    if responses:
        score = int((Decimal(100) * (counts["promoters"] - counts["detractors"]) / responses)
                    .quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return {"days": days, "since": since, "score": score, "responses": responses,
            "promoters": counts["promoters"], "detractors": counts["detractors"],
            "passives": responses - counts["promoters"] - counts["detractors"],
            "promoter_percent": _percent(counts["promoters"], responses),
            "detractor_percent": _percent(counts["detractors"], responses)}
