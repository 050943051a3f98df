"""Health: the signals that come in (usage, surveys, tickets, sentiment), the scorecards that weigh them,
and the scores the nightly recompute writes (one row per account and day, explained measure by measure)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from csplatform.tenancy.models import TenantOwnedModel

USER = settings.AUTH_USER_MODEL


class Band(models.TextChoices):
    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"
    NONE = "none", "No data"


class HealthSettings(TenantOwnedModel):
    """The tenant's band thresholds and alert rule (one row per tenant, created with the tenant)."""

    green_from = models.PositiveSmallIntegerField(default=70, validators=[MaxValueValidator(100)],
                                                  help_text="A score at or above this is green")
    yellow_from = models.PositiveSmallIntegerField(default=40, validators=[MaxValueValidator(100)],
                                                   help_text="A score at or above this (and below green) is yellow")
    drop_alert_points = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Open a recovery task when the score falls this many points within the drop window")
    drop_alert_days = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(1),
                                                                               MaxValueValidator(180)])
    green_goal_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MaxValueValidator(100)], help_text="Team goal: share of the portfolio that is green")
    survey_link_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="A survey link expires after this many days")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="healthsettings_one_per_tenant"),
            models.CheckConstraint(condition=Q(green_from__gt=models.F("yellow_from")),
                                   name="healthsettings_green_above_yellow"),
        ]
        verbose_name_plural = "health settings"

    def clean(self):
        if self.green_from is not None and self.yellow_from is not None and self.green_from <= self.yellow_from:
            raise ValidationError({"green_from": "Green must start above yellow."})

    def band_for(self, score) -> str:
        if score is None:
            return Band.NONE
        if score >= self.green_from:
            return Band.GREEN
        if score >= self.yellow_from:
            return Band.YELLOW
        return Band.RED


class Scorecard(TenantOwnedModel):
    """A weighted set of measures. An account gets the first active scorecard (by priority) whose segments
    and stages match it, else the tenant's default."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower wins when several scorecards match")
    segments = models.ManyToManyField("accounts.Segment", through="ScorecardSegment", blank=True, related_name="+")
    stages = models.ManyToManyField("accounts.LifecycleStage", through="ScorecardStage", blank=True,
                                    related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], condition=Q(is_default=True), name="scorecard_one_default"),
            models.UniqueConstraint(fields=["tenant", "name"], name="scorecard_name_unique"),
        ]
        ordering = ["-is_default", "priority", "name"]

    def __str__(self):
        return self.name


class ScorecardSegment(TenantOwnedModel):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE)
    segment = models.ForeignKey("accounts.Segment", on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "scorecard", "segment"],
                                               name="scorecardsegment_unique")]


class ScorecardStage(TenantOwnedModel):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE)
    stage = models.ForeignKey("accounts.LifecycleStage", on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "scorecard", "stage"], name="scorecardstage_unique")]


class Measure(TenantOwnedModel):
    """One signal of a scorecard. Its raw value maps to 0-100: 0 at the red threshold or worse, 100 at the green
    threshold or better, linear between. "Lower is better" measures have the green threshold below the red one."""

    class Kind(models.TextChoices):
        ACTIVE_USERS = "active_users", "Active users (daily average)"
        SEAT_UTILISATION = "seat_utilisation", "Seat utilisation (% of licensed seats active daily)"
        USAGE_EVENTS = "usage_events", "Usage events (total in window)"
        FEATURE_BREADTH = "feature_breadth", "Features used (average per active day)"
        USAGE_TREND = "usage_trend", "Usage trend (% change, later half of the window vs the earlier half)"
        NPS = "nps", "NPS (-100 to 100)"
        CSAT = "csat", "CSAT (average, 1-5)"
        OPEN_PRIORITY_TICKETS = "open_priority_tickets", "Open high-priority support tickets"
        TICKETS_OPENED = "tickets_opened", "Support tickets opened in window"
        DAYS_SINCE_TOUCH = "days_since_touch", "Days since the last call or meeting"
        SPONSOR_ENGAGED = "sponsor_engaged", "Executive sponsor engaged in window (1 yes, 0 no)"
        GOAL_ATTAINMENT = "goal_attainment", "Goals on track or achieved (%)"
        CSM_SENTIMENT = "csm_sentiment", "CSM sentiment pulse (1-5)"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="measures")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    label = models.CharField(max_length=120, blank=True, help_text="Shown instead of the kind's name")
    window_days = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(1),
                                                                           MaxValueValidator(365)])
    weight = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    red_threshold = models.DecimalField(max_digits=12, decimal_places=2, help_text="Raw value scoring 0")
    green_threshold = models.DecimalField(max_digits=12, decimal_places=2, help_text="Raw value scoring 100")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="measure_weight_positive"),
            models.CheckConstraint(
                condition=Q(direction="higher", green_threshold__gt=models.F("red_threshold"))
                | Q(direction="lower", green_threshold__lt=models.F("red_threshold")),
                name="measure_thresholds_follow_direction",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "scorecard"])]
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.label or self.get_kind_display()

    def clean(self):
        if self.red_threshold is None or self.green_threshold is None:
            return
        if self.direction == self.Direction.HIGHER and self.green_threshold <= self.red_threshold:
            raise ValidationError({"green_threshold": "Higher is better: the green threshold must be above the red."})
        if self.direction == self.Direction.LOWER and self.green_threshold >= self.red_threshold:
            raise ValidationError({"green_threshold": "Lower is better: the green threshold must be below the red."})

    def score(self, raw):
        """The same mapping as the SQL recompute (health/recompute.py), for previews and tests."""
        if raw is None:
            return None
        span = float(self.green_threshold - self.red_threshold)
        return round(100 * max(0.0, min(1.0, (float(raw) - float(self.red_threshold)) / span)), 2)


class UsageDaily(TenantOwnedModel):
    """Product usage rolled up per account and day. `events` and `quantity` add up across batches;
    `active_users` and `features` count the distinct keys in UsageKey (so a re-sent user is counted once)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    active_users = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    features = models.PositiveIntegerField(default=0, help_text="Distinct event names")
    quantity = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "account", "day"], name="usagedaily_unique")]
        indexes = [models.Index(fields=["tenant", "day"])]


