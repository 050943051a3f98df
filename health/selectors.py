"""Reads for the health pages, one account at a time. Every query runs in the current tenant and none runs
per row, so a page's query count does not grow with an account's history."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone

from csplatform.tenancy.timezones import business_day

from .models import HealthAlert, HealthScore, HealthSettings, Measure, SentimentPulse, SurveyInvite, SurveyResponse

PROMOTER_FROM = 9
DETRACTOR_UNTIL = 6


def band_thresholds() -> tuple[int, int]:
    """(green_from, yellow_from) of the current tenant, the model defaults when none is stored yet."""
    row = HealthSettings.objects.values_list("green_from", "yellow_from").first()
    if row is None:
        field = HealthSettings._meta.get_field
        return field("green_from").default, field("yellow_from").default
    return row


def score_latest(*, account) -> HealthScore | None:
    return HealthScore.objects.filter(account=account).select_related("scorecard").order_by("-day").first()


def score_history(*, account, days: int = 180, today: date | None = None) -> list[tuple[date, Decimal | None, str]]:
    """(day, score, band) of the last `days` days, oldest first; days never computed are absent."""
    today = today or business_day()  # scores are dated by the jobs' day
    return list(
        HealthScore.objects.filter(account=account, day__gt=today - timedelta(days=days), day__lte=today)
        .order_by("day")
        .values_list("day", "score", "band")
    )


def measures_by_id(ids) -> dict[int, Measure]:
    ids = {int(i) for i in ids if i is not None}
    return Measure.objects.in_bulk(ids) if ids else {}


def alert_open(*, account) -> HealthAlert | None:
    """The account's open at-risk episode with its recovery task and the task's owner."""
    return (HealthAlert.objects.filter(account=account, closed_on__isnull=True)
            .select_related("task", "task__owner").first())


def responses_recent(*, account, limit: int = 10) -> list[SurveyResponse]:
    return list(SurveyResponse.objects.filter(account=account).select_related("contact")
                .order_by("-responded_at", "-id")[:limit])


@dataclass(frozen=True)
class Nps:
    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> int | None:
        """% promoters (9-10) minus % detractors (0-6), a whole number from -100 to 100; None without answers."""
        return nps_score(self.promoters, self.passives, self.detractors)


def nps_score(promoters: int, passives: int, detractors: int) -> int | None:
    total = promoters + passives + detractors
    if not total:
        return None
    value = Decimal(100 * (promoters - detractors)) / Decimal(total)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def nps(*, account=None, days: int = 180, now=None) -> Nps:
    """NPS responses of the last `days` days, of one account or (account=None) of the whole tenant: one query."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = SurveyResponse.objects.filter(kind=SurveyResponse.Kind.NPS, responded_at__gte=since)
    if account is not None:
        rows = rows.filter(account=account)
    counts = rows.aggregate(
        promoters=Count("id", filter=Q(score__gte=PROMOTER_FROM)),
        detractors=Count("id", filter=Q(score__lte=DETRACTOR_UNTIL)),
        total=Count("id"),
    )
    return Nps(promoters=counts["promoters"], detractors=counts["detractors"],
               passives=counts["total"] - counts["promoters"] - counts["detractors"])


def pulse_latest(*, account) -> SentimentPulse | None:
    return SentimentPulse.objects.filter(account=account).select_related("set_by").order_by("-as_of", "-id").first()


def invites_recent(*, account, limit: int = 10) -> list[SurveyInvite]:
    return list(SurveyInvite.objects.filter(account=account).select_related("contact", "sent_by")
                .order_by("-sent_at", "-id")[:limit])
