"""At-risk episodes: an account that turns red, or whose score falls `drop_alert_points` within
`drop_alert_days`, opens one episode (HealthAlert), one risk-recovery task for its CSM and a notification in
the CSM's bell. The episode closes when the account is neither red nor fallen; a later fall opens a new one."""

from datetime import date, timedelta

from django.db import connection
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from accounts.models import Account
from csplatform.notifications.models import Notification
from csplatform.notifications.paths import tenant_path_around
from csplatform.notifications.services import notifications_insert
from csplatform.tenancy.models import Tenant
from success_plans.services import recovery_tasks_open

from .models import HealthAlert, HealthScore, Measure
from .recompute import health_settings

RECOVERY_TASK_DAYS = 7


def _only(account_ids, column: str) -> str:
    if account_ids is None:
        return ""
    return f"AND {column} IN (" + ", ".join(str(int(i)) for i in account_ids) + ")"


def alerts_update(*, tenant: Tenant, day: date, account_ids=None) -> int:
    """Closes recovered episodes and opens new ones from `day`'s scores, set-based; then writes the reason and
    opens the recovery task of each new episode. Idempotent for (tenant, day). Returns episodes opened."""
    if account_ids is not None and not account_ids:
        return 0
    rules = health_settings(tenant)
    params = {"t": tenant.pk, "day": day, "before": day - timedelta(days=rules.drop_alert_days),
              "points": rules.drop_alert_points}
    fallen = "(h.band = 'red' OR (p.score IS NOT NULL AND h.score <= p.score - %(points)s))"
    with connection.cursor() as cursor:
        # The day's scores were written moments ago (by health.scores), before autovacuum could analyze them, so
        # the planner expects one row for (tenant, day) and, given correlated subqueries, rescans the whole day's
        # scores once per open episode (20 s on an 18,000-account tenant). Each set is read once instead, and
        # the episodes are checked against it (hashed).
        cursor.execute(
            f"""WITH still_fallen AS MATERIALIZED (
                  SELECT h.account_id FROM health_healthscore h
                  LEFT JOIN health_healthscore p ON p.tenant_id = h.tenant_id AND p.account_id = h.account_id
                                                 AND p.day = %(before)s
                  WHERE h.tenant_id = %(t)s AND h.day = %(day)s AND {fallen}),
                scored AS MATERIALIZED (
                  SELECT h.account_id FROM health_healthscore h WHERE h.tenant_id = %(t)s AND h.day = %(day)s)
                UPDATE health_healthalert SET closed_on = %(day)s
                WHERE tenant_id = %(t)s AND closed_on IS NULL AND opened_on <= %(day)s
                  {_only(account_ids, 'account_id')}
                  AND account_id NOT IN (SELECT account_id FROM still_fallen)
                  AND (account_id IN (SELECT account_id FROM scored)
                       OR EXISTS (SELECT 1 FROM accounts_account a WHERE a.id = health_healthalert.account_id
                                  AND a.status <> 'active'))""",
            params,
        )
        cursor.execute(
            f"""INSERT INTO health_healthalert (tenant_id, account_id, reason, opened_on, score, change_30d, fallen)
                SELECT h.tenant_id, h.account_id, CASE WHEN h.band = 'red' THEN 'red' ELSE 'drop' END, %(day)s,
                       h.score, h.score - p.score, '[]'
                FROM health_healthscore h
                JOIN accounts_account a ON a.id = h.account_id AND a.tenant_id = h.tenant_id AND a.status = 'active'
                LEFT JOIN health_healthscore p ON p.tenant_id = h.tenant_id AND p.account_id = h.account_id
                                               AND p.day = %(before)s
                WHERE h.tenant_id = %(t)s AND h.day = %(day)s {_only(account_ids, 'h.account_id')} AND {fallen}
                  AND NOT EXISTS (SELECT 1 FROM health_healthalert x WHERE x.tenant_id = h.tenant_id
                                  AND x.account_id = h.account_id AND x.closed_on IS NULL)""",
            params,
        )
    return _explain_and_open_tasks(day=day, before=params["before"], drop_days=rules.drop_alert_days,
                                   red_below=rules.yellow_from)


def _explain_and_open_tasks(*, day: date, before: date, drop_days: int, red_below: int) -> int:
    """For the episodes without a task (just opened, or a rerun after a crash): which measures fell, and the task.
    Three queries whatever the number of episodes."""
    new = list(HealthAlert.objects.filter(closed_on__isnull=True, task__isnull=True)
               .select_related("account").order_by("account_id"))
    if not new:
        return 0
    account_ids = [alert.account_id for alert in new]
    scores = {(s.account_id, s.day): s.components for s in HealthScore.objects.filter(
        account_id__in=account_ids, day__in=[day, before]).only("account_id", "day", "components")}
    names = {m.pk: m.name for m in Measure.objects.all()}
    tasks = []
    for alert in new:
        then = {c[0]: c[2] for c in scores.get((alert.account_id, before), [])}
        fell = []
        for measure_id, _raw, now_score, _weight in scores.get((alert.account_id, alert.opened_on), []):
            previous = then.get(measure_id)
            if now_score is None:
                continue
            if (previous is not None and float(now_score) < float(previous)) or float(now_score) < red_below:
                fell.append([names.get(measure_id, "Removed measure"), previous, now_score])
        fell.sort(key=lambda row: float(row[2]) - float(row[1] if row[1] is not None else row[2]))
        alert.fallen = fell
        if alert.reason == HealthAlert.Reason.RED:
            title = f"Health recovery: {alert.account.name} fell to red (score {alert.score:.0f})"
        else:
            title = (f"Health recovery: {alert.account.name} down {abs(alert.change_30d):.0f} points "
                     f"in {drop_days} days")
        what = "; ".join(f"{n} {p if p is not None else 'n/a'} → {s}" for n, p, s in fell[:5]) or "no single measure"
        tasks.append({"account_id": alert.account_id, "owner_id": alert.account.csm_id, "title": title[:200],
                      "description": f"Measures that fell: {what}. Agree a recovery plan with the customer.",
                      "due_date": day + timedelta(days=RECOVERY_TASK_DAYS)})
    created = recovery_tasks_open(tasks=tasks)
    for alert, task in zip(new, created, strict=True):
        alert.task = task
    HealthAlert.objects.bulk_update(new, ["fallen", "task"])
    _notify_csms(alert_ids=[alert.pk for alert in new])
    return len(new)


def _notify_csms(*, alert_ids) -> int:
    """Tells each new episode's CSM, in the bell, once per episode (one INSERT ... SELECT; a rerun adds nothing).
    The recovery task it opened is named in the notification rather than announced separately."""
    before, after = tenant_path_around("accounts:detail", "account_id")
    rows = HealthAlert.objects.filter(pk__in=alert_ids).annotate(
        n_recipient=F("account__csm_id"), n_title=Concat(Value("At risk: "), "account__name"),
        n_body=Concat("task__title", Value(". A recovery task is on your list.")),
        n_url=Concat(Value(before), Cast("account_id", CharField()), Value(after)),
        n_source=Concat(Value("healthalert:"), Cast("id", CharField())))
    return notifications_insert(kind=Notification.Kind.HEALTH_ALERT, rows=rows)


def at_risk_accounts():
    """Open episodes with their account, owner and task (for lists)."""
    return (HealthAlert.objects.filter(closed_on__isnull=True, account__status=Account.Status.ACTIVE)
            .select_related("account", "account__csm", "task", "task__owner")
            .order_by(F("score").asc(nulls_last=True)))
