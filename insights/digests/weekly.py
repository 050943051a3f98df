"""The weekly digest of a manager (their team) or an admin (the whole book): at-risk accounts, the forecast's
movement over the last week and overdue tasks per CSM."""

from datetime import date

from django.db.models import Count

from accounts.permissions import team_user_ids
from csplatform.tenancy.models import Membership, Role
from health.alerts import at_risk_accounts
from renewals.movement import forecast_movement
from success_plans.models import Task

from .render import LIST_ROWS, link, plural, render_digest

MOVES_PER_GROUP = 3


def _people(membership) -> list:
    """Whose work the digest covers: a manager's team (and themselves), or everyone who carries a book."""
    members = Membership.objects.filter(tenant_id=membership.tenant_id, role__in=[Role.CSM, Role.MANAGER])
    if membership.role == Role.MANAGER:
        members = members.filter(user_id__in=team_user_ids(membership))
    return [m.user for m in members.select_related("user").order_by("user__full_name", "user__email")]


def build_weekly(*, tenant, membership, local_date: date):
    """A fixed number of queries whatever the book's size. None when the week has nothing to report."""
    people = _people(membership)
    ids = [p.pk for p in people]
    scoped = membership.role == Role.MANAGER

    alerts = at_risk_accounts()
    if scoped:
        alerts = alerts.filter(account__csm_id__in=ids)
    at_risk_rows = list(alerts[:LIST_ROWS])
    at_risk_total = len(at_risk_rows) if len(at_risk_rows) < LIST_ROWS else alerts.count()

    movement = forecast_movement(day=local_date, csm_ids=ids if scoped else None)
    groups = [
        {
            "label": g["label"],
            "count": len(g["moves"]),
            "moves": [
                {
                    "account": m.account,
                    "csm": m.csm,
                    "text": m.text,
                    "url": link(tenant, "accounts:detail", account_id=m.account_id),
                }
                for m in g["moves"][:MOVES_PER_GROUP]
            ],
        }
        for g in movement.groups()
    ]
    moves = len(movement.moves)

    counts = dict(
        Task.objects.filter(status=Task.Status.OPEN, due_date__lt=local_date, owner_id__in=ids)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    overdue = [
        {"name": p.display_name, "count": counts[p.pk], "url": link(tenant, "plans:my_work", query=f"?user={p.pk}")}
        for p in sorted(people, key=lambda p: -counts.get(p.pk, 0))
        if counts.get(p.pk)
    ]
    overdue_total = sum(counts.values())

    items = at_risk_total + moves + overdue_total
    if not items:
        return None
    parts = [f"{at_risk_total} at risk"] if at_risk_total else []
    if moves:
        parts.append(plural(moves, "forecast change"))
    if overdue_total:
        parts.append(plural(overdue_total, "overdue task"))
    whose = "your team's" if scoped else "the"
    subject = f"{tenant.name}: {whose} week, {', '.join(parts)}"
    return render_digest(
        name="digest_weekly",
        tenant=tenant,
        membership=membership,
        subject=subject,
        items=items,
        context={
            "local_date": local_date,
            "scoped": scoped,
            "at_risk": [
                {
                    "account": a.account.name,
                    "band_reason": a.get_reason_display(),
                    "score": a.score,
                    "csm": a.account.csm.display_name if a.account.csm else "Unassigned",
                    "days_open": (local_date - a.opened_on).days,
                    "url": link(tenant, "accounts:detail", account_id=a.account_id),
                }
                for a in at_risk_rows
            ],
            "at_risk_total": at_risk_total,
            "portfolio_url": link(tenant, "health:portfolio"),
            "movement": groups,
            "moves": moves,
            "truncated": movement.truncated,
            "forecast_url": link(tenant, "forecast:page"),
            "compare_day": movement.compare_day,
            "movement_day": movement.day,
            "overdue": overdue,
            "overdue_total": overdue_total,
        },
    )
