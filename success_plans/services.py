"""Writes for success plans. Keyword-only, one transaction each, inside the current tenant."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import (
    Advocacy,
    BusinessReview,
    Decision,
    Goal,
    GoalUpdate,
    ProcessDoc,
    ReviewContact,
    ReviewUser,
    SuccessPlan,
    Task,
    ValueRealised,
)


def _same_account(account, *contacts):
    foreign = [c.name for c in contacts if c is not None and c.account_id != account.pk]
    if foreign:
        raise ValidationError(f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not at {account.name}.")


@transaction.atomic
def goal_create(*, plan: SuccessPlan, by, title: str, measure: str, baseline: Decimal, target: Decimal,
                due_date: date, unit: str = "", start_date: date | None = None, approved_by=None,
                approved_on: date | None = None) -> Goal:
    _same_account(plan.account, approved_by)
    today = timezone.localdate()
    goal = Goal(plan=plan, account_id=plan.account_id, title=title, measure=measure, unit=unit, baseline=baseline,
                target=target, current_value=baseline, current_as_of=start_date or today,
                start_date=start_date or today, due_date=due_date, approved_by=approved_by,
                approved_on=(approved_on or today) if approved_by else None, created_by=by)
    goal.full_clean(exclude=["tenant", "created_by"])
    goal.save()
    GoalUpdate.objects.create(goal=goal, value=baseline, as_of=goal.start_date, note="Baseline", by=by)
    return goal


@transaction.atomic
def goal_progress_update(*, goal: Goal, by, value: Decimal, as_of: date | None = None, note: str = "") -> GoalUpdate:
    """Records a reading; the goal's current value is the latest reading by date (a late entry for an
    earlier date goes into the history without replacing a newer value)."""
    as_of = as_of or timezone.localdate()
    if as_of > timezone.localdate():
        raise ValidationError({"as_of": "A reading cannot be dated in the future."})
    update = GoalUpdate.objects.create(goal=goal, value=value, as_of=as_of, note=note, by=by)
    Goal.objects.filter(pk=goal.pk, current_as_of__lte=as_of).update(current_value=value, current_as_of=as_of)
    goal.refresh_from_db()
    return update


def goal_approve(*, goal: Goal, contact, on: date | None = None) -> Goal:
    _same_account(goal.account, contact)
    Goal.objects.filter(pk=goal.pk).update(approved_by=contact, approved_on=on or timezone.localdate())
    goal.refresh_from_db()
    return goal


def goal_status_override(*, goal: Goal, status: str, reason: str) -> Goal:
    """Sets (or with status '' clears) a person's judgement over the derived status; a reason is required."""
    if status and status not in Goal.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if status and not reason.strip():
        raise ValidationError({"override_reason": "Say why the status differs from what the numbers show."})
    Goal.objects.filter(pk=goal.pk).update(status_override=status, override_reason=reason.strip() if status else "")
    goal.refresh_from_db()
    return goal


@transaction.atomic
def value_record(*, account, by, kind: str, amount: Decimal, realised_on: date, how_measured: str, plan=None,
                 goal=None, validated_by=None, validated_on: date | None = None) -> ValueRealised:
    _same_account(account, validated_by)
    if goal is not None and goal.account_id != account.pk:
        raise ValidationError({"goal": "That goal belongs to another account."})
    value = ValueRealised(account=account, plan=plan or (goal.plan if goal else None), goal=goal, kind=kind,
                          amount=amount, realised_on=realised_on, how_measured=how_measured,
                          validated_by=validated_by,
                          validated_on=(validated_on or timezone.localdate()) if validated_by else None,
                          recorded_by=by)
    value.full_clean(exclude=["tenant", "recorded_by"])
    value.save()
    return value


def task_complete(*, task: Task) -> bool:
    """Compare-and-set: only an open task is completed, once."""
    return Task.objects.filter(pk=task.pk, status=Task.Status.OPEN).update(
        status=Task.Status.DONE, completed_at=timezone.now()) == 1


def recovery_tasks_open(*, tasks: list[dict]) -> list[Task]:
    """Opens risk-recovery tasks in one INSERT (health alerts). Each dict: account_id, owner_id, title,
    description, due_date."""
    return Task.objects.bulk_create([
        Task(type=Task.Type.RISK_RECOVERY, source=Task.Source.HEALTH_ALERT, priority=Task.Priority.HIGH, **fields)
        for fields in tasks
    ])


