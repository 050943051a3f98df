"""Writes for renewals: contracts (and the ARR they give), renewal and expansion opportunities, targets,
defaults. Keyword-only, one transaction each, inside the current tenant."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.timezones import business_day

from .arr import accounts_arr_refresh
from .models import (
    ChurnReason,
    Contract,
    ContractLine,
    ExpansionOpportunity,
    RenewalOpportunity,
    RenewalSettings,
)
from .periods import add_months
from .probability import probability_rules_ensure

ZERO = Decimal("0")
Outcome = RenewalOpportunity.Outcome
DEFAULT_CHURN_REASONS = [
    ("Budget cuts", ChurnReason.AppliesTo.BOTH),
    ("Poor adoption", ChurnReason.AppliesTo.BOTH),
    ("Missing features / product fit", ChurnReason.AppliesTo.BOTH),
    ("Price", ChurnReason.AppliesTo.BOTH),
    ("Switched to a competitor", ChurnReason.AppliesTo.CHURN),
    ("Champion or sponsor left", ChurnReason.AppliesTo.BOTH),
    ("Support or service issues", ChurnReason.AppliesTo.BOTH),
    ("Acquired or merged", ChurnReason.AppliesTo.CHURN),
    ("Went out of business", ChurnReason.AppliesTo.CHURN),
    ("Fewer seats needed", ChurnReason.AppliesTo.DOWNSELL),
]


@transaction.atomic
def renewals_defaults_ensure() -> None:
    tenant = current_tenant()
    RenewalSettings.objects.get_or_create(tenant=tenant)
    if not ChurnReason.objects.exists():
        ChurnReason.objects.bulk_create([ChurnReason(tenant=tenant, name=name, applies_to=applies, position=i)
                                         for i, (name, applies) in enumerate(DEFAULT_CHURN_REASONS)])
    probability_rules_ensure()


def _line(data: dict) -> ContractLine:
    quantity = Decimal(data.get("quantity", 1))
    unit_price = Decimal(data.get("unit_price", 0))
    arr = data.get("arr")
    line = ContractLine(product=data["product"], quantity=quantity, unit_price=unit_price,
                        arr=Decimal(arr) if arr is not None else (quantity * unit_price).quantize(Decimal("0.01")))
    return line


def _check_contract(contract: Contract) -> None:
    errors = {}
    if contract.end_date < contract.start_date:
        errors["end_date"] = "The contract cannot end before it starts."
    if (contract.status == Contract.Status.CANCELLED) != (contract.cancelled_on is not None):
        errors["cancelled_on"] = "A cancelled contract has a cancellation date, an active one none."
    if contract.external_id and Contract.objects.filter(external_id=contract.external_id).exclude(
            pk=contract.pk).exists():
        errors["external_id"] = f"Another contract has the external id {contract.external_id!r}."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def contract_save(*, account, lines: list[dict], contract: Contract | None = None, **fields) -> Contract:
    """Creates or replaces a contract with its lines; its ARR is the sum of the lines. Refreshes the account's
    ARR. `fields`: external_id, name, start_date, end_date, auto_renew, status, cancelled_on, renewal_of."""
    if not lines:
        raise ValidationError({"lines": "A contract needs at least one line (product, quantity, price or ARR)."})
    contract = contract or Contract(account=account)
    if contract.pk and contract.account_id != account.pk:
        raise ValidationError({"account": "A contract cannot move to another account."})
    contract.account = account
    for name, value in fields.items():
        setattr(contract, name, value)
    built = [_line(data) for data in lines]
    contract.arr = sum((line.arr for line in built), ZERO)
    # Field checks here, the table's constraints by hand: Django would run one query per constraint and line,
    # which made a 1,000-contract CRM sync take seconds.
    contract.full_clean(exclude=["account", "renewal_of"], validate_unique=False, validate_constraints=False)
    for line in built:
        line.full_clean(exclude=["contract"], validate_unique=False, validate_constraints=False)
    _check_contract(contract)
    contract.save()
    ContractLine.objects.filter(contract=contract).delete()
    for line in built:
        line.contract = contract
    ContractLine.objects.bulk_create(built)
    # An open renewal follows its contract's amount until someone forecasts otherwise.
    RenewalOpportunity.objects.filter(contract=contract).exclude(stage=RenewalOpportunity.Stage.CLOSED).update(
        current_arr=contract.arr, close_date=contract.end_date)
    accounts_arr_refresh(on=business_day(), account_ids=[account.pk])
    return contract


def renewals_open_due(*, day: date) -> int:
    """Opens the renewal of every active contract whose end date is within the tenant's lead days (and that ended
    less than 90 days ago, to catch up after an outage), once per contract: one INSERT ... SELECT."""
    settings, _ = RenewalSettings.objects.get_or_create(tenant=current_tenant())
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO renewals_renewalopportunity
                 (tenant_id, account_id, contract_id, owner_id, stage, category, current_arr, expected_arr,
                  close_date, outcome, reason_comment, created_at, updated_at)
               SELECT c.tenant_id, c.account_id, c.id, a.csm_id, 'not_started', 'pipeline', c.arr, c.arr,
                      c.end_date, '', '', %(now)s, %(now)s
               FROM renewals_contract c JOIN accounts_account a ON a.id = c.account_id AND a.tenant_id = c.tenant_id
               WHERE c.tenant_id = %(t)s AND c.status = 'active' AND a.status = 'active'
                 AND c.end_date <= %(horizon)s AND c.end_date >= %(catch_up)s
                 AND NOT EXISTS (SELECT 1 FROM renewals_contract n WHERE n.tenant_id = c.tenant_id
                                 AND n.renewal_of_id = c.id)
               ON CONFLICT (contract_id) DO NOTHING""",
            {"t": current_tenant().pk, "now": connection.ops.adapt_datetimefield_value(now),
             "horizon": day + timedelta(days=settings.lead_days), "catch_up": day - timedelta(days=90)})
        return max(cursor.rowcount, 0)


