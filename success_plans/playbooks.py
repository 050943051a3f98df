"""Applying playbooks: set-based for stage entries, one account at a time by hand."""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from .models import Playbook, PlaybookRun, Task
from .services import playbook_tasks_notify


def _due_date_sql(param: str) -> str:
    if connection.vendor == "postgresql":
        return f"(CAST({param} AS date) + s.day_offset)"
    return f"date({param}, '+' || s.day_offset || ' days')"


def playbooks_apply_on_stage_entries(*, tenant, account_ids=None) -> int:
    """Creates, once per stage entry, the runs of the active playbooks of each account's current stage,
    and each new run's tasks (assigned to the account's CSM). Two INSERT ... SELECT statements.

    Idempotent: a run is unique per (playbook, account, stage entry), and tasks are only created for runs
    that have none. Returns the number of tasks created.
    """
    now = timezone.now()
    today = timezone.localdate()
    only = ""
    params = {"tenant": tenant.pk, "now": now, "today": today}
    if account_ids is not None:
        if not account_ids:
            return 0
        only = "AND a.id IN (" + ", ".join(str(int(i)) for i in account_ids) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO success_plans_playbookrun (tenant_id, playbook_id, account_id, stage_entered_at, applied_at)
            SELECT a.tenant_id, p.id, a.id, a.stage_entered_at, %(now)s
            FROM accounts_account a
            JOIN success_plans_playbook p
              ON p.tenant_id = a.tenant_id AND p.stage_id = a.stage_id AND p.is_active
            WHERE a.tenant_id = %(tenant)s AND a.status = 'active' AND a.stage_entered_at IS NOT NULL {only}
              AND NOT EXISTS (
                SELECT 1 FROM success_plans_playbookrun r
                WHERE r.tenant_id = a.tenant_id AND r.playbook_id = p.id AND r.account_id = a.id
                  AND r.stage_entered_at = a.stage_entered_at)
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO success_plans_task (tenant_id, account_id, title, description, owner_id, due_date, priority,
                                            status, type, source, playbook_run_id, created_at)
            SELECT r.tenant_id, r.account_id, s.title, s.description, a.csm_id, {_due_date_sql("%(today)s")},
                   s.priority, 'open', s.type, 'playbook', r.id, %(now)s
            FROM success_plans_playbookrun r
            JOIN success_plans_playbookstep s ON s.tenant_id = r.tenant_id AND s.playbook_id = r.playbook_id
            JOIN accounts_account a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
            WHERE r.tenant_id = %(tenant)s AND r.stage_entered_at IS NOT NULL {only}
              AND NOT EXISTS (SELECT 1 FROM success_plans_task t
                              WHERE t.tenant_id = r.tenant_id AND t.playbook_run_id = r.id)
            """,
            params,
        )
        created = cursor.rowcount
    if created:  # each CSM hears once per run, not once per step
        playbook_tasks_notify(created_at=now)
    return created


@transaction.atomic
def playbook_apply(*, playbook: Playbook, account, by) -> PlaybookRun:
    """Applies a playbook by hand (every time it is asked for)."""
    now = timezone.now()
    today = timezone.localdate()
    run = PlaybookRun.objects.create(playbook=playbook, account=account, applied_at=now, applied_by=by)
    Task.objects.bulk_create([
        Task(account=account, title=step.title, description=step.description, owner_id=account.csm_id,
             due_date=today + timedelta(days=step.day_offset), priority=step.priority, type=step.type,
             source=Task.Source.PLAYBOOK, playbook_run=run)
        for step in playbook.steps.all()
    ])
    playbook_tasks_notify(run_ids=[run.pk], by=by)
    return run
