"""Demo renewals: about two years of contracts per account, every past term renewed (flat, with expansion,
downsold) or churned with a reason, open renewals in the lead window with their stage and category,
expansion leads flagged by the CSMs (some won, some lost), and quarterly retention targets.
Called by `manage.py seed_demo` inside the tenant's context, after the health demo (bands exist).

- Stable: every choice comes from `random.Random(tenant.slug)`; only the dates move with today.
- Idempotent: a tenant that already has contracts is left alone.
- Through the services, so ARR, next terms and Account.arr follow the same rules as in use.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Account

from .forecast import forecast_compute
from .models import ChurnReason, Contract, ExpansionOpportunity, RenewalOpportunity, RetentionTarget
from .periods import fiscal_quarter, last_quarters
from .services import (
    contract_save,
    expansion_flag,
    expansion_move,
    renewal_close,
    renewals_defaults_ensure,
    renewals_open_due,
)

PRICE_PER_SEAT = {"Enterprise": (95, 140), "Mid-Market": (120, 180), "SMB": (150, 240)}
ADD_ONS = ["Analytics add-on", "Premium support", "Sandbox environment", "SSO and audit log", "Data warehouse sync",
           "Extra workspace"]
CENT = Decimal("0.01")


def seed(*, tenant, people) -> dict:
    if Contract.objects.exists():
        return {}
    with transaction.atomic():
        return _Seeder(tenant=tenant, people=people).run()


class _Seeder:
    def __init__(self, *, tenant, people):
        self.rng = random.Random(f"renewals-{tenant.slug}")
        self.tenant = tenant
        self.people = people
        self.today = timezone.localdate()
        renewals_defaults_ensure()
        self.reasons = list(ChurnReason.objects.order_by("position"))
        self.accounts = list(Account.objects.select_related("segment").order_by("pk"))

    def run(self) -> dict:
        closed = sum(self._history(account) for account in self.accounts)
        opened = renewals_open_due(day=self.today)
        self._shape_open_renewals()
        # Last week's forecast, then the week's changes, so the forecast call has movement to review (the nightly
        # run that seed_demo starts writes today's).
        forecast_compute(tenant=self.tenant, day=self.today - timedelta(days=7))
        self._week_of_changes()
        expansions = self._expansions()
        targets = self._targets()
        return {"contracts": Contract.objects.count(), "renewals_closed": closed, "renewals_open": opened,
                "expansions": expansions, "targets": targets}

    def _reason(self, kind: str):
        fits = [r for r in self.reasons if r.applies_to in ("both", kind)]
        return self.rng.choice(fits)

    def _history(self, account) -> int:
        rng = self.rng
        low, high = PRICE_PER_SEAT.get(account.segment.name if account.segment else "", (120, 200))
        arr = Decimal(max(account.licensed_seats, 5) * rng.randint(low, high)).quantize(Decimal("100"))
        churned = account.status == Account.Status.CHURNED
        ends_by = account.churn_date if churned else None
        # Terms of a year, the first one starting 1-2 years ago; churned accounts' last term ends on the churn date.
        start = (ends_by or self.today) - timedelta(days=rng.randint(420, 760))
        if ends_by:
            start = ends_by - timedelta(days=365 * rng.randint(1, 2)) + timedelta(days=1)
        contract = contract_save(
            account=account, external_id=f"{account.external_id or account.pk}-C1", name=f"{account.name} subscription",
            start_date=start, end_date=start + timedelta(days=364), auto_renew=rng.random() < 0.3,
            lines=[{"product": "Platform seats", "quantity": max(account.licensed_seats, 5),
                    "unit_price": (arr / max(account.licensed_seats, 5)).quantize(CENT)}])
        closed = 0
        while contract.end_date < self.today:
            renewal = self._renewal_of(contract)
            closed_on = contract.end_date - timedelta(days=rng.randint(0, 25))
            current = renewal.current_arr
            if ends_by and contract.end_date >= ends_by:
                renewal_close(renewal=renewal, outcome="churned", reason=self._reason("churn"), closed_on=closed_on,
                              reason_comment=rng.choice(["", "Budget frozen for the year.", "Chose an in-house tool."]))
                return closed + 1
            roll = rng.random()
            if roll < 0.55:
                renewal_close(renewal=renewal, outcome="renewed_flat", closed_on=closed_on)
            elif roll < 0.85:
                renewal_close(renewal=renewal, outcome="renewed_expansion", closed_on=closed_on,
                              renewed_arr=(current * Decimal(rng.uniform(1.05, 1.3))).quantize(Decimal("100")))
            else:
                renewal_close(renewal=renewal, outcome="downsell", reason=self._reason("downsell"),
                              closed_on=closed_on,
                              renewed_arr=(current * Decimal(rng.uniform(0.6, 0.9))).quantize(Decimal("100")))
            closed += 1
            contract = Contract.objects.get(renewal_of=contract)
        return closed

    def _renewal_of(self, contract):
        """The renewal the nightly job opened when this past term entered its lead window. Replayed here: the job
        skips accounts that have churned since, and their past terms had renewals too."""
        existing = RenewalOpportunity.objects.filter(contract=contract).first()
        if existing:
            return existing
        return RenewalOpportunity.objects.create(
            account=contract.account, contract=contract, owner_id=contract.account.csm_id,
            current_arr=contract.arr, expected_arr=contract.arr, close_date=contract.end_date)

    def _shape_open_renewals(self) -> None:
        """Stages and categories a team would have set, a little worse where the account is slipping."""
        from health.models import HealthScore  # renewals reads health (it sits above it)

        bands = dict(HealthScore.objects.filter(day=self.today).values_list("account_id", "band"))
        for renewal in RenewalOpportunity.objects.exclude(stage="closed").select_related("account"):
            band = bands.get(renewal.account_id, "none")
            days_left = (renewal.close_date - self.today).days
            if band == "red":
                category, stage = self.rng.choice([("at_risk", "engaged"), ("at_risk", "proposal"),
                                                   ("pipeline", "engaged")])
            elif days_left < 45:
                category, stage = self.rng.choice([("commit", "verbal"), ("commit", "proposal"),
                                                   ("best_case", "proposal")])
            else:
                category, stage = self.rng.choice([("pipeline", "not_started"), ("best_case", "engaged"),
                                                   ("pipeline", "engaged")])
            change = Decimal(self.rng.choice([1, 1, 1, 1.1, 0.9]))
            RenewalOpportunity.objects.filter(pk=renewal.pk).update(
                category=category, stage=stage, expected_arr=(renewal.current_arr * change).quantize(Decimal("100")))

    def _week_of_changes(self) -> None:
        open_renewals = list(RenewalOpportunity.objects.exclude(stage="closed").order_by("close_date", "pk"))
        picks = self.rng.sample(open_renewals, min(5, len(open_renewals)))
        for renewal, change in zip(picks, ["at_risk", "slip", "amount", "commit", "at_risk"], strict=False):
            if change == "at_risk":
                RenewalOpportunity.objects.filter(pk=renewal.pk).update(category="at_risk", stage="engaged")
            elif change == "slip":
                RenewalOpportunity.objects.filter(pk=renewal.pk).update(close_date=renewal.close_date
                                                                        + timedelta(days=30))
            elif change == "amount":
                RenewalOpportunity.objects.filter(pk=renewal.pk).update(
                    expected_arr=(renewal.expected_arr * Decimal("0.8")).quantize(Decimal("100")))
            else:
                RenewalOpportunity.objects.filter(pk=renewal.pk).update(category="commit", stage="verbal")

    def _expansions(self) -> int:
        active = [a for a in self.accounts if a.status == Account.Status.ACTIVE and a.csm_id]
        count = 0
        for account in self.rng.sample(active, min(len(active), 14)):
            amount = Decimal(self.rng.choice([2400, 4800, 6000, 9600, 12000, 18000]))
            flagged = expansion_flag(account=account, by=account.csm, product=self.rng.choice(ADD_ONS),
                                     amount=amount, kind=self.rng.choice(["upsell", "cross_sell"]),
                                     expected_close=self.today + timedelta(days=self.rng.randint(-20, 120)))
            ExpansionOpportunity.objects.filter(pk=flagged.pk).update(
                created_at=timezone.now() - timedelta(days=self.rng.randint(5, 200)))
            roll = self.rng.random()
            if roll < 0.3:
                expansion_move(expansion=flagged, stage="won",
                               closed_on=self.today - timedelta(days=self.rng.randint(1, 150)))
            elif roll < 0.45:
                expansion_move(expansion=flagged, stage="lost",
                               closed_on=self.today - timedelta(days=self.rng.randint(1, 150)))
            else:
                expansion_move(expansion=flagged, stage=self.rng.choice(["qualified", "proposal", "negotiation"]))
            count += 1
        return count

    def _targets(self) -> int:
        quarters = last_quarters(self.tenant, 6, self.today)
        following = fiscal_quarter(self.tenant, quarters[-1].end + timedelta(days=1))
        rows = [RetentionTarget(year=q.year, quarter=q.quarter, grr_target=Decimal("92"), nrr_target=Decimal("104"))
                for q in [*quarters, following]]
        RetentionTarget.objects.bulk_create(rows)
        return len(rows)