def _open_only(renewal: RenewalOpportunity) -> None:
    if renewal.stage == RenewalOpportunity.Stage.CLOSED:
        raise ValidationError({"stage": "This renewal is closed; its outcome can no longer change."})


@transaction.atomic
def renewal_update(*, renewal: RenewalOpportunity, **fields) -> RenewalOpportunity:
    """Stage, category, expected ARR, close date, owner of an open renewal (not closing: see renewal_close)."""
    _open_only(renewal)
    allowed = {"stage", "category", "expected_arr", "close_date", "owner"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "Not editable here." for name in unknown})
    if fields.get("stage") == RenewalOpportunity.Stage.CLOSED:
        raise ValidationError({"stage": "Close a renewal with its outcome."})
    for name, value in fields.items():
        setattr(renewal, name, value)
    renewal.full_clean(exclude=["account", "contract", "reason"])
    renewal.save()
    return renewal


@transaction.atomic
def renewal_close(*, renewal: RenewalOpportunity, outcome: str, renewed_arr: Decimal | None = None, reason=None,
                  reason_comment: str = "", closed_on: date | None = None) -> RenewalOpportunity:
    """Records the outcome. A renewal (flat, expansion, downsell) starts the next term as a new contract the
    day after the old one ends, for as long as the old one ran; a churn starts none. The amounts must match the
    outcome, and churn and downsell need a reason from the tenant's list."""
    _open_only(renewal)
    current = renewal.current_arr
    errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = "Pick an outcome."
    if outcome == Outcome.CHURNED:
        renewed_arr = ZERO
    elif outcome == Outcome.RENEWED_FLAT and renewed_arr is None:
        renewed_arr = current
    if renewed_arr is None:
        errors["renewed_arr"] = "Give the renewed ARR."
    elif renewed_arr < 0:
        errors["renewed_arr"] = "ARR cannot be negative."
    elif outcome == Outcome.RENEWED_FLAT and renewed_arr != current:
        errors["renewed_arr"] = f"A flat renewal renews the same ARR ({current})."
    elif outcome == Outcome.RENEWED_EXPANSION and renewed_arr <= current:
        errors["renewed_arr"] = f"An expansion renews more than {current}."
    elif outcome == Outcome.DOWNSELL and not (ZERO < renewed_arr < current):
        errors["renewed_arr"] = f"A downsell renews more than 0 and less than {current}."
    if outcome in (Outcome.CHURNED, Outcome.DOWNSELL):
        kind = "churn" if outcome == Outcome.CHURNED else "downsell"
        if reason is None:
            errors["reason"] = f"Pick the {kind} reason."
        elif reason.applies_to not in (ChurnReason.AppliesTo.BOTH, kind):
            errors["reason"] = f"{reason.name} is not a {kind} reason."
    else:
        reason = None
    if errors:
        raise ValidationError(errors)
    closed_on = closed_on or timezone.localdate()
    updated = RenewalOpportunity.objects.filter(pk=renewal.pk).exclude(stage=RenewalOpportunity.Stage.CLOSED).update(
        stage=RenewalOpportunity.Stage.CLOSED, outcome=outcome, renewed_arr=renewed_arr, reason=reason,
        reason_comment=reason_comment.strip(), closed_on=closed_on, updated_at=timezone.now(),
        credited_csm_id=renewal.account.csm_id)
    if updated != 1:  # compare-and-set: someone closed it meanwhile
        raise ValidationError({"stage": "This renewal was closed meanwhile."})
    renewal.refresh_from_db()
    if outcome != Outcome.CHURNED:
        old = renewal.contract
        months = max(1, round((old.end_date - old.start_date).days / 30.44))
        start = old.end_date + timedelta(days=1)
        contract_save(account=renewal.account, contract=None, external_id="", name=f"Renewal of {old}"[:200],
                      start_date=start, end_date=add_months(start, months) - timedelta(days=1),
                      auto_renew=old.auto_renew, renewal_of=old,
                      lines=[{"product": f"Renewal of {old}"[:120], "quantity": 1, "unit_price": renewed_arr}])
    return renewal


