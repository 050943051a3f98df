from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from csplatform.tenancy.models import TenantOwnedModel

DEFAULT_STAGES = ["Onboarding", "Adoption", "Expansion", "Renewal", "At risk", "Churned"]
DEFAULT_SEGMENTS = ["Enterprise", "Mid-Market", "SMB"]


class Segment(TenantOwnedModel):
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="segment_unique_name")]
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class LifecycleStage(TenantOwnedModel):
    """A tenant-defined, ordered stage of the customer lifecycle."""

    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="lifecyclestage_unique_name")]
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Account(TenantOwnedModel):
    """A customer company in the book of business."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CHURNED = "churned", "Churned"

    name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=64, blank=True, help_text="The account's id in the CRM")
    domain = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts")
    stage = models.ForeignKey(
        LifecycleStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    # Maintained set-based by services.stage_entries_record(): an account "enters" a stage when its stage
    # differs from the last one recorded, however it was written (form, API, bulk upsert, import).
    stage_entered_at = models.DateTimeField(null=True, blank=True, editable=False)
    stage_recorded = models.ForeignKey(
        LifecycleStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="CSM",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subsidiaries",
        help_text="The global HQ this account is a subsidiary of",
    )
    licensed_seats = models.PositiveIntegerField(default=0)
    long_term_potential = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="Estimated lifetime ARR potential, in the tenant currency",
    )
    # Written only by renewals (renewals/arr.py) from the account's contracts; read by every page showing ARR.
    arr = models.DecimalField(max_digits=14, decimal_places=2, default=0, db_default=0, editable=False,
                              help_text="Current ARR: the sum of the active contracts' ARR today")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    churn_date = models.DateField(null=True, blank=True)
    last_touch_at = models.DateTimeField(null=True, blank=True, help_text="Latest logged activity")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=~Q(external_id=""), name="account_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(status="active", churn_date__isnull=True) | Q(status="churned"),
                name="account_churn_date_only_when_churned",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "name"]),
            models.Index(fields=["tenant", "csm", "status"]),
            models.Index(fields=["tenant", "last_touch_at"]),
        ]
        ordering = ["name"]

    def __str__(self):
        return self.name


class Contact(TenantOwnedModel):
    """A stakeholder at a customer account."""

    class Persona(models.TextChoices):
        EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
        ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
        CHAMPION = "champion", "Champion"
        DECISION_MAKER = "decision_maker", "Decision maker"
        ADMIN = "admin", "Admin"
        END_USER = "end_user", "End user"

    class Influence(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"
        UNKNOWN = "unknown", "Unknown"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    persona = models.CharField(max_length=20, choices=Persona.choices, default=Persona.END_USER)
    influence = models.CharField(max_length=10, choices=Influence.choices, default=Influence.MEDIUM)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, default=Sentiment.UNKNOWN)
    reports_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    receives_surveys = models.BooleanField(default=False)
    last_engaged_at = models.DateTimeField(null=True, blank=True, help_text="Latest activity involving them")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=~Q(external_id=""), name="contact_unique_external_id"
            )
        ]
        indexes = [models.Index(fields=["tenant", "account", "persona"]), models.Index(fields=["tenant", "email"])]
        ordering = ["name"]

    def __str__(self):
        return self.name


class Activity(TenantOwnedModel):
    """An entry in an account's timeline: what happened, with whom, and the time it took."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"
        TRAINING = "training", "Onboarding / training session"
        BUSINESS_REVIEW = "business_review", "Business review"
        FEEDBACK = "feedback", "Feedback requested"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    external_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    contacts = models.ManyToManyField(Contact, through="ActivityContact", related_name="activities", blank=True)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    next_step = models.CharField(max_length=200, blank=True)
    next_step_due = models.DateField(null=True, blank=True)
    next_step_done = models.BooleanField(default=False)
    minutes_spent = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=~Q(external_id=""), name="activity_unique_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "account", "-occurred_at"]),
            models.Index(fields=["tenant", "logged_by", "occurred_at"]),
            models.Index(fields=["tenant", "next_step_due"]),
        ]
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"


class ActivityContact(TenantOwnedModel):
    """Who took part in an activity (an explicit table so that it carries the tenant, like every other)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "activity", "contact"], name="activitycontact_unique")
        ]


class Escalation(TenantOwnedModel):
    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Investigating"
        WAITING = "waiting", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="escalations")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The manager or executive it was escalated to",
    )
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "status", "-opened_at"]), models.Index(fields=["tenant", "account"])]
        ordering = ["-opened_at"]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.status != self.Status.RESOLVED


class EscalationEvent(TenantOwnedModel):
    """The status trail of an escalation: who moved it, when, from what to what."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "escalation", "at"])]
        ordering = ["at", "id"]
