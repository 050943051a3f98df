"""Demo monthly reports: the last three completed months drafted by the job's own statement, and most of the two
older months' reports delivered the way a CSM does it (recommendation, recipients, email, follow-up call).

Emails go to Django's dummy backend (nothing printed on the console). Delivery dates, recipients' sent times and
timeline entries are then moved back into the month after the one reported on, and follow-up calls of the
oldest month are marked done, so the demo reads like a team that has been running the rhythm for a while."""

import random
from datetime import datetime, time, timedelta

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import DateTimeField, OuterRef, Subquery
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone

from accounts.models import Account, Activity, ActivityContact, Contact
from renewals.models import Contract
from renewals.periods import add_months
from success_plans.models import Task

from ..models import MonthlyReport, ReportRecipient
from .drafting import reports_draft
from .selectors import report_cycle_month
from .services import default_recipients, report_deliver, report_follow_up_schedule

# Share of each month's reports delivered: the oldest month nearly done, the next one mostly, and the current
# cycle (last month's reports, drafted on the 1st) as far as this month has gone.
DELIVERED_SHARE = {2: 0.85, 1: 0.7, 0: 0.6}
FOLLOW_UP_SHARE = 0.7
RECOMMENDATIONS = {
    "green": [
        "Adoption is strong. We suggest rolling the {feature} workflow out to a second team next month and "
        "planning a joint case study.",
        "You are getting steady value. Next step: agree two new goals for the coming quarter in our follow-up call.",
    ],
    "yellow": [
        "Usage is flat. We recommend a refresher training for new users and a review of licence allocation "
        "({seats} seats, {users} active users).",
        "Let's use the follow-up call to agree who owns the open decisions and unblock the rollout.",
    ],
    "red": [
        "Usage dropped this month. We propose a working session with your admin this week and a weekly "
        "check-in until adoption recovers.",
        "We would like to meet your executive sponsor to re-confirm the goals and agree a recovery plan.",
    ],
}


def _recommendation(rng, report) -> str:
    options = RECOMMENDATIONS.get(report.health_band) or RECOMMENDATIONS["yellow"]
    return rng.choice(options).format(feature=rng.choice(["reporting", "approval", "export", "SSO"]),
                                      seats=report.licensed_seats, users=report.monthly_active_users)


def seed(*, tenant, people) -> dict:
    if MonthlyReport.objects.exists():
        return {}
    with transaction.atomic():
        return _seed(tenant, people)


def _seed(tenant, people) -> dict:
    rng = random.Random(f"reports-{tenant.slug}")
    today = timezone.localdate()
    cycle = report_cycle_month(today)
    _customers_of_long_standing(since=add_months(cycle, -2))
    drafted = sum(reports_draft(tenant=tenant, month=add_months(cycle, -back)) for back in (2, 1, 0))
    fallback = people.by_key.get("manager")
    contacts_by_account: dict[int, list[Contact]] = {}
    for contact in Contact.objects.exclude(email="").order_by("name", "id"):
        contacts_by_account.setdefault(contact.account_id, []).append(contact)
    # Rendered and "sent" like real ones, but to the dummy backend: nothing printed, nothing kept in memory.
    mail = get_connection("django.core.mail.backends.dummy.EmailBackend")
    delivered = follow_ups = 0
    for back, share in DELIVERED_SHARE.items():
        if back == 0:
            share *= min(1.0, today.day / 25)
        month = add_months(cycle, -back)
        sent_in = add_months(month, 1)
        reports = list(MonthlyReport.objects.filter(month=month).select_related("account", "csm").order_by("id"))
        chosen = [r for r in reports if rng.random() < share and contacts_by_account.get(r.account_id)]
        backdated = []
        for report in chosen:
            contacts = contacts_by_account[report.account_id]
            ticked = set(default_recipients(contacts)) or {contacts[0].pk}
            by = report.csm or fallback
            MonthlyReport.objects.filter(pk=report.pk).update(recommendation=_recommendation(rng, report))
            report_deliver(report=report, by=by, contacts=[c for c in contacts if c.pk in ticked],
                           minutes_spent=rng.choice([15, 20, 30, 45]), email_connection=mail)
            delivered += 1
            at = timezone.make_aware(datetime.combine(sent_in + timedelta(days=rng.randint(1, 12)),
                                                      time(rng.randint(8, 17), rng.choice([0, 15, 30, 45]))))
            at = min(at, timezone.now() - timedelta(minutes=rng.randint(10, 120)))  # this month's: not in the future
            backdated.append((report, at))
            if rng.random() < FOLLOW_UP_SHARE:
                task = report_follow_up_schedule(report=report, by=by, due_date=today)
                follow_ups += 1
                due = (at + timedelta(days=rng.randint(5, 14))).date()
                done = due < today
                Task.objects.filter(pk=task.pk).update(
                    due_date=due if done else today + timedelta(days=rng.randint(0, 10)),
                    status=Task.Status.DONE if done else Task.Status.OPEN,
                    completed_at=timezone.make_aware(datetime.combine(due, time(15))) if done else None)
        _backdate(backdated)
    return {"monthly_reports": drafted, "reports_delivered": delivered, "report_follow_ups": follow_ups}


