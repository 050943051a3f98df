"""Success plans: what the customer wants to achieve, the proof it happened, and the work to get there."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from csplatform.tenancy.models import TenantOwnedModel

USER = settings.AUTH_USER_MODEL


class SuccessPlan(TenantOwnedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        ARCHIVED = "archived", "Archived"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="success_plans")
    owner = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    objectives = models.TextField(blank=True, help_text="The customer's objectives (their OKRs), in their words")
    roi_hypothesis = models.TextField(blank=True, help_text="How the customer will get its money's worth")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                              name="successplan_period_ordered")]
        indexes = [models.Index(fields=["tenant", "account", "status"])]
        ordering = ["-period_start"]

    def __str__(self):
        return self.title


class Goal(TenantOwnedModel):
    """A measurable customer goal ("POWER goal"): baseline, target, progress, customer approval."""

    class Status(models.TextChoices):
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        ACHIEVED = "achieved", "Achieved"
        MISSED = "missed", "Missed"

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="goals")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(max_length=200)
    measure = models.CharField(max_length=200, help_text="What is measured, e.g. 'weekly active users'")
    unit = models.CharField(max_length=40, blank=True)
    baseline = models.DecimalField(max_digits=16, decimal_places=2)
    target = models.DecimalField(max_digits=16, decimal_places=2)
    current_value = models.DecimalField(max_digits=16, decimal_places=2)
    current_as_of = models.DateField()
    start_date = models.DateField()
    due_date = models.DateField()
    status_override = models.CharField(max_length=20, choices=Status.choices, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    approved_by = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="approved_goals",
        help_text="The customer contact who agreed to this goal",
    )
    approved_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(target=models.F("baseline")), name="goal_target_differs"),
            models.CheckConstraint(condition=Q(due_date__gte=models.F("start_date")), name="goal_dates_ordered"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True, approved_on__isnull=True)
                | Q(approved_by__isnull=False, approved_on__isnull=False),
                name="goal_approval_complete",
            ),
            models.CheckConstraint(condition=Q(status_override="") | ~Q(override_reason=""),
                                   name="goal_override_has_reason"),
        ]
        indexes = [models.Index(fields=["tenant", "account", "due_date"]), models.Index(fields=["tenant", "plan"])]
        ordering = ["due_date", "id"]

    def __str__(self):
        return self.title

    @property
    def is_approved(self):
        return self.approved_by_id is not None


class GoalUpdate(TenantOwnedModel):
    """A dated reading of a goal's measure; the goal's current value is the latest one."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="updates")
    value = models.DecimalField(max_digits=16, decimal_places=2)
    as_of = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "goal", "as_of"])]
        ordering = ["-as_of", "-id"]


class ValueRealised(TenantOwnedModel):
    class Kind(models.TextChoices):
        TIME_TO_VALUE = "time_to_value", "Time to value"
        COST_AVOIDANCE = "cost_avoidance", "Cost avoidance"
        REVENUE_UPLIFT = "revenue_uplift", "Revenue uplift"
        RISK_REDUCTION = "risk_reduction", "Risk reduction"
        OTHER = "other", "Other"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="value_records")
    plan = models.ForeignKey(SuccessPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="values")
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="values")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))],
                                 help_text="In the tenant currency")
    realised_on = models.DateField()
    how_measured = models.TextField()
    validated_by = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="The customer contact who confirmed it")
    validated_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="valuerealised_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(validated_by__isnull=True, validated_on__isnull=True)
                | Q(validated_by__isnull=False, validated_on__isnull=False),
                name="valuerealised_validation_complete",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "account", "realised_on"])]
        ordering = ["-realised_on", "-id"]

    @property
    def is_validated(self):
        return self.validated_by_id is not None


