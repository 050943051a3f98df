"""Renewals: contracts and their ARR, renewal and expansion opportunities, retention targets, the forecast
the nightly job writes (one line per open renewal per day, and aggregates), and the tenant's probability table.

Money is Decimal in the tenant's currency (Tenant.currency); ARR is annual recurring revenue."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from csplatform.tenancy.models import Tenant, TenantOwnedModel

USER = settings.AUTH_USER_MODEL
MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0")


class ChurnReason(TenantOwnedModel):
    """The tenant's list of reasons for churn and downsell (defaults created with the tenant)."""

    class AppliesTo(models.TextChoices):
        BOTH = "both", "Churn and downsell"
        CHURN = "churn", "Churn only"
        DOWNSELL = "downsell", "Downsell only"

    name = models.CharField(max_length=100)
    applies_to = models.CharField(max_length=8, choices=AppliesTo.choices, default=AppliesTo.BOTH)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="churnreason_name_unique")]
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Contract(TenantOwnedModel):
    """A subscription term. Its ARR counts for the account from start_date to end_date (inclusive), unless it
    was cancelled: then until the day before cancelled_on."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="contracts")
    external_id = models.CharField(max_length=64, blank=True, help_text="The contract's id in the CRM")
    name = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    auto_renew = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    cancelled_on = models.DateField(null=True, blank=True)
    arr = models.DecimalField(**MONEY, default=ZERO, help_text="Sum of the lines' ARR")
    renewal_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], condition=~Q(external_id=""),
                                    name="contract_external_id_unique"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="contract_dates_ordered"),
            models.CheckConstraint(condition=Q(arr__gte=0), name="contract_arr_not_negative"),
            models.CheckConstraint(condition=Q(status="cancelled", cancelled_on__isnull=False)
                                   | Q(status="active", cancelled_on__isnull=True),
                                   name="contract_cancelled_has_date"),
        ]
        indexes = [models.Index(fields=["tenant", "account", "start_date"]),
                   models.Index(fields=["tenant", "end_date"])]
        ordering = ["-start_date", "-id"]

    def __str__(self):
        return self.name or self.external_id or f"Contract {self.pk}"


class ContractLine(TenantOwnedModel):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    product = models.CharField(max_length=120)
    quantity = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"),
                                   validators=[MinValueValidator(ZERO)])
    unit_price = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)],
                                     help_text="Annual price per unit")
    arr = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(arr__gte=0), name="contractline_arr_not_negative")]
        indexes = [models.Index(fields=["tenant", "contract"])]
        ordering = ["id"]


class RenewalOpportunity(TenantOwnedModel):
    """The renewal of one contract term: created by the nightly job `lead_days` before the end date, once."""

    class Stage(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        ENGAGED = "engaged", "Engaged"
        PROPOSAL = "proposal", "Proposal"
        VERBAL = "verbal", "Verbal"
        CLOSED = "closed", "Closed"

    class Category(models.TextChoices):
        COMMIT = "commit", "Commit"
        BEST_CASE = "best_case", "Best case"
        PIPELINE = "pipeline", "Pipeline"
        AT_RISK = "at_risk", "At risk"
        OMITTED = "omitted", "Omitted"

    class Outcome(models.TextChoices):
        RENEWED_FLAT = "renewed_flat", "Renewed flat"
        RENEWED_EXPANSION = "renewed_expansion", "Renewed with expansion"
        DOWNSELL = "downsell", "Downsell"
        CHURNED = "churned", "Churned"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="renewals")
    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="renewal")
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.NOT_STARTED)
    category = models.CharField(max_length=10, choices=Category.choices, default=Category.PIPELINE)
    current_arr = models.DecimalField(**MONEY, help_text="ARR up for renewal (the contract's ARR)")
    expected_arr = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    close_date = models.DateField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    renewed_arr = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)])
    reason = models.ForeignKey(ChurnReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason_comment = models.CharField(max_length=500, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    # The account's CSM when the renewal closed: retention is credited to them even if the account moves later.
    credited_csm = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(stage="closed", outcome__gt="", closed_on__isnull=False, renewed_arr__isnull=False)
                | (~Q(stage="closed") & Q(outcome="", closed_on__isnull=True)),
                name="renewal_closed_has_outcome"),
            models.CheckConstraint(condition=~Q(outcome__in=["churned", "downsell"]) | Q(reason__isnull=False),
                                   name="renewal_loss_has_reason"),
        ]
        indexes = [models.Index(fields=["tenant", "close_date"]), models.Index(fields=["tenant", "account"]),
                   models.Index(fields=["tenant", "closed_on"])]
        ordering = ["close_date", "id"]
        verbose_name_plural = "renewal opportunities"

    @property
    def is_open(self) -> bool:
        return self.stage != self.Stage.CLOSED


class ExpansionOpportunity(TenantOwnedModel):
    """An upsell or cross-sell lead; `lead_source` is the person who found it (compensation pays on it)."""

    class Kind(models.TextChoices):
        UPSELL = "upsell", "Upsell"
        CROSS_SELL = "cross_sell", "Cross-sell"

    class Stage(models.TextChoices):
        IDENTIFIED = "identified", "Identified"
        QUALIFIED = "qualified", "Qualified"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    OPEN_STAGES = (Stage.IDENTIFIED, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="expansions")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.UPSELL)
    product = models.CharField(max_length=120)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)], help_text="ARR")
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.IDENTIFIED)
    expected_close = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    lead_source = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=["won", "lost"], closed_on__isnull=False)
                                   | (~Q(stage__in=["won", "lost"]) & Q(closed_on__isnull=True)),
                                   name="expansion_closed_has_date"),
            models.UniqueConstraint(fields=["tenant", "external_id"], condition=~Q(external_id=""),
                                    name="expansion_external_id_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "account"]), models.Index(fields=["tenant", "expected_close"]),
                   models.Index(fields=["tenant", "lead_source", "created_at"])]
        ordering = ["expected_close", "id"]
        verbose_name_plural = "expansion opportunities"


class RetentionTarget(TenantOwnedModel):
    """A quarterly gross and net retention target for the tenant, a manager's team, or one CSM."""

    year = models.PositiveSmallIntegerField(validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(4)],
                                               help_text="Fiscal quarter (the tenant's fiscal year start)")
    team_manager = models.ForeignKey(USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                     help_text="A manager's team; empty for the tenant or a CSM")
    csm = models.ForeignKey(USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    grr_target = models.DecimalField(max_digits=5, decimal_places=2, help_text="%")
    nrr_target = models.DecimalField(max_digits=6, decimal_places=2, help_text="%")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(team_manager__isnull=True) | Q(csm__isnull=True),
                                   name="retentiontarget_one_scope"),
            models.UniqueConstraint(fields=["tenant", "year", "quarter"],
                                    condition=Q(team_manager__isnull=True, csm__isnull=True),
                                    name="retentiontarget_tenant_unique"),
            models.UniqueConstraint(fields=["tenant", "year", "quarter", "team_manager"],
                                    condition=Q(team_manager__isnull=False), name="retentiontarget_team_unique"),
            models.UniqueConstraint(fields=["tenant", "year", "quarter", "csm"], condition=Q(csm__isnull=False),
                                    name="retentiontarget_csm_unique"),
        ]
        ordering = ["-year", "-quarter"]


