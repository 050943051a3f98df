"""Writes for success plans. Keyword-only, one transaction each, inside the current tenant."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from csplatform.notifications.models import Notification
from csplatform.notifications.paths import tenant_path, tenant_path_around
from csplatform.notifications.services import notification_send, notifications_insert
from csplatform.tenancy.context import current_tenant

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


@transaction.atomic
def task_create(*, account, by, **fields) -> Task:
    """Adds a task on the account; its owner, when someone else, is notified."""
    task = Task(account=account, **fields)
    task.full_clean(exclude=["tenant"])
    task.save()
    task_assigned_notify(task=task, by=by)
    return task


def task_assigned_notify(*, task: Task, by=None) -> int:
    """Tells the task's owner it is theirs (once per task and owner; not when they gave it to themselves). Call it
    after creating a task or changing its owner, inside the same transaction."""
    if task.owner_id is None or task.status != Task.Status.OPEN:
        return 0
    due = f", due {task.due_date:%Y-%m-%d}" if task.due_date else ""
    return notification_send(
        tenant=current_tenant(), recipients=[task.owner_id], kind=Notification.Kind.TASK_ASSIGNED,
        title=f"New task: {task.title}", body=f"{task.account.name}{due}", actor=by,
        url=tenant_path("accounts:detail", account_id=task.account_id),
        source_key=f"task:{task.pk}:assigned:{task.owner_id}")


def _account_url_sql(account_column: str) -> Concat:
    before, after = tenant_path_around("accounts:detail", "account_id")
    return Concat(Value(before), Cast(account_column, CharField()), Value(after))


def tasks_assigned_notify(*, tasks, by=None) -> int:
    """Set-based `task_assigned_notify` for many tasks (a reassignment): one INSERT ... SELECT."""
    rows = tasks.filter(status=Task.Status.OPEN, owner__isnull=False).annotate(
        n_recipient=F("owner_id"), n_title=Concat(Value("New task: "), "title"), n_body=F("account__name"),
        n_url=_account_url_sql("account_id"),
        n_source=Concat(Value("task:"), Cast("id", CharField()), Value(":assigned:"), Cast("owner_id", CharField())))
    return notifications_insert(kind=Notification.Kind.TASK_ASSIGNED, rows=rows, actor=by)


# A task that fell due more than this long ago when the job first saw it (the feature's first night, a long
# outage) is left to My work: a bell full of old news helps nobody.
OVERDUE_NOTICE_DAYS = 7


def overdue_tasks_notify(*, day: date) -> int:
    """Tells each owner about their open tasks that became overdue by `day` (due in the week before it), once
    per task: one INSERT ... SELECT, so a rerun adds nothing. The nightly job success_plans.overdue_notices."""
    rows = Task.objects.filter(
        status=Task.Status.OPEN, owner__isnull=False, due_date__lt=day,
        due_date__gte=day - timedelta(days=OVERDUE_NOTICE_DAYS),
    ).annotate(
        n_recipient=F("owner_id"), n_title=Concat(Value("Overdue: "), "title"),
        n_body=Concat("account__name", Value(", was due "), Cast("due_date", CharField())),
        n_url=_account_url_sql("account_id"),
        n_source=Concat(Value("task:"), Cast("id", CharField()), Value(":overdue")))
    return notifications_insert(kind=Notification.Kind.TASK_OVERDUE, rows=rows)


def playbook_tasks_notify(*, run_ids=None, created_at=None, by=None) -> int:
    """One notification per playbook run and task owner ("Playbook Onboarding at Acme: 4 tasks for you"), for the
    runs `run_ids` or the playbook tasks created at `created_at` (one set-based apply). One INSERT ... SELECT."""
    tenant_id = current_tenant().pk
    before, after = tenant_path_around("accounts:detail", "account_id")
    params = {"t": tenant_id, "before": before, "after": after, "at": created_at}
    if run_ids is not None:
        if not run_ids:
            return 0
        which = "AND t.playbook_run_id IN (" + ", ".join(str(int(i)) for i in run_ids) + ")"
    elif created_at is not None:
        which = "AND t.created_at = %(at)s"
    else:
        raise ValueError("Say which runs: run_ids or created_at.")
    sql = f"""
        SELECT t.owner_id AS recipient_id,
               'Playbook ' || p.name || ' at ' || a.name AS title,
               CAST(COUNT(*) AS TEXT) || CASE WHEN COUNT(*) = 1 THEN ' task' ELSE ' tasks' END || ' for you'
                 || COALESCE(', the first due ' || CAST(MIN(t.due_date) AS TEXT), '') AS body,
               %(before)s || CAST(a.id AS TEXT) || %(after)s AS url,
               'playbookrun:' || CAST(r.id AS TEXT) AS source_key
        FROM success_plans_task t
        JOIN success_plans_playbookrun r ON r.tenant_id = t.tenant_id AND r.id = t.playbook_run_id
        JOIN success_plans_playbook p ON p.tenant_id = r.tenant_id AND p.id = r.playbook_id
        JOIN accounts_account a ON a.tenant_id = t.tenant_id AND a.id = t.account_id
        WHERE t.tenant_id = %(t)s AND t.source = 'playbook' AND t.status = 'open' AND t.owner_id IS NOT NULL {which}
        GROUP BY t.owner_id, r.id, p.name, a.id, a.name"""
    return notifications_insert(kind=Notification.Kind.TASK_ASSIGNED, rows=sql, params=params, actor=by)


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


def open_tasks_follow_csm(*, account_ids, to_user, by=None) -> dict[int, int]:
    """Moves the open tasks that the accounts' current CSM owns on those accounts to `to_user` (a reassignment;
    call it before the accounts change CSM). On an account without a CSM, its open tasks without an owner move.
    Done and cancelled tasks, and open tasks of anyone else, stay as they are. `to_user` is notified of each task
    moved to them, unless they are `by`, who moved them.

    One SELECT ... FOR UPDATE of the tasks, one UPDATE, one INSERT of notifications. Returns {account_id: moved}."""
    tasks = Task.objects.filter(account_id__in=list(account_ids), status=Task.Status.OPEN).filter(
        Q(owner_id=F("account__csm_id")) | Q(owner__isnull=True, account__csm__isnull=True))
    found = list(tasks.select_for_update(of=("self",)).values_list("pk", "account_id"))
    if not found:
        return {}
    Task.objects.filter(pk__in=[pk for pk, _ in found], status=Task.Status.OPEN).update(owner=to_user)
    if to_user is not None:
        tasks_assigned_notify(tasks=Task.objects.filter(pk__in=[pk for pk, _ in found]), by=by)
    moved: dict[int, int] = {}
    for _, account_id in found:
        moved[account_id] = moved.get(account_id, 0) + 1
    return moved
