"""Demo health signals: 180 days of product usage, NPS and CSAT answers, support tickets and CSM pulses for
every active account, then 180 days of scores, so the trend charts and the dashboard have history.
Called by `manage.py seed_demo` inside the tenant's context, after the success plans' demo.

- Stable: every choice comes from `random.Random(tenant.slug)`; only the dates move with today.
- Idempotent: a tenant that already has usage is left alone.
- Each account follows a story (thriving, steady, slipping, recovering, onboarding) so the bands differ
  for reasons a manager can read on the page.
"""

import random
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact

from .models import SentimentPulse, SupportTicket, SurveyResponse, UsageDaily
from .recompute import portfolio_rollup, scores_compute
from .services import health_defaults_ensure

HISTORY_DAYS = 180
STORIES = ["thriving", "steady", "slipping", "recovering"]
STORY_WEIGHTS = [40, 30, 18, 12]
NPS_COMMENTS = {
    "high": ["The team gets real value every week.", "Support is quick and the roadmap matches our needs.",
             "Our CSM knows our business."],
    "mid": ["Works, but reporting is clunky.", "Good product, onboarding of new teams is slow."],
    "low": ["Too many outages this quarter.", "We are not seeing the value we were promised.",
            "Hard to get answers from support."],
}
TICKET_SUBJECTS = ["SSO login fails for some users", "Export times out", "Dashboard numbers disagree with CSV",
                   "API rate limit errors", "Invite emails not arriving", "Slow page loads in EU"]


def seed(*, tenant, people) -> dict:
    if UsageDaily.objects.exists():
        return {}
    with transaction.atomic():
        return _Seeder(tenant=tenant, people=people).run()


