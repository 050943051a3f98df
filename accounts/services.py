"""Writes for the book of business. Keyword-only, one transaction each, inside the current tenant."""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from csplatform.notifications.models import Notification
from csplatform.notifications.paths import tenant_path
from csplatform.notifications.services import notification_send
from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.models import Membership

from .models import (
    DEFAULT_SEGMENTS,
    DEFAULT_STAGES,
    Account,
    Activity,
    ActivityContact,
    Contact,
    Escalation,
    EscalationEvent,
    LifecycleStage,
    Segment,
)


def defaults_ensure() -> None:
    """A new tenant starts with the usual lifecycle stages and segments; ops rename or extend them."""
    if not LifecycleStage.objects.exists():
        LifecycleStage.objects.bulk_create(
            [LifecycleStage(name=name, position=i) for i, name in enumerate(DEFAULT_STAGES)]
        )
    if not Segment.objects.exists():
        Segment.objects.bulk_create([Segment(name=name, position=i) for i, name in enumerate(DEFAULT_SEGMENTS)])


def stage_entries_record(*, account_ids=None) -> list[int]:
    """Registers accounts whose stage changed since last recorded, and announces their entry.

    One UPDATE, whatever wrote the stage (form, API, bulk upsert, import). Saving the same stage again
    is no entry, so stage playbooks apply once per entry. Returns the ids of the accounts that entered.
    """
    changed = Account.objects.filter(
        Q(stage__isnull=False, stage_recorded__isnull=True)
        | Q(stage__isnull=True, stage_recorded__isnull=False)
        | (Q(stage__isnull=False) & ~Q(stage_id=F("stage_recorded_id")))
    )
    if account_ids is not None:
        changed = changed.filter(pk__in=account_ids)
    entered = list(changed.values_list("pk", flat=True))
    if entered:
        Account.objects.filter(pk__in=entered).update(stage_recorded=F("stage"), stage_entered_at=timezone.now())
        from .signals import stage_entered

        stage_entered.send(sender=Account, account_ids=entered)
    return entered


def _touch(*, account_id: int, contact_ids: list[int], at: datetime) -> None:
    """Moves 'last touch' and 'last engaged' forward (never back) with two set-based UPDATEs."""
    Account.objects.filter(pk=account_id).filter(Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=at)).update(
        last_touch_at=at
    )
    if contact_ids:
        Contact.objects.filter(pk__in=contact_ids).update(
            last_engaged_at=Greatest(F("last_engaged_at"), at)
        )
        Contact.objects.filter(pk__in=contact_ids, last_engaged_at__isnull=True).update(last_engaged_at=at)


@transaction.atomic
def activity_log(
    *,
    account: Account,
    by,
    kind: str,
    subject: str,
    occurred_at: datetime | None = None,
    body: str = "",
    outcome: str = "",
    next_step: str = "",
    next_step_due=None,
    minutes_spent: int = 0,
    contacts=(),
    external_id: str = "",
) -> Activity:
    contacts = list(contacts)
    foreign = [c for c in contacts if c.account_id != account.pk]
    if foreign:
        raise ValueError(f"{', '.join(c.name for c in foreign)} do not belong to {account.name}")
    activity = Activity(
        account=account, logged_by=by, kind=kind, subject=subject, occurred_at=occurred_at or timezone.now(),
        body=body, outcome=outcome, next_step=next_step, next_step_due=next_step_due,
        minutes_spent=minutes_spent or 0, external_id=external_id,
    )
    activity.full_clean(exclude=["tenant", "logged_by"])
    activity.save()
    ActivityContact.objects.bulk_create([ActivityContact(activity=activity, contact=c) for c in contacts])
    _touch(account_id=account.pk, contact_ids=[c.pk for c in contacts], at=activity.occurred_at)
    return activity


def next_step_complete(*, activity: Activity) -> bool:
    return Activity.objects.filter(pk=activity.pk, next_step_done=False).update(next_step_done=True) == 1


@transaction.atomic
def escalation_open(
    *, account: Account, by, title: str, severity: str, description: str = "", escalated_to=None, owner=None
) -> Escalation:
    now = timezone.now()
    escalation = Escalation(
        account=account, title=title, description=description, severity=severity, owner=owner or by,
        escalated_to=escalated_to, opened_at=now,
    )
    escalation.full_clean(exclude=["tenant", "owner", "escalated_to"])
    escalation.save()
    EscalationEvent.objects.create(escalation=escalation, at=now, by=by, from_status="", to_status=escalation.status)
    _escalation_notify(escalation=escalation, by=by, key="opened",
                       title=f"Escalation at {account.name}: {escalation.title}",
                       body=f"{escalation.get_severity_display()} severity, opened by {by}.")
    return escalation