class Playbook(TenantOwnedModel):
    """A template of tasks, applied when an account enters its stage or by hand."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    stage = models.ForeignKey("accounts.LifecycleStage", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="playbooks", help_text="Applied when an account enters this stage")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="playbook_unique_name")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class Task(TenantOwnedModel):
    """A task or call to action on an account (or one of its plans)."""

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Type(models.TextChoices):
        TASK = "task", "Task"
        FOLLOW_UP = "follow_up", "Follow-up"
        RISK_RECOVERY = "risk_recovery", "Risk recovery"
        ONBOARDING = "onboarding", "Onboarding step"
        RENEWAL_PREP = "renewal_prep", "Renewal prep"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        PLAYBOOK = "playbook", "Playbook"
        HEALTH_ALERT = "health_alert", "Health alert"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="tasks")
    plan = models.ForeignKey(SuccessPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.TASK)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    playbook_run = models.ForeignKey("PlaybookRun", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="tasks")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "owner", "status", "due_date"]),
            models.Index(fields=["tenant", "account", "status"]),
        ]
        ordering = ["due_date", "id"]

    def __str__(self):
        return self.title


class PlaybookStep(TenantOwnedModel):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    day_offset = models.PositiveSmallIntegerField(default=0, help_text="Due this many days after it is applied")
    type = models.CharField(max_length=20, choices=Task.Type.choices, default=Task.Type.TASK)
    priority = models.CharField(max_length=10, choices=Task.Priority.choices, default=Task.Priority.NORMAL)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "playbook", "position"])]
        ordering = ["position", "day_offset", "id"]


class PlaybookRun(TenantOwnedModel):
    """One application of a playbook to an account.

    Stage-triggered runs carry the moment the account entered the stage; the unique constraint makes
    each entry apply the playbook once. Manual runs have none, so they can be repeated on purpose.
    """

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="runs")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="playbook_runs")
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField()
    applied_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "playbook", "account", "stage_entered_at"],
                                               name="playbookrun_once_per_stage_entry")]
        ordering = ["-applied_at"]


class Risk(TenantOwnedModel):
    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MITIGATED = "mitigated", "Mitigated"
        CLOSED = "closed", "Closed"

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="risks")
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    mitigation = models.TextField(blank=True)
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "plan", "status"])]
        ordering = ["status", "-created_at"]


class BusinessReview(TenantOwnedModel):
    class Kind(models.TextChoices):
        QBR = "qbr", "Quarterly business review"
        EBR = "ebr", "Executive business review"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="business_reviews")
    plan = models.ForeignKey(SuccessPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.QBR)
    held_on = models.DateField()
    agenda = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    contacts = models.ManyToManyField("accounts.Contact", through="ReviewContact", related_name="+", blank=True)
    users = models.ManyToManyField(USER, through="ReviewUser", related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "account", "held_on"])]
        ordering = ["-held_on", "-id"]


class ReviewContact(TenantOwnedModel):
    review = models.ForeignKey(BusinessReview, on_delete=models.CASCADE)
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "review", "contact"], name="reviewcontact_unique")]


class ReviewUser(TenantOwnedModel):
    review = models.ForeignKey(BusinessReview, on_delete=models.CASCADE)
    user = models.ForeignKey(USER, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "review", "user"], name="reviewuser_unique")]


class Decision(TenantOwnedModel):
    """A decision taken at a review; open ones are carried forward to the account's later reviews."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    review = models.ForeignKey(BusinessReview, on_delete=models.CASCADE, related_name="decisions")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="decisions")
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner_contact = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="When the customer owns it")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "account", "status"])]
        ordering = ["due_date", "id"]


class Advocacy(TenantOwnedModel):
    class Kind(models.TextChoices):
        REFERENCE = "reference", "Reference"
        CASE_STUDY = "case_study", "Case study"
        REFERRAL = "referral", "Referral"
        REVIEW = "review", "Review"
        COMMUNITY = "community", "Community participation"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        AGREED = "agreed", "Agreed"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="advocacy")
    contact = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    happened_on = models.DateField()
    notes = models.TextField(blank=True)
    captured_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "captured_by", "happened_on"]),
                   models.Index(fields=["tenant", "account"])]
        ordering = ["-happened_on", "-id"]
        verbose_name_plural = "advocacy"


class ProductFeedback(TenantOwnedModel):
    """A product request (voice of the customer) and the accounts asking for it."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        UNDER_REVIEW = "under_review", "Under review"
        PLANNED = "planned", "Planned"
        SHIPPED = "shipped", "Shipped"
        DECLINED = "declined", "Declined"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    product_area = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    accounts = models.ManyToManyField("accounts.Account", through="FeedbackAccount", related_name="feedback")
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "status"])]
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class FeedbackAccount(TenantOwnedModel):
    feedback = models.ForeignKey(ProductFeedback, on_delete=models.CASCADE)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "feedback", "account"], name="feedbackaccount_unique")]


class ProcessDoc(TenantOwnedModel):
    """The team's knowledge base. Only approved documents count for compensation."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown")
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    approved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", approved_at__isnull=True)
                | Q(status="approved", approved_at__isnull=False, approved_by__isnull=False),
                name="processdoc_approval_complete",
            )
        ]
        indexes = [models.Index(fields=["tenant", "author", "status"])]
        ordering = ["title"]

    def __str__(self):
        return self.title