class ProbabilityRule(TenantOwnedModel):
    """The tenant's probability table: a renewal's probability is its category's base, plus its stage's and its
    account's health band's adjustments, clamped to 0-100 (defaults in renewals/probability.py)."""

    class Dimension(models.TextChoices):
        CATEGORY = "category", "Forecast category (base %)"
        STAGE = "stage", "Stage (points added)"
        BAND = "band", "Health band (points added)"

    dimension = models.CharField(max_length=8, choices=Dimension.choices)
    key = models.CharField(max_length=20)
    points = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "dimension", "key"], name="probabilityrule_unique")]
        ordering = ["dimension", "key"]


class ForecastLine(TenantOwnedModel):
    """One open renewal as the forecast saw it on a day (the weekly movement compares two days' lines).

    The nightly job inserts a day's lines in one go, and every index is written per row: only the unique
    (tenant, day, renewal) and (tenant, day, close_date) indexes serve reads. The foreign keys keep their
    constraints and Django's on_delete, but not their single-column indexes (tenant's is covered by the
    composite ones; the others would only speed up deleting an account, renewal, user or segment, which scans
    the lines instead)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False)
    day = models.DateField()
    renewal = models.ForeignKey(RenewalOpportunity, on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    csm = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    segment = models.ForeignKey("accounts.Segment", null=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False)
    close_date = models.DateField()
    stage = models.CharField(max_length=12)
    category = models.CharField(max_length=10)
    band = models.CharField(max_length=6)
    current_arr = models.DecimalField(**MONEY)
    expected_arr = models.DecimalField(**MONEY)
    probability = models.DecimalField(max_digits=5, decimal_places=2)
    weighted_arr = models.DecimalField(**MONEY, help_text="expected ARR x probability")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "day", "renewal"], name="forecastline_unique")]
        indexes = [models.Index(fields=["tenant", "day", "close_date"])]


class ForecastSnapshot(TenantOwnedModel):
    """The forecast per day, close-date period (month or quarter), CSM and segment.

    Single-column foreign key indexes dropped, as for ForecastLine: reads go through (tenant, day, ...)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False)

    class Period(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"

    day = models.DateField()
    period_kind = models.CharField(max_length=7, choices=Period.choices)
    period_start = models.DateField()
    csm = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    segment = models.ForeignKey("accounts.Segment", null=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False)
    renewals = models.PositiveIntegerField(default=0)
    arr_up = models.DecimalField(**MONEY, default=ZERO, help_text="ARR up for renewal (open and closed)")
    committed = models.DecimalField(**MONEY, default=ZERO)
    best_case = models.DecimalField(**MONEY, default=ZERO)
    pipeline = models.DecimalField(**MONEY, default=ZERO)
    at_risk = models.DecimalField(**MONEY, default=ZERO)
    expected_churn = models.DecimalField(**MONEY, default=ZERO, help_text="Open: ARR x (1 - p); closed: actual")
    expected_contraction = models.DecimalField(**MONEY, default=ZERO)
    expected_expansion = models.DecimalField(**MONEY, default=ZERO)
    renewed = models.DecimalField(**MONEY, default=ZERO, help_text="Closed renewals' renewed ARR")

    class Meta:
        indexes = [models.Index(fields=["tenant", "day", "period_kind", "period_start"])]


class RenewalSettings(TenantOwnedModel):
    """Per tenant: how long before a contract ends its renewal opportunity opens."""

    lead_days = models.PositiveSmallIntegerField(default=120, validators=[MinValueValidator(1),
                                                                          MaxValueValidator(730)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="renewalsettings_one_per_tenant")]
        verbose_name_plural = "renewal settings"


class RetentionQuarter(TenantOwnedModel):
    """The GRR/NRR building blocks of each of the last fiscal quarters, per (CSM, segment), as measured on `day`
    by the nightly forecast job: the forecast page's trend sums these rows instead of reading every contract.
    The figures add up across groups (renewals.retention.RetentionRow); the current quarter is measured to `day`.
    A day's rows are replaced when it is recomputed; a week of days is kept."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False)
    day = models.DateField()
    quarter_start = models.DateField()
    csm = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    segment = models.ForeignKey("accounts.Segment", null=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False)
    accounts = models.PositiveIntegerField(default=0)
    starting_arr = models.DecimalField(**MONEY, default=ZERO)
    churn = models.DecimalField(**MONEY, default=ZERO)
    contraction = models.DecimalField(**MONEY, default=ZERO)
    expansion = models.DecimalField(**MONEY, default=ZERO)
    ending_arr = models.DecimalField(**MONEY, default=ZERO)
    new_arr = models.DecimalField(**MONEY, default=ZERO)
    churned_accounts = models.PositiveIntegerField(default=0)
    new_accounts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day", "quarter_start"])]
