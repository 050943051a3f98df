"""Compensation: a tenant's plans (a list of rules with parameters) for a plan year, the CSMs assigned to them,
and the monthly statements whose every line names the record that earned it.

Money is Decimal in the tenant's currency, rounded half-up to cents per line."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from csplatform.tenancy.models import TenantOwnedModel

USER = settings.AUTH_USER_MODEL
MONEY = {"max_digits": 14, "decimal_places": 2}


class CompPlan(TenantOwnedModel):
    """A plan for one plan year (the tenant's fiscal year, named by the calendar year it ends in)."""

    name = models.CharField(max_length=120)
    year = models.PositiveSmallIntegerField(help_text="Fiscal year (named by the year it ends in)")
    base_min = models.DecimalField(**MONEY, default=Decimal("40000"))
    base_max = models.DecimalField(**MONEY, default=Decimal("50000"))
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "year", "name"], name="compplan_name_unique"),
            models.UniqueConstraint(fields=["tenant", "year"], condition=Q(is_default=True),
                                    name="compplan_one_default_per_year"),
            models.CheckConstraint(condition=Q(base_max__gte=models.F("base_min")), name="compplan_base_range"),
        ]
        ordering = ["-year", "name"]

    def __str__(self):
        return f"{self.name} FY{self.year}"


class CompRule(TenantOwnedModel):
    class Kind(models.TextChoices):
        BASE_SALARY = "base_salary", "Base salary"
        NEW_BUSINESS = "new_business", "New-business commission"
        RETENTION = "retention", "Retention commission"
        QUOTA_BONUS = "quota_bonus", "Opportunity quota bonus"
        CHURN_REDUCTION = "churn_reduction", "Churn-reduction bonus"
        PROCESS_DOC_SPIFF = "process_doc_spiff", "Process documentation spiff"

    plan = models.ForeignKey(CompPlan, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True,
                               help_text="A share, e.g. 0.025 for 2.5%")
    amount = models.DecimalField(**MONEY, null=True, blank=True, help_text="A fixed amount (bonus, spiff)")
    threshold = models.PositiveIntegerField(null=True, blank=True,
                                            help_text="Opportunities for the quota bonus; documents per spiff")
    count_won_only = models.BooleanField(default=False, help_text="Quota bonus: count won opportunities only")
    year_end = models.BooleanField(default=False, help_text="Paid with the year's last statement, behind the gates")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "plan", "kind"], name="comprule_kind_once")]
        ordering = ["position", "id"]


class CompAssignment(TenantOwnedModel):
    """A CSM on a plan, with their annual base (within the plan's range) and the days they are on it."""

    plan = models.ForeignKey(CompPlan, on_delete=models.CASCADE, related_name="assignments")
    csm = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    annual_base = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plan", "csm"], name="compassignment_once_per_plan"),
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                                   name="compassignment_dates_ordered"),
        ]


class CompStatement(TenantOwnedModel):
    """One CSM's statement for one month; draft until a manager approves it, then locked."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    plan = models.ForeignKey(CompPlan, on_delete=models.PROTECT, related_name="statements")
    csm = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField(help_text="The first day of the month")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    total = models.DecimalField(**MONEY, default=Decimal("0"))
    generated_at = models.DateTimeField()
    approved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "csm", "period_start"], name="compstatement_one_per_month"),
            models.CheckConstraint(condition=Q(status="draft", approved_at__isnull=True)
                                   | Q(status="approved", approved_at__isnull=False),
                                   name="compstatement_approval_complete"),
        ]
        ordering = ["-period_start", "csm_id"]


class CompLine(TenantOwnedModel):
    """One line of a statement: what it pays for, on what basis, at what rate, and the record behind it."""

    statement = models.ForeignKey(CompStatement, on_delete=models.CASCADE, related_name="lines")
    rule_kind = models.CharField(max_length=20, choices=CompRule.Kind.choices)
    basis = models.CharField(max_length=200, help_text="e.g. the renewal and its renewed ARR")
    basis_amount = models.DecimalField(**MONEY, null=True, blank=True)
    rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    explanation = models.CharField(max_length=300)
    source_type = models.CharField(max_length=40, blank=True, help_text="app_label.model of the source record")
    source_id = models.BigIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Set on an adjustment line: the approved (locked) month whose figure changed after approval.
    adjusts_period = models.DateField(null=True, blank=True, help_text="The approved month this line adjusts")

    class Meta:
        indexes = [models.Index(fields=["tenant", "statement"])]
        ordering = ["position", "id"]