def _customers_of_long_standing(*, since) -> None:
    """The demo creates its accounts at seeding time, but they stand for customers of long standing (their contracts
    started months ago), and a report is only drafted for an account that existed in the month. So accounts created
    after `since` are dated back to their first contract's start, or to the month before `since` without one."""
    first_contract = (Contract.objects.filter(account_id=OuterRef("pk")).order_by("start_date")
                      .values("start_date")[:1])
    fallback = timezone.make_aware(datetime.combine(add_months(since, -1), time(9)))
    Account.objects.filter(created_at__gte=timezone.make_aware(datetime.combine(since, time.min))).update(
        created_at=Least(Coalesce(Cast(Subquery(first_contract), DateTimeField()), fallback), fallback))


def _backdate(backdated) -> None:
    """Moves delivery, recipients and the timeline entry to the day the report was 'sent' (a few UPDATEs)."""
    if not backdated:
        return
    for report, at in backdated:
        report.delivered_at = at
    MonthlyReport.objects.bulk_update([r for r, _ in backdated], ["delivered_at"], batch_size=500)
    when = {r.pk: at for r, at in backdated}
    recipients = list(ReportRecipient.objects.filter(report_id__in=when))
    for recipient in recipients:
        recipient.sent_at = when[recipient.report_id]
    ReportRecipient.objects.bulk_update(recipients, ["sent_at"], batch_size=500)
    subjects = {(r.account_id, f"Monthly report for {r.month:%B %Y} sent"): at for r, at in backdated}
    activities = list(Activity.objects.filter(kind=Activity.Kind.EMAIL, subject__startswith="Monthly report for ",
                                              account_id__in={r.account_id for r, _ in backdated}))
    moved = []
    for activity in activities:
        at = subjects.get((activity.account_id, activity.subject))
        if at is not None:
            activity.occurred_at = at
            moved.append(activity)
    Activity.objects.bulk_update(moved, ["occurred_at"], batch_size=500)
    # Logging the email moved each account's last touch to the seeding time; put it back to its latest activity.
    latest = Activity.objects.filter(account_id=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    Account.objects.filter(pk__in={a.account_id for a in moved}).update(last_touch_at=Subquery(latest))
    # And each recipient's last engagement to their latest activity.
    engaged = (ActivityContact.objects.filter(contact_id=OuterRef("pk")).order_by("-activity__occurred_at")
               .values("activity__occurred_at")[:1])
    recipients = ActivityContact.objects.filter(activity__in=moved).values("contact_id")
    Contact.objects.filter(pk__in=recipients).update(last_engaged_at=Subquery(engaged))
