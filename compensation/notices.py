"""Statements to approve: once a month is over, its draft statements wait for their approvers, who hear of it in
the bell. Written by the nightly statements job, set-based and once per statement and approver."""

from datetime import date

from csplatform.notifications.models import Notification
from csplatform.notifications.paths import tenant_path_around
from csplatform.notifications.services import notifications_insert
from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.models import Membership, Role, User

from .models import CompStatement

# Drafts of months ended longer ago than this were there before the feature: the Team page already lists them.
LOOK_BACK_DAYS = 62


def statements_to_approve_notify(*, day: date) -> int:
    """Notifies the approver of each draft statement of a month that ended before `day`: the CSM's manager when
    that manager may approve (a CS manager or an admin), else every admin of the tenant; never the CSM
    themselves. One INSERT ... SELECT; rerunning adds nothing."""
    tenant_id = current_tenant().pk
    month = day.replace(day=1)
    before, after = tenant_path_around("compensation:statement", "statement_id")
    approvers = (Role.MANAGER.value, Role.ADMIN.value)
    members, users, statements = Membership._meta.db_table, User._meta.db_table, CompStatement._meta.db_table
    params = {
        "t": tenant_id,
        "month": month,
        "since": date.fromordinal(month.toordinal() - LOOK_BACK_DAYS),
        "before": before,
        "after": after,
        "admin": Role.ADMIN.value,
        "m1": approvers[0],
        "m2": approvers[1],
    }
    sql = f"""
        WITH ready AS (
          SELECT s.id, s.csm_id, s.period_start, COALESCE(NULLIF(u.full_name, ''), u.email) AS csm_name,
                 (SELECT boss.user_id FROM {members} m
                  JOIN {members} boss ON boss.tenant_id = m.tenant_id AND boss.user_id = m.manager_id
                                     AND boss.role IN (%(m1)s, %(m2)s)
                  WHERE m.tenant_id = s.tenant_id AND m.user_id = s.csm_id) AS approver_id
          FROM {statements} s JOIN {users} u ON u.id = s.csm_id
          WHERE s.tenant_id = %(t)s AND s.status = 'draft' AND s.period_start < %(month)s
            AND s.period_start >= %(since)s),
        addressed AS (
          SELECT r.*, r.approver_id AS recipient_id FROM ready r WHERE r.approver_id IS NOT NULL
          UNION ALL
          SELECT r.*, a.user_id FROM ready r
          JOIN {members} a ON a.tenant_id = %(t)s AND a.role = %(admin)s AND a.user_id <> r.csm_id
          WHERE r.approver_id IS NULL)
        SELECT recipient_id,
               'Statement to approve: ' || csm_name || ', ' || SUBSTR(CAST(period_start AS TEXT), 1, 7) AS title,
               'The month is over: check the lines, then approve to lock the statement.' AS body,
               %(before)s || CAST(id AS TEXT) || %(after)s AS url,
               'statement:' || CAST(id AS TEXT) AS source_key
        FROM addressed"""
    return notifications_insert(kind=Notification.Kind.STATEMENT_TO_APPROVE, rows=sql, params=params)
