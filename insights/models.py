"""Insights and team rhythm: monthly client reports, per-CSM targets, coverage of the book by CSMs.

`insights` sits beside `compensation` at the top of the dependency order: it reads renewals, health,
success plans and accounts through their selectors and writes through their services; nothing imports it."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from csplatform.tenancy.models import TenantOwnedModel

USER = settings.AUTH_USER_MODEL
MONEY = {"max_digits": 14, "decimal_places": 2}


class MonthlyReport(TenantOwnedModel):
    """One account's report on one month: the figures are drafted by the nightly job `insights.reports` on the
    first day of the next month; the CSM writes the recommendation, delivers it, and schedules the follow-up.
    Once delivered, `snapshot` holds everything the client was shown, so the kept copy never changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        DELIVERED = "delivered", "Delivered"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="monthly_reports")
    month = models.DateField(help_text="First day of the month reported on")
    csm = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The account's CSM when the report was drafted")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Figures drafted set-based by the job, for the month and the month before ("_prev").
    monthly_active_users = models.PositiveIntegerField(default=0, help_text="Distinct users seen in the month")
    monthly_active_users_prev = models.PositiveIntegerField(default=0)
    licensed_seats = models.PositiveIntegerField(default=0)
    features_used = models.PositiveIntegerField(default=0, help_text="Distinct features used in the month")
    features_used_prev = models.PositiveIntegerField(default=0)
    usage_events = models.BigIntegerField(default=0)
    usage_events_prev = models.BigIntegerField(default=0)
    health_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True,
                                       help_text="On the month's last scored day")
    health_score_prev = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    health_band = models.CharField(max_length=6, blank=True)
    value_realised_month = models.DecimalField(**MONEY, default=Decimal("0"))
    value_realised_total = models.DecimalField(**MONEY, default=Decimal("0"))
    arr = models.DecimalField(**MONEY, default=Decimal("0"))
    renewal_date = models.DateField(null=True, blank=True)
    renewal_stage = models.CharField(max_length=20, blank=True)
    nps_responses = models.PositiveIntegerField(default=0)
    nps_score = models.SmallIntegerField(null=True, blank=True)
    recommendation = models.TextField(blank=True, help_text="What we recommend: written by the CSM")
    drafted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    snapshot = models.JSONField(default=dict, blank=True,
                                help_text="What was delivered: goals, risks, decisions, NPS answers, health movers")
    follow_up_task = models.ForeignKey("success_plans.Task", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "account", "month"], name="monthlyreport_once_per_month"),
            models.CheckConstraint(
                condition=Q(status="draft", delivered_at__isnull=True)
                | Q(status="delivered", delivered_at__isnull=False),
                name="monthlyreport_delivery_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "month", "csm", "status"]),
            models.Index(fields=["tenant", "account", "-month"]),
        ]
        ordering = ["-month", "id"]

    def __str__(self):
        return f"{self.account} {self.month:%B %Y}"


class ReportRecipient(TenantOwnedModel):
    """Who a delivered report was emailed to (the address as it was then, even if the contact changes)."""

    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    email = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "report", "email"], name="reportrecipient_once")]
        ordering = ["email"]


class Target(TenantOwnedModel):
    """One of a tenant's per-CSM targets. What a metric counts is code (insights.targets); the amount, the
    period it is measured over and whether it is in use are the tenant's data, set by ops."""

    class Metric(models.TextChoices):
        APPROVED_GOALS = "approved_goals", "New customer-approved goals"
        EXPANSIONS_FLAGGED = "expansions_flagged", "Upsell/cross-sell opportunities flagged"
        REFERRALS = "referrals", "Referrals captured"
        FEEDBACK_SOLICITED = "feedback_solicited", "Client feedback solicited"
        CASE_STUDIES = "case_studies", "Case studies"
        REPORTS_DELIVERED = "reports_delivered", "Monthly reports delivered"
        ACTIVITY_DAYS = "activity_days", "Working days with a logged activity"
        GREEN_ACCOUNTS = "green_accounts", "Accounts green"
        GREEN_ARR = "green_arr", "ARR green"
        RED_ARR = "red_arr", "ARR red (risk level)"
        NPS = "nps", "Customer NPS"

    class Period(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Fiscal quarter"
        YEAR = "year", "Fiscal year"

    metric = models.CharField(max_length=24, choices=Metric.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    period = models.CharField(max_length=8, choices=Period.choices)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "metric"], name="target_once_per_metric")]
        ordering = ["position", "id"]

    def __str__(self):
        return self.get_metric_display()


class CoverageRule(TenantOwnedModel):
    """How many accounts one CSM can cover in a segment (no segment: the rule for every other account)."""

    segment = models.ForeignKey("accounts.Segment", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    accounts_per_csm = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "segment"], name="coveragerule_once_per_segment"),
            models.UniqueConstraint(fields=["tenant"], condition=Q(segment__isnull=True),
                                    name="coveragerule_one_default"),
        ]
        ordering = ["segment__position", "segment__name"]


class AccountAssignment(TenantOwnedModel):
    """An account moved from one CSM to another by a manager: the trail stays with the account."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="assignments")
    from_user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    tasks_moved = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "account", "-at"])]
        ordering = ["-at", "-id"]