class _Seeder:
    def __init__(self, *, tenant, people):
        self.rng = random.Random(f"health-{tenant.slug}")
        self.tenant = tenant
        self.people = people
        self.today = timezone.localdate()
        self.accounts = list(Account.objects.filter(status=Account.Status.ACTIVE).select_related("stage")
                             .order_by("pk"))
        self.stories = {a.pk: self._story(a) for a in self.accounts}
        health_defaults_ensure()

    def _story(self, account) -> str:
        if account.stage and account.stage.name.lower().startswith("onboard"):
            return "onboarding"
        return self.rng.choices(STORIES, weights=STORY_WEIGHTS)[0]

    def _at(self, day, hour=None):
        return timezone.make_aware(datetime.combine(day, time(hour or self.rng.randint(8, 17),
                                                              self.rng.randint(0, 59))))

    def run(self) -> dict:
        usage = self._usage()
        surveys = self._surveys()
        tickets = self._tickets()
        pulses = self._pulses()
        for offset in range(settings.DEMO_SCORE_HISTORY_DAYS - 1, -1, -1):
            day = self.today - timedelta(days=offset)
            scores_compute(tenant=self.tenant, day=day)
            portfolio_rollup(tenant=self.tenant, day=day)
        return {"usage_days": usage, "survey_responses": surveys, "tickets": tickets, "pulses": pulses,
                "score_days": settings.DEMO_SCORE_HISTORY_DAYS}

    def _utilisation(self, story: str, base: float, days_ago: int) -> float:
        progress = 1 - days_ago / HISTORY_DAYS  # 0 at the start of the history, 1 today
        if story == "thriving":
            return base + 0.1 * progress
        if story == "steady":
            return base
        if story == "slipping":  # fine until ~2 months ago, then falls away
            return base if days_ago > 60 else base * (0.25 + 0.75 * days_ago / 60)
        if story == "recovering":  # a bad patch 2-4 months ago
            return base * (0.35 if 45 < days_ago < 120 else 1.0)
        return 0.0 if days_ago > 75 else base * (1 - days_ago / 75)  # onboarding: ramping up

    def _usage(self) -> int:
        rows = []
        for account in self.accounts:
            story = self.stories[account.pk]
            seats = max(account.licensed_seats, 5)
            base = {"thriving": 0.6, "steady": 0.42, "slipping": 0.5, "recovering": 0.5, "onboarding": 0.45}[story]
            base *= self.rng.uniform(0.85, 1.15)
            for days_ago in range(HISTORY_DAYS):
                day = self.today - timedelta(days=days_ago)
                share = self._utilisation(story, base, days_ago) * (0.3 if day.weekday() >= 5 else 1.0)
                active = int(seats * share * self.rng.uniform(0.85, 1.15))
                if active <= 0:
                    continue
                features = max(1, min(14, round(2 + 10 * share * self.rng.uniform(0.8, 1.2))))
                events = active * self.rng.randint(6, 20)
                rows.append(UsageDaily(account=account, day=day, active_users=active, events=events,
                                       features=features, quantity=events))
        UsageDaily.objects.bulk_create(rows, batch_size=2000)
        return len(rows)

    def _score_for(self, story: str, recent: bool, scale: str) -> int:
        bad = story == "slipping" and recent or story == "recovering" and not recent
        if scale == "nps":
            if bad:
                return self.rng.choice([2, 4, 5, 6, 6, 7])
            return self.rng.choice([7, 8, 9, 9, 10, 10]) if story != "steady" else self.rng.choice([6, 7, 8, 8, 9])
        return self.rng.choice([2, 3, 3]) if bad else self.rng.choice([4, 4, 5, 5, 3])

    def _surveys(self) -> int:
        contacts: dict[int, list[Contact]] = {}
        for contact in Contact.objects.filter(account__in=self.accounts).order_by("pk"):
            contacts.setdefault(contact.account_id, []).append(contact)
        rows = []
        for account in self.accounts:
            people = contacts.get(account.pk, [])
            story = self.stories[account.pk]
            if not people or story == "onboarding" and self.rng.random() < 0.5:
                continue
            for _ in range(self.rng.randint(1, 4)):
                days_ago = self.rng.randint(1, HISTORY_DAYS - 1)
                score = self._score_for(story, days_ago < 60, "nps")
                band = "high" if score >= 9 else "mid" if score >= 7 else "low"
                rows.append(SurveyResponse(
                    account=account, contact=self.rng.choice(people), kind=SurveyResponse.Kind.NPS, score=score,
                    comment=self.rng.choice(NPS_COMMENTS[band]) if self.rng.random() < 0.6 else "",
                    responded_at=self._at(self.today - timedelta(days=days_ago)), source=SurveyResponse.Source.API))
            for _ in range(self.rng.randint(0, 2)):
                days_ago = self.rng.randint(1, 90)
                rows.append(SurveyResponse(
                    account=account, contact=self.rng.choice(people), kind=SurveyResponse.Kind.CSAT,
                    score=self._score_for(story, days_ago < 60, "csat"),
                    responded_at=self._at(self.today - timedelta(days=days_ago)), source=SurveyResponse.Source.API))
        SurveyResponse.objects.bulk_create(rows)
        return len(rows)

    def _tickets(self) -> int:
        rows = []
        seq = 1000
        for account in self.accounts:
            story = self.stories[account.pk]
            count = self.rng.randint(3, 7) if story in ("slipping", "recovering") else self.rng.randint(0, 3)
            for _ in range(count):
                seq += 1
                days_ago = self.rng.randint(0, HISTORY_DAYS - 1)
                opened = self._at(self.today - timedelta(days=days_ago))
                recent_trouble = story == "slipping" and days_ago < 45
                priority = self.rng.choices(["low", "normal", "high", "urgent"],
                                            weights=[2, 4, 5, 2] if recent_trouble else [4, 6, 2, 1])[0]
                stays_open = recent_trouble and self.rng.random() < 0.7 or days_ago < 5
                closed = None if stays_open else opened + timedelta(hours=self.rng.randint(2, 24 * 9))
                if closed and closed > timezone.now():
                    closed = None
                rows.append(SupportTicket(account=account, external_id=f"ZD-{seq}", priority=priority,
                                          subject=self.rng.choice(TICKET_SUBJECTS), opened_at=opened,
                                          closed_at=closed))
        SupportTicket.objects.bulk_create(rows)
        return len(rows)

    def _pulses(self) -> int:
        rows = []
        for account in self.accounts:
            story = self.stories[account.pk]
            for days_ago in range(HISTORY_DAYS - 10, -1, -self.rng.randint(25, 40)):
                recent = days_ago < 60
                if story == "slipping":
                    score = 2 if recent else 4
                elif story == "recovering":
                    score = 2 if 45 < days_ago < 120 else 4
                else:
                    score = {"thriving": 5, "steady": 3, "onboarding": 4}[story]
                score = max(1, min(5, score + self.rng.choice([-1, 0, 0, 0, 1])))
                comment = {1: "Champion left; renewal in doubt.", 2: "Usage falling, exec sponsor quiet.",
                           3: "Fine, nothing exciting.", 4: "Good momentum.", 5: "Expanding and referencing us."}[score]
                rows.append(SentimentPulse(account=account, score=score, comment=comment,
                                           as_of=self.today - timedelta(days=days_ago), set_by=account.csm))
        SentimentPulse.objects.bulk_create(rows)
        return len(rows)
