"""Writing notifications. The lowest layer: every app may call these, and they import no feature app.

Two ways in:
- `notification_send` for one event a person caused (an escalation opened): call it inside the caller's
  transaction, so the notification exists exactly when the change does. The actor is never notified.
- `notifications_insert` for jobs: one `INSERT ... SELECT ... ON CONFLICT DO NOTHING` from the caller's SELECT,
  so a night's overdue tasks or new alerts cost one statement, and a rerun adds nothing.

Recipients who are not (or no longer) members of the tenant are skipped: an account may still name a CSM who left.
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.models import Membership, Tenant

from .models import Notification

# What the caller's SELECT must name its columns (raw SQL), or annotate its queryset with (the n_ prefix keeps
# them apart from the model's own fields, which an annotation may not shadow).
COLUMNS = ("recipient_id", "title", "body", "url", "source_key")
ANNOTATIONS = ("n_recipient", "n_title", "n_body", "n_url", "n_source")


def _id(user) -> int | None:
    return getattr(user, "pk", user)


def notification_send(
    *,
    tenant: Tenant,
    recipients: Iterable,
    kind: str,
    title: str,
    source_key: str,
    body: str = "",
    url: str = "",
    actor=None,
) -> int:
    """Notifies each recipient (users or ids; None and repeats dropped) once per `source_key`, except `actor`.
    One query for the memberships, one INSERT. Returns the recipients notified (an event already notified counts:
    the INSERT skips it)."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}")
    actor_id = _id(actor)
    wanted = {_id(r) for r in recipients} - {None, actor_id}
    if not wanted:
        return 0
    members = Membership.objects.filter(tenant=tenant, user_id__in=wanted).values_list("user_id", flat=True)
    now = timezone.now()
    created = Notification.objects.bulk_create(
        [
            Notification(
                tenant=tenant,
                recipient_id=user_id,
                kind=kind,
                title=title[:200],
                body=body[:300],
                url=url[:300],
                source_key=source_key[:100],
                created_at=now,
            )
            for user_id in sorted(members)
        ],
        ignore_conflicts=True,
    )
    return len(created)


def notifications_insert(*, kind: str, rows, params=None, actor=None) -> int:
    """Writes one notification per row of `rows` in one statement, skipping rows already notified (same recipient,
    kind and source key), rows without a recipient, non-members and `actor`.

    `rows` is either a queryset annotated with n_recipient, n_title, n_body, n_url and n_source, or a SELECT (with
    its `params`, positional or named) whose columns are recipient_id, title, body, url and source_key. Runs in
    the current tenant's context (the job's transaction). Returns the rows written."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}")
    tenant_id = int(current_tenant().pk)
    if isinstance(rows, QuerySet):
        inner, inner_params = rows.values(*ANNOTATIONS).query.sql_with_params()
        names = ANNOTATIONS
    else:
        inner, inner_params = rows, params if params is not None else ()
        names = COLUMNS
    now = timezone.now()
    recipient, title, body, url, source = (f"s.{name}" for name in names)
    if isinstance(inner_params, dict):
        now_param, all_params = "%(_notify_now)s", {**inner_params, "_notify_now": now}
    else:
        now_param, all_params = "%s", [now, *inner_params]
    not_actor = f"AND {recipient} <> {int(_id(actor))}" if _id(actor) is not None else ""
    # Literals, not parameters, for the tenant and kind (both validated above), so the caller's SELECT may use
    # either parameter style.
    sql = f"""
        INSERT INTO {Notification._meta.db_table}
            (tenant_id, recipient_id, kind, title, body, url, source_key, created_at, read_at)
        SELECT {tenant_id}, {recipient}, '{kind}', SUBSTR({title}, 1, 200), SUBSTR(COALESCE({body}, ''), 1, 300),
               SUBSTR(COALESCE({url}, ''), 1, 300), SUBSTR({source}, 1, 100), {now_param}, NULL
        FROM ({inner}) s
        WHERE {recipient} IS NOT NULL {not_actor}
          AND EXISTS (SELECT 1 FROM {Membership._meta.db_table} m
                      WHERE m.tenant_id = {tenant_id} AND m.user_id = {recipient})
        ON CONFLICT DO NOTHING"""
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return max(cursor.rowcount, 0)


def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Marks the user's unread notifications read (all of them, or those of `ids`); others' ids change nothing."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


@transaction.atomic
def my_settings_update(*, membership: Membership, time_zone: str, digests: dict[str, bool]) -> None:
    """Saves a member's own settings: the time zone on the user (all workspaces), the digest switches on this
    workspace's membership (only the Membership booleans named in `digests`)."""
    allowed = {"daily_digest", "weekly_digest"}
    if not set(digests) <= allowed:
        raise ValueError(f"Not a digest switch: {sorted(set(digests) - allowed)}")
    user = membership.user
    if user.time_zone != time_zone:
        user.time_zone = time_zone
        user.save(update_fields=["time_zone"])
    if digests:
        Membership.objects.filter(pk=membership.pk).update(**digests)
        for name, value in digests.items():
            setattr(membership, name, value)