@transaction.atomic
def expansion_flag(*, account, by, product: str, amount: Decimal, expected_close: date,
                   kind: str = ExpansionOpportunity.Kind.UPSELL, notes: str = "") -> ExpansionOpportunity:
    """A CSM flags an upsell or cross-sell: they are its lead source; the account's CSM owns it."""
    expansion = ExpansionOpportunity(account=account, kind=kind, product=product.strip(), amount=amount,
                                     expected_close=expected_close, lead_source=by, owner=account.csm or by,
                                     notes=notes.strip())
    expansion.full_clean(exclude=["account"])
    expansion.save()
    return expansion


@transaction.atomic
def expansion_move(*, expansion: ExpansionOpportunity, stage: str, closed_on: date | None = None,
                   amount: Decimal | None = None, expected_close: date | None = None) -> ExpansionOpportunity:
    """Moves an open expansion. Won adds its ARR as a contract co-terminous with the account's current one (or a
    year), from the day it was won; lost just closes it. Closed expansions do not move again."""
    if expansion.stage in (ExpansionOpportunity.Stage.WON, ExpansionOpportunity.Stage.LOST):
        raise ValidationError({"stage": "This expansion is closed."})
    if stage not in ExpansionOpportunity.Stage.values:
        raise ValidationError({"stage": "Pick a stage."})
    if amount is not None:
        expansion.amount = amount
    if expected_close is not None:
        expansion.expected_close = expected_close
    closing = stage in (ExpansionOpportunity.Stage.WON, ExpansionOpportunity.Stage.LOST)
    expansion.stage = stage
    expansion.closed_on = (closed_on or timezone.localdate()) if closing else None
    expansion.full_clean(exclude=["account"])
    expansion.save()
    if stage == ExpansionOpportunity.Stage.WON and expansion.amount > 0:
        start = expansion.closed_on
        current = (Contract.objects.filter(account=expansion.account, status=Contract.Status.ACTIVE,
                                           start_date__lte=start, end_date__gte=start)
                   .order_by("-end_date").first())
        end = current.end_date if current else add_months(start, 12) - timedelta(days=1)
        contract_save(account=expansion.account, external_id="",
                      name=f"{expansion.get_kind_display()}: {expansion.product}"[:200], start_date=start,
                      end_date=end, auto_renew=bool(current and current.auto_renew),
                      lines=[{"product": expansion.product, "quantity": 1, "unit_price": expansion.amount}])
    return expansion


def open_opportunities_follow_csm(*, account_ids, to_user) -> dict[str, int]:
    """Gives the accounts' open renewals and open expansions owned by the account's current CSM to `to_user`
    (a reassignment; call it before the accounts change CSM). On an account without a CSM, its open
    opportunities without an owner move. Closed ones keep their owner (and renewals their credited CSM).

    Two UPDATEs. Returns {"renewals": n, "expansions": m}."""
    ids = list(account_ids)
    previous_csm = Q(owner_id=F("account__csm_id")) | Q(owner__isnull=True, account__csm__isnull=True)
    renewals = (RenewalOpportunity.objects.filter(previous_csm, account_id__in=ids)
                .exclude(stage=RenewalOpportunity.Stage.CLOSED).update(owner=to_user, updated_at=timezone.now()))
    expansions = (ExpansionOpportunity.objects.filter(previous_csm, account_id__in=ids,
                                                      stage__in=ExpansionOpportunity.OPEN_STAGES)
                  .update(owner=to_user, updated_at=timezone.now()))
    return {"renewals": renewals, "expansions": expansions}


def forecast_refresh_soon(*, tenant) -> bool:
    """After accounts change CSM: reruns today's forecast (lines and snapshots carry the account's CSM) once the
    transaction commits, if the nightly job already wrote today's; otherwise tonight's run is the first.
    The job is idempotent per (tenant, day) and set-based (0.2 s for an 18,500-account tenant, docs/benchmarks.md).
    Returns whether a run was queued."""
    from csplatform.jobs.queue import publish_on_commit
    from csplatform.jobs.tasks import run_job_for_tenant

    from .forecast import JOB_NAME
    from .models import ForecastLine

    today = business_day()  # the forecast job's day, whatever zone the request activated
    if not ForecastLine.objects.filter(day=today).exists():
        return False
    publish_on_commit(run_job_for_tenant, (JOB_NAME, tenant.pk, today.isoformat(), "reassign"))
    return True
