"""The daily digest of a CSM (or manager with a book): what is due today where they are."""

from datetime import date, timedelta

from success_plans.models import Task
from success_plans.selectors import reviews_between

from .render import LIST_ROWS, link, plural, render_digest


def _task_rows(tenant, tasks) -> list[dict]:
    return [
        {
            "title": t.title,
            "account": t.account.name,
            "due": t.due_date,
            "priority": t.get_priority_display(),
            "url": link(tenant, "accounts:detail", account_id=t.account_id),
        }
        for t in tasks
    ]


def build_daily(*, tenant, membership, local_date: date):
    """Tasks due on `local_date`, overdue tasks (oldest first) and the day's business reviews on the member's
    accounts. Five queries; None when all three are empty (nothing is sent)."""
    user = membership.user
    open_tasks = Task.objects.filter(owner=user, status=Task.Status.OPEN).select_related("account")
    due_today = open_tasks.filter(due_date=local_date).order_by("id")
    overdue = open_tasks.filter(due_date__lt=local_date).order_by("due_date", "id")
    due_rows, overdue_rows = list(due_today[:LIST_ROWS]), list(overdue[:LIST_ROWS])
    due_total = len(due_rows) if len(due_rows) < LIST_ROWS else due_today.count()
    overdue_total = len(overdue_rows) if len(overdue_rows) < LIST_ROWS else overdue.count()
    reviews = list(reviews_between(start=local_date, end=local_date + timedelta(days=1), user_ids=[user.pk]))
    items = due_total + overdue_total + len(reviews)
    if not items:
        return None
    parts = [plural(due_total, "task") + " due today"] if due_total else []
    if overdue_total:
        parts.append(f"{overdue_total} overdue")
    if reviews:
        parts.append(plural(len(reviews), "review"))
    subject = f"{tenant.name}: {', '.join(parts)} ({local_date:%a %d %b})"
    return render_digest(
        name="digest_daily",
        tenant=tenant,
        membership=membership,
        subject=subject,
        items=items,
        context={
            "local_date": local_date,
            "due_today": _task_rows(tenant, due_rows),
            "due_total": due_total,
            "overdue": _task_rows(tenant, overdue_rows),
            "overdue_total": overdue_total,
            "reviews": [
                {
                    "account": r.account.name,
                    "kind": r.get_kind_display(),
                    "url": link(tenant, "reviews:detail", review_id=r.pk),
                }
                for r in reviews
            ],
            "my_work_url": link(tenant, "plans:my_work"),
        },
    )