class UsageKey(TenantOwnedModel):
    """The distinct users and features seen per account and day, so that counts are distinct across batches.

    A dedup index for ingestion, not an entity: each batch writes some 15,000 of these rows, and PostgreSQL
    constraint triggers on tenant and account (checked at COMMIT, one lookup per row) and their single-column
    indexes cost more than the rows themselves. So the two foreign keys keep Django's ON DELETE CASCADE (the ORM
    deletes an account's or tenant's keys with it) but have no database constraint or own index: the unique
    constraint below starts with (tenant, account) and serves both lookups. Keys are only written by
    health.ingest, for accounts it has just looked up in the current tenant; row level security still applies."""

    class Kind(models.TextChoices):
        USER = "u", "User"
        FEATURE = "f", "Feature"

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", editable=False,
                               db_constraint=False, db_index=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+",
                                db_constraint=False, db_index=False)
    day = models.DateField()
    kind = models.CharField(max_length=1, choices=Kind.choices)
    key = models.CharField(max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "account", "day", "kind", "key"],
                                               name="usagekey_unique")]


class UsageBatch(TenantOwnedModel):
    """A received usage batch, keyed by the sender: the same key twice is accepted once."""

    batch_id = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the events, to refuse a reused key")
    events = models.PositiveIntegerField()
    received_at = models.DateTimeField()
    source = models.CharField(max_length=20, default="api")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "batch_id"], name="usagebatch_unique")]
        ordering = ["-received_at"]


class SurveyInvite(TenantOwnedModel):
    """An emailed survey link. Only the token's SHA-256 is stored; the link works once, until it expires."""

    class Kind(models.TextChoices):
        NPS = "nps", "NPS"
        CSAT = "csat", "CSAT"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.NPS)
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "account", "sent_at"])]
        ordering = ["-sent_at"]