@transaction.atomic
def review_create(*, account, kind: str, held_on: date, agenda: str = "", notes: str = "", plan=None,
                  contacts=(), users=()) -> BusinessReview:
    contacts = list(contacts)
    _same_account(account, *contacts)
    review = BusinessReview(account=account, plan=plan, kind=kind, held_on=held_on, agenda=agenda, notes=notes)
    review.full_clean(exclude=["tenant"])
    review.save()
    ReviewContact.objects.bulk_create([ReviewContact(review=review, contact=c) for c in contacts])
    ReviewUser.objects.bulk_create([ReviewUser(review=review, user=u) for u in users])
    return review


def decision_add(*, review: BusinessReview, text: str, owner=None, owner_contact=None,
                 due_date: date | None = None) -> Decision:
    _same_account(review.account, owner_contact)
    decision = Decision(review=review, account_id=review.account_id, text=text, owner=owner,
                        owner_contact=owner_contact, due_date=due_date)
    decision.full_clean(exclude=["tenant", "owner"])
    decision.save()
    return decision


def decision_close(*, decision: Decision, status: str) -> bool:
    if status not in (Decision.Status.DONE, Decision.Status.DROPPED):
        raise ValidationError({"status": "A decision is closed as done or dropped."})
    return Decision.objects.filter(pk=decision.pk, status=Decision.Status.OPEN).update(
        status=status, closed_at=timezone.now()) == 1


def advocacy_record(*, account, by, kind: str, happened_on: date, status: str = Advocacy.Status.COMPLETED,
                    contact=None, notes: str = "") -> Advocacy:
    _same_account(account, contact)
    advocacy = Advocacy(account=account, contact=contact, kind=kind, status=status, happened_on=happened_on,
                        notes=notes, captured_by=by)
    advocacy.full_clean(exclude=["tenant", "captured_by"])
    advocacy.save()
    return advocacy


def processdoc_approve(*, doc: ProcessDoc, by) -> bool:
    """Compare-and-set from draft; an author cannot approve their own document."""
    if doc.author_id == by.pk:
        raise ValidationError("Someone other than the author approves a process document.")
    return ProcessDoc.objects.filter(pk=doc.pk, status=ProcessDoc.Status.DRAFT).update(
        status=ProcessDoc.Status.APPROVED, approved_by=by, approved_at=timezone.now()) == 1


@transaction.atomic
def review_update(*, review: BusinessReview, kind: str, held_on: date, agenda: str, notes: str, contacts,
                  users) -> BusinessReview:
    """Edits a review after the meeting (notes, attendees); its decision log is untouched."""
    contacts = list(contacts)
    _same_account(review.account, *contacts)
    review.kind, review.held_on, review.agenda, review.notes = kind, held_on, agenda, notes
    review.full_clean(exclude=["tenant"])
    review.save(update_fields=["kind", "held_on", "agenda", "notes"])
    ReviewContact.objects.filter(review=review).delete()
    ReviewUser.objects.filter(review=review).delete()
    ReviewContact.objects.bulk_create([ReviewContact(review=review, contact=c) for c in contacts])
    ReviewUser.objects.bulk_create([ReviewUser(review=review, user=u) for u in users])
    return review


def open_tasks_follow_csm(*, account_ids, to_user) -> dict[int, int]:
    """Moves the open tasks that the accounts' current CSM owns on those accounts to `to_user` (a reassignment;
    call it before the accounts change CSM). On an account without a CSM, its open tasks without an owner move.
    Done and cancelled tasks, and open tasks of anyone else, stay as they are.

    One SELECT ... FOR UPDATE of the tasks and one UPDATE. Returns {account_id: tasks moved}."""
    tasks = Task.objects.filter(account_id__in=list(account_ids), status=Task.Status.OPEN).filter(
        Q(owner_id=F("account__csm_id")) | Q(owner__isnull=True, account__csm__isnull=True))
    found = list(tasks.select_for_update(of=("self",)).values_list("pk", "account_id"))
    if not found:
        return {}
    Task.objects.filter(pk__in=[pk for pk, _ in found], status=Task.Status.OPEN).update(owner=to_user)
    moved: dict[int, int] = {}
    for _, account_id in found:
        moved[account_id] = moved.get(account_id, 0) + 1
    return moved
