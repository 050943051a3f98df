"""Writes on monthly reports: the recommendation, delivery (email + recipients + frozen snapshot + timeline entry)
and the follow-up call. Keyword-only, one transaction each, inside the current tenant; a delivered report never
changes again (compare-and-set on the draft status)."""

from datetime import date

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Activity, Contact
from accounts.services import activity_log
from csplatform.tenancy.context import current_tenant
from success_plans.models import Task

from ..models import MonthlyReport, ReportRecipient
from .selectors import report_document

RECOMMENDATION_MAX = 5000


class ReportDelivered(Exception):
    """The report was delivered (perhaps by someone else meanwhile): it no longer changes."""


def _month_label(report: MonthlyReport) -> str:
    return f"{report.month:%B %Y}"


def _fresh(report: MonthlyReport) -> MonthlyReport:
    return MonthlyReport.objects.select_related("account", "csm", "follow_up_task").get(pk=report.pk)


@transaction.atomic
def report_recommendation_save(*, report: MonthlyReport, recommendation: str) -> MonthlyReport:
    """Saves "What we recommend" on a draft."""
    recommendation = (recommendation or "").strip()
    if len(recommendation) > RECOMMENDATION_MAX:
        raise ValidationError({"recommendation": f"Keep it under {RECOMMENDATION_MAX} characters "
                                                 f"(it has {len(recommendation)})."})
    changed = MonthlyReport.objects.filter(pk=report.pk, status=MonthlyReport.Status.DRAFT).update(
        recommendation=recommendation, updated_at=timezone.now())
    if changed != 1:
        raise ReportDelivered("This report has been delivered; it can no longer be edited.")
    report.recommendation = recommendation
    return report


def default_recipients(contacts) -> list[int]:
    """The contacts ticked by default: the executive sponsors and champions who have an email address."""
    personas = {Contact.Persona.EXECUTIVE_SPONSOR, Contact.Persona.CHAMPION}
    return [c.pk for c in contacts if c.persona in personas and c.email]


def email_render(*, report: MonthlyReport, document: dict, by) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of the report's email."""
    tenant = current_tenant()
    context = {"report": report, "doc": document, "tenant": tenant, "sender": by,
               "month_label": _month_label(report)}
    subject = f"{tenant.name}: {report.account.name} monthly report for {_month_label(report)}"
    return (subject, render_to_string("insights/reports/email.txt", context),
            render_to_string("insights/reports/email.html", context))


@transaction.atomic
def report_deliver(*, report: MonthlyReport, by, contacts, minutes_spent: int = 0,
                   email_connection=None) -> MonthlyReport:
    """Emails the report to `contacts` (one email), records who got it, freezes what was shown into `snapshot`,
    marks it delivered and logs the email on the account's timeline (with the minutes spent on the report).
    Only a draft is delivered, once: a second call raises ReportDelivered and sends nothing. Bad input raises
    ValidationError (field: contacts, recommendation) and writes nothing. The email goes last, so a failed send
    leaves the draft as it was."""
    report = _fresh(report)
    if report.status != MonthlyReport.Status.DRAFT:
        raise ReportDelivered("This report has already been delivered.")
    contacts = list(contacts)
    errors = {}
    if not contacts:
        errors["contacts"] = "Choose at least one contact to send the report to."
    foreign = [c.name for c in contacts if c.account_id != report.account_id]
    if foreign:
        errors["contacts"] = f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not at {report.account}."
    without_email = [c.name for c in contacts if not c.email]
    if without_email and "contacts" not in errors:
        errors["contacts"] = f"No email address for {', '.join(without_email)}."
    if not report.recommendation.strip():
        errors["recommendation"] = "Write what we recommend before delivering the report."
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    document = report_document(report=report, today=timezone.localdate())
    changed = MonthlyReport.objects.filter(pk=report.pk, status=MonthlyReport.Status.DRAFT).update(
        status=MonthlyReport.Status.DELIVERED, delivered_at=now, delivered_by=by, snapshot=document, updated_at=now)
    if changed != 1:
        raise ReportDelivered("This report has already been delivered.")
    emails = list(dict.fromkeys(c.email.strip().lower() for c in contacts))
    by_email = {c.email.strip().lower(): c for c in contacts}
    ReportRecipient.objects.bulk_create([ReportRecipient(report=report, contact=by_email[e], email=e, sent_at=now)
                                         for e in emails])
    month = _month_label(report)
    activity_log(account=report.account, by=by, kind=Activity.Kind.EMAIL, occurred_at=now,
                 subject=f"Monthly report for {month} sent",
                 body=f"The monthly report for {month} was emailed to {', '.join(c.name for c in contacts)}.",
                 minutes_spent=minutes_spent, contacts=contacts)
    report.status, report.delivered_at, report.delivered_by, report.snapshot = (
        MonthlyReport.Status.DELIVERED, now, by, document)
    subject, text, html = email_render(report=report, document=document, by=by)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=emails,
                                     reply_to=[by.email] if getattr(by, "email", "") else None,
                                     connection=email_connection)
    message.attach_alternative(html, "text/html")
    message.send()
    return report


@transaction.atomic
def report_follow_up_schedule(*, report: MonthlyReport, by, due_date: date | None, title: str = "") -> Task:
    """Schedules the follow-up call: a follow-up task owned by the account's CSM (else by whoever schedules it),
    linked to the report. Allowed on drafts and delivered reports; refused while an earlier one is still open."""
    report = _fresh(report)
    if due_date is None:
        raise ValidationError({"due_date": "Choose the day of the follow-up call."})
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": "The follow-up call cannot be due in the past."})
    existing = report.follow_up_task
    if existing is not None and existing.status == Task.Status.OPEN:
        raise ValidationError({NON_FIELD_ERRORS: f"A follow-up call is already scheduled for "
                                                 f"{existing.due_date:%Y-%m-%d} (\u201c{existing.title}\u201d). "
                                                 "Complete or cancel that task first."})
    title = (title or "").strip() or f"Follow-up call on the {report.month:%B} report"
    account = report.account
    task = Task(account=account, title=title, owner_id=account.csm_id or by.pk, due_date=due_date,
                type=Task.Type.FOLLOW_UP, priority=Task.Priority.NORMAL, source=Task.Source.MANUAL,
                description=f"Go through the monthly report for {_month_label(report)} with {account.name} and "
                            "agree the next step.")
    task.full_clean(exclude=["tenant"])
    task.save()
    linked = (MonthlyReport.objects.filter(pk=report.pk)
              .filter(Q(follow_up_task__isnull=True) | ~Q(follow_up_task__status=Task.Status.OPEN))
              .update(follow_up_task=task, updated_at=timezone.now()))
    if linked != 1:  # someone scheduled one meanwhile: the task above is rolled back with this error
        raise ValidationError({NON_FIELD_ERRORS: "A follow-up call was just scheduled by someone else; reload."})
    report.follow_up_task = task
    return task


def report_drafts_follow_csm(*, account_ids, to_user) -> int:
    """An account moved to another CSM takes its undelivered reports along (the new CSM delivers them); delivered
    reports stay filed under whoever delivered them. Runs inside the caller's tenant context and transaction."""
    return MonthlyReport.objects.filter(account_id__in=account_ids, status=MonthlyReport.Status.DRAFT).update(
        csm=to_user)