def _escalation_notify(*, escalation: Escalation, by, key: str, title: str, body: str) -> None:
    """The account's CSM, the CSM's manager, whoever it was escalated to and its owner hear of it in the bell;
    never the person who did it. Two queries (the account's CSM's manager, the insert)."""
    account = escalation.account
    manager_id = None
    if account.csm_id:
        manager_id = (Membership.objects.filter(tenant_id=account.tenant_id, user_id=account.csm_id)
                      .values_list("manager_id", flat=True).first())
    notification_send(
        tenant=current_tenant(), recipients=[account.csm_id, manager_id, escalation.escalated_to_id,
                                             escalation.owner_id],
        kind=Notification.Kind.ESCALATION, title=title, body=body, actor=by,
        url=tenant_path("accounts:escalation", escalation_id=escalation.pk),
        source_key=f"escalation:{escalation.pk}:{key}")


class StaleEscalation(Exception):
    """Someone else moved the escalation first; the page should reload it."""


@transaction.atomic
def escalation_move(*, escalation: Escalation, by, to_status: str, note: str = "", resolution: str = "") -> Escalation:
    if to_status not in Escalation.Status.values:
        raise ValueError(f"Unknown status {to_status!r}")
    if to_status == escalation.status:
        return escalation
    if to_status == Escalation.Status.RESOLVED and not (resolution or escalation.resolution):
        raise ValueError("Say how it was resolved.")
    now = timezone.now()
    fields = {"status": to_status, "closed_at": now if to_status == Escalation.Status.RESOLVED else None}
    if resolution:
        fields["resolution"] = resolution
    # Compare-and-set on the status the user saw, so two people moving it at once cannot both win.
    if Escalation.objects.filter(pk=escalation.pk, status=escalation.status).update(**fields) != 1:
        raise StaleEscalation("This escalation was changed meanwhile; reload it.")
    event = EscalationEvent.objects.create(
        escalation=escalation, at=now, by=by, from_status=escalation.status, to_status=to_status, note=note
    )
    escalation.refresh_from_db()
    _escalation_notify(escalation=escalation, by=by, key=f"event:{event.pk}",
                       title=f"Escalation at {escalation.account.name} now {escalation.get_status_display()}",
                       body=f"{escalation.title}, moved by {by}." + (f" {note}" if note else ""))
    return escalation


@transaction.atomic
def activity_update(*, activity: Activity, contacts=None, **fields) -> Activity:
    """Edits a logged activity; `contacts`, when given, replaces who took part."""
    for name, value in fields.items():
        setattr(activity, name, value)
    if fields:
        # Only the fields sent: a full save could undo a concurrent edit of the others.
        activity.save(update_fields=list(fields))
    contact_ids = []
    if contacts is not None:
        activity.contacts.set(contacts)
        contact_ids = [c.pk for c in contacts]
    if "occurred_at" in fields or contact_ids:
        # Same rule as logging: 'last touch' and 'last engaged' move forward, never back.
        _touch(account_id=activity.account_id, contact_ids=contact_ids, at=activity.occurred_at)
    return activity


@transaction.atomic
def accounts_bulk_upsert(*, rows: list[dict], existing: dict[str, Account]) -> tuple[int, int]:
    """Creates or updates accounts by external id; `existing` maps external ids to rows locked for update.

    A row's absent fields keep their current value. Returns (created, updated).
    """
    new, changed, fields = [], [], set()
    now = timezone.now()
    for row in rows:
        account = existing.get(row["external_id"])
        if account is None:
            new.append(Account(**row))
            continue
        for name, value in row.items():
            setattr(account, name, value)
        account.updated_at = now  # bulk_update skips auto_now
        fields |= row.keys()
        changed.append(account)
    Account.objects.bulk_create(new)
    if changed:
        Account.objects.bulk_update(changed, sorted(fields | {"updated_at"}), batch_size=500)
    stage_entries_record(account_ids=[a.pk for a in new] + [a.pk for a in changed])
    return len(new), len(changed)


def accounts_csm_set(*, account_ids, csm) -> int:
    """Gives accounts a new CSM (`csm` None: unassigned) in one UPDATE ... WHERE id IN (a reassignment: the caller
    locked the rows, moves what follows the CSM first and records the trail). Returns the accounts changed."""
    return Account.objects.filter(pk__in=list(account_ids)).update(csm=csm, updated_at=timezone.now())
