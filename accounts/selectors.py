"""Reads for the account pages and the API. Every query runs in the current tenant."""

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Count, Max, Prefetch, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from csplatform.tenancy.models import Membership

from .models import Account, Activity, Contact, Escalation


def accounts_for_list():
    return Account.objects.select_related("segment", "stage", "csm")


def account_get(*, account_id: int) -> Account:
    """The current tenant's account or Account.DoesNotExist (absent and foreign look the same)."""
    return Account.objects.select_related("segment", "stage", "csm", "parent").get(pk=account_id)


def account_manager(account: Account):
    """The CSM's manager in this tenant, if any."""
    if account.csm_id is None:
        return None
    membership = (
        Membership.objects.filter(tenant_id=account.tenant_id, user_id=account.csm_id).select_related("manager").first()
    )
    return membership.manager if membership else None


def stakeholder_map(*, account: Account) -> dict:
    """Contacts grouped by persona (in persona order), and the reports-to tree as nested lists."""
    contacts = list(Contact.objects.filter(account=account).select_related("reports_to").order_by("name"))
    by_persona = {label: [] for _, label in Contact.Persona.choices}
    for contact in contacts:
        by_persona[contact.get_persona_display()].append(contact)
    children = defaultdict(list)
    ids = {c.pk for c in contacts}
    roots = []
    for contact in contacts:
        if contact.reports_to_id in ids and contact.reports_to_id != contact.pk:
            children[contact.reports_to_id].append(contact)
        else:
            roots.append(contact)

    def tree(contact, seen):
        if contact.pk in seen:  # a reports-to loop typed in by hand must not hang the page
            return {"contact": contact, "reports": []}
        seen = seen | {contact.pk}
        return {"contact": contact, "reports": [tree(c, seen) for c in children[contact.pk]]}

    return {
        "contacts": contacts,
        "by_persona": [(label, people) for label, people in by_persona.items() if people],
        "org_chart": [tree(root, frozenset()) for root in roots],
    }


def timeline(*, account: Account, kind: str | None = None):
    activities = Activity.objects.filter(account=account).select_related("logged_by").prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.only("id", "name", "account_id"))
    )
    if kind:
        activities = activities.filter(kind=kind)
    return activities


def open_escalations(*, account: Account | None = None):
    escalations = Escalation.objects.exclude(status=Escalation.Status.RESOLVED).select_related(
        "account", "owner", "escalated_to"
    )
    return escalations.filter(account=account) if account is not None else escalations


def escalation_get(*, escalation_id: int) -> Escalation:
    return Escalation.objects.select_related("account", "owner", "escalated_to").get(pk=escalation_id)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def timesheet(*, user_ids, start: date, end: date) -> dict:
    """Minutes per (user, account) per ISO week from logged activities, with week and month totals.

    One aggregate query; nothing per account in Python but laying the rows out.
    """
    rows = (
        Activity.objects.filter(
            logged_by_id__in=user_ids, occurred_at__date__gte=start, occurred_at__date__lt=end, minutes_spent__gt=0
        )
        .annotate(week=TruncWeek("occurred_at"))
        .values("logged_by_id", "account_id", "account__name", "week")
        .annotate(minutes=Sum("minutes_spent"))
        .order_by("account__name")
    )
    weeks = []
    cursor = week_start(start)
    while cursor < end:
        weeks.append(cursor)
        cursor += timedelta(days=7)
    table = {}
    week_totals = defaultdict(int)
    month_totals = defaultdict(int)
    for row in rows:
        week = row["week"].date() if hasattr(row["week"], "date") else row["week"]
        key = (row["logged_by_id"], row["account_id"])
        entry = table.setdefault(key, {"user_id": row["logged_by_id"], "account_id": row["account_id"],
                                       "account": row["account__name"], "weeks": defaultdict(int), "total": 0})
        entry["weeks"][week] += row["minutes"]
        entry["total"] += row["minutes"]
        week_totals[week] += row["minutes"]
    month_rows = (
        Activity.objects.filter(
            logged_by_id__in=user_ids, occurred_at__date__gte=start, occurred_at__date__lt=end, minutes_spent__gt=0
        )
        .values("occurred_at__year", "occurred_at__month")
        .annotate(minutes=Sum("minutes_spent"))
    )
    for row in month_rows:
        month_totals[date(row["occurred_at__year"], row["occurred_at__month"], 1)] += row["minutes"]
    entries = sorted(table.values(), key=lambda e: (e["user_id"], e["account"]))
    for entry in entries:
        entry["cells"] = [entry["weeks"].get(w, 0) for w in weeks]
    return {
        "weeks": weeks,
        "rows": entries,
        "week_totals": [week_totals.get(w, 0) for w in weeks],
        "month_totals": sorted(month_totals.items()),
        "total": sum(week_totals.values()),
    }


def workplan(*, user_ids, end: date):
    """Open next steps due before `end` (overdue ones included), soonest first."""
    return (
        Activity.objects.filter(logged_by_id__in=user_ids, next_step_done=False, next_step_due__lt=end)
        .exclude(next_step="")
        .select_related("account", "logged_by")
        .order_by("next_step_due", "id")
    )


def book_of_business(*, csm_ids=None):
    """Per CSM: accounts, active accounts, accounts untouched for 30+ days, latest touch. One query."""
    stale_before = timezone.now() - timedelta(days=30)
    accounts = Account.objects.all()
    if csm_ids is not None:
        accounts = accounts.filter(csm_id__in=csm_ids)
    return (
        accounts.values("csm_id", "csm__full_name", "csm__email")
        .annotate(
            accounts=Count("id"),
            active=Count("id", filter=Q(status=Account.Status.ACTIVE)),
            untouched=Count(
                "id",
                filter=Q(status=Account.Status.ACTIVE)
                & (Q(last_touch_at__lt=stale_before) | Q(last_touch_at__isnull=True)),
            ),
            seats=Sum("licensed_seats"),
            last_touch=Max("last_touch_at"),
        )
        .order_by("csm__full_name", "csm__email")
    )


def untouched_accounts(*, days: int = 30, csm_ids=None):
    stale_before = timezone.now() - timedelta(days=days)
    accounts = (
        Account.objects.filter(status=Account.Status.ACTIVE)
        .filter(Q(last_touch_at__lt=stale_before) | Q(last_touch_at__isnull=True))
        .select_related("csm", "segment")
        .order_by("last_touch_at", "name")
    )
    return accounts.filter(csm_id__in=csm_ids) if csm_ids is not None else accounts