class SurveyResponse(TenantOwnedModel):
    class Kind(models.TextChoices):
        NPS = "nps", "NPS (0-10)"
        CSAT = "csat", "CSAT (1-5)"

    class Source(models.TextChoices):
        LINK = "link", "Survey link"
        API = "api", "API"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    comment = models.TextField(blank=True)
    responded_at = models.DateTimeField()
    source = models.CharField(max_length=4, choices=Source.choices)
    external_id = models.CharField(max_length=64, blank=True)
    invite = models.OneToOneField(SurveyInvite, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind="nps", score__lte=10) | Q(kind="csat", score__gte=1, score__lte=5),
                                   name="surveyresponse_score_in_scale"),
            models.UniqueConstraint(fields=["tenant", "external_id"], condition=~Q(external_id=""),
                                    name="surveyresponse_external_id_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "account", "responded_at"]),
                   models.Index(fields=["tenant", "responded_at"])]
        ordering = ["-responded_at"]


class SupportTicket(TenantOwnedModel):
    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    HIGH_PRIORITIES = (Priority.HIGH, Priority.URGENT)

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=64)
    subject = models.CharField(max_length=200, blank=True)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="supportticket_external_id_unique"),
            models.CheckConstraint(condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("opened_at")),
                                   name="supportticket_closed_after_opened"),
        ]
        indexes = [models.Index(fields=["tenant", "account", "opened_at"])]
        ordering = ["-opened_at"]


class SentimentPulse(TenantOwnedModel):
    """A CSM's read of the account, 1 (about to churn) to 5 (delighted). The latest one counts."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.CharField(max_length=500, blank=True)
    as_of = models.DateField()
    set_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="pulse_score_1_to_5")]
        indexes = [models.Index(fields=["tenant", "account", "as_of"])]
        ordering = ["-as_of", "-id"]


class HealthScore(TenantOwnedModel):
    """One account's health on one day, written by the recompute. `components` explains it: one entry per
    measure of the scorecard, [measure id, raw value or null, score or null, weight]."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    scorecard = models.ForeignKey(Scorecard, null=True, on_delete=models.SET_NULL, related_name="+")
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    band = models.CharField(max_length=6, choices=Band.choices)
    components = models.JSONField(default=list)
    change_7d = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    change_30d = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "account", "day"], name="healthscore_unique")]
        indexes = [models.Index(fields=["tenant", "day", "band"])]


class PortfolioHealthDaily(TenantOwnedModel):
    """Band counts per day and (CSM, segment, stage), so the dashboard never scans every account's history."""

    day = models.DateField()
    csm = models.ForeignKey(USER, null=True, on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey("accounts.Segment", null=True, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey("accounts.LifecycleStage", null=True, on_delete=models.CASCADE, related_name="+")
    band = models.CharField(max_length=6, choices=Band.choices)
    accounts = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"])]


class HealthAlert(TenantOwnedModel):
    """An at-risk episode: opened when an account turns red or drops fast, closed when it recovers.
    One open episode per account, so the recovery task is opened once per episode, not every night."""

    class Reason(models.TextChoices):
        RED = "red", "Fell to red"
        DROP = "drop", "Score dropped"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=4, choices=Reason.choices)
    opened_on = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    change_30d = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    fallen = models.JSONField(default=list, help_text="The measures that fell: [name, score then, score now]")
    task = models.ForeignKey("success_plans.Task", null=True, on_delete=models.SET_NULL, related_name="+")
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "account"], condition=Q(closed_on__isnull=True),
                                               name="healthalert_one_open_per_account")]
        indexes = [models.Index(fields=["tenant", "closed_on"])]
        ordering = ["-opened_on"]


class PendingRefresh(TenantOwnedModel):
    """Accounts whose signals changed since their score for today was computed (drained by health.refresh).

    `queued_at` is when the account was first marked (a mark much older than the refresh delay means the run was
    lost); `touched_at` is its latest signal. health.refresh deletes only the marks not touched since it started,
    so it never locks a mark while it computes and a signal that arrives meanwhile is rescored by the next run.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField()
    touched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "account"], name="pendingrefresh_unique")]
