"""Monthly report pages: the cycle's list, one report (review, recommend, deliver, follow up) and its printable
copy. Everyone reads (reports.view); writing needs reports.edit on the account ("whose account" rule: another
CSM's account answers 403, like the other apps' writes); another tenant's report id answers 404.

A fixed number of queries per page whatever the number of goals, decisions, answers or accounts."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Contact
from accounts.permissions import account_writable, team_user_ids
from csplatform.tenancy.models import Role, User
from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from ..models import MonthlyReport
from ..reports import selectors, services
from ..reports.drafting import reports_draft
from ..reports.forms import DeliverForm, FollowUpForm, RecommendationForm

PAGE_SIZE = 100


def _report_or_404(report_id) -> MonthlyReport:
    try:
        return selectors.report_get(report_id=report_id)
    except MonthlyReport.DoesNotExist:
        raise Http404("No such report") from None


def _can_edit(request, report) -> bool:
    return account_writable(request.membership, report.account, "reports.edit")


def _require_edit(request, report) -> None:
    if not _can_edit(request, report):
        raise PermissionDenied("Only the account's CSM, their manager and ops can change this report.")


def _back(request, report):
    return redirect("reports:detail", tenant_slug=request.tenant.slug, report_id=report.pk)


def _contacts(report) -> list[Contact]:
    return list(Contact.objects.filter(account_id=report.account_id).exclude(email="").order_by("name", "id"))


def _page(request, report, *, recommendation_form=None, deliver_form=None, follow_up_form=None, status=200,
          notice=""):
    today = timezone.localdate()
    can_edit = _can_edit(request, report)
    is_draft = report.status == MonthlyReport.Status.DRAFT
    context = {
        "report": report,
        "doc": selectors.report_shown(report=report, today=today),
        "is_draft": is_draft,
        "can_edit": can_edit,
        "recipients": [] if is_draft else list(report.recipients.all()),
        "follow_up": report.follow_up_task,
        "notice": notice,
        "today": today,
    }
    if can_edit:
        if is_draft:
            contacts = _contacts(report)
            context["recommendation_form"] = recommendation_form or RecommendationForm(
                initial={"recommendation": report.recommendation})
            context["deliver_form"] = deliver_form or DeliverForm(
                contacts=contacts, initial={"contacts": services.default_recipients(contacts)})
            context["has_contacts"] = bool(contacts)
        context["follow_up_form"] = follow_up_form or FollowUpForm()
        open_follow_up = report.follow_up_task is not None and report.follow_up_task.status == "open"
        context["show_follow_up_form"] = not open_follow_up or bool(follow_up_form and follow_up_form.errors)
    return render(request, "insights/reports/detail.html", context, status=status)


def _add_errors(error: ValidationError, *forms) -> None:
    """Puts each of the service's reasons next to its field, in whichever form has that field."""
    for field, reasons in error.message_dict.items():
        holders = [f for f in forms if f is not None and field in f.fields]
        if holders:
            for form in holders:
                form.add_error(field, reasons)
        elif forms[0] is not None:
            forms[0].add_error(None, reasons)


@tenant_page("reports.view")
def report_detail(request, report_id):
    return _page(request, _report_or_404(report_id))


@tenant_page("reports.view")
def report_print(request, report_id):
    report = _report_or_404(report_id)
    return render(request, "insights/reports/print.html", {
        "report": report,
        "doc": selectors.report_shown(report=report, today=timezone.localdate()),
        "recipients": list(report.recipients.all()) if report.status == MonthlyReport.Status.DELIVERED else [],
    })


@require_POST
@tenant_page("reports.edit")
def recommendation_save(request, report_id):
    report = _report_or_404(report_id)
    _require_edit(request, report)
    form = RecommendationForm(request.POST)
    if form.is_valid():
        try:
            services.report_recommendation_save(report=report, recommendation=form.cleaned_data["recommendation"])
        except services.ReportDelivered as delivered:
            return _page(request, report, notice=str(delivered), status=409)
        except ValidationError as error:
            _add_errors(error, form)
        else:
            messages.success(request, "Recommendation saved.")
            return _back(request, report)
    return _page(request, report, recommendation_form=form, status=400)


@require_POST
@tenant_page("reports.edit")
def figures_refresh(request, report_id):
    report = _report_or_404(report_id)
    _require_edit(request, report)
    if report.status != MonthlyReport.Status.DRAFT:
        return _page(request, report, notice="This report has been delivered; its figures are kept as sent.",
                     status=409)
    reports_draft(tenant=request.tenant, month=report.month, account_ids=[report.account_id])
    messages.success(request, "Figures refreshed from the latest data.")
    return _back(request, report)


@require_POST
@tenant_page("reports.edit")
def deliver(request, report_id):
    report = _report_or_404(report_id)
    _require_edit(request, report)
    if report.status != MonthlyReport.Status.DRAFT:
        return _page(request, report, notice="This report has already been delivered.", status=409)
    form = DeliverForm(request.POST, contacts=_contacts(report))
    # Bound to the saved text, so that a reason about the recommendation can be shown next to it.
    recommendation_form = RecommendationForm({"recommendation": report.recommendation})
    recommendation_form.is_valid()
    if form.is_valid():
        try:
            services.report_deliver(report=report, by=request.user, contacts=form.cleaned_data["contacts"],
                                    minutes_spent=form.cleaned_data["minutes_spent"] or 0)
        except services.ReportDelivered as delivered:
            return _page(request, _report_or_404(report_id), notice=str(delivered), status=409)
        except ValidationError as error:
            _add_errors(error, form, recommendation_form)
        else:
            messages.success(request, f"Report delivered to {len(form.cleaned_data['contacts'])} "
                                      f"contact{'s' if len(form.cleaned_data['contacts']) != 1 else ''}.")
            return _back(request, report)
    return _page(request, report, deliver_form=form, recommendation_form=recommendation_form, status=400)


@require_POST
@tenant_page("reports.edit")
def follow_up(request, report_id):
    report = _report_or_404(report_id)
    _require_edit(request, report)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            task = services.report_follow_up_schedule(report=report, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(error, form)
        else:
            messages.success(request, f"Follow-up call scheduled for {task.due_date:%Y-%m-%d}.")
            return _back(request, report)
    return _page(request, report, follow_up_form=form, status=400)


def _people(request) -> list[User]:
    """Whom this member may pick: a manager's team; every CSM and manager for ops, admins and executives."""
    people = User.objects.filter(memberships__tenant=request.tenant, memberships__role__in=[Role.CSM, Role.MANAGER])
    if request.membership.role == Role.MANAGER:
        people = people.filter(pk__in=team_user_ids(request.membership))
    return list(people.order_by("full_name", "email"))


def _chosen(request):
    """(user ids, choice, people): ?user=<id> or ?user=team for leads; default myself (the team for members who
    own no accounts: ops, admins, executives)."""
    can_team = role_can(request.membership.role, "reports.team")
    choice = request.GET.get("user", "")
    if not choice and can_team and request.membership.role not in (Role.CSM, Role.MANAGER):
        choice = "team"
    if not choice or choice == str(request.user.pk):
        return [request.user.pk], str(request.user.pk), _people(request) if can_team else []
    if not can_team:
        raise PermissionDenied("Only managers, ops and executives see other people's reports.")
    people = _people(request)
    ids = [p.pk for p in people]
    if choice == "team":
        return ids, "team", people
    if choice.isdigit() and int(choice) in ids:
        return [int(choice)], choice, people
    raise PermissionDenied("You can see your own reports and your team's.")


@tenant_page("reports.view")
def report_list(request):
    today = timezone.localdate()
    error = ""
    month = selectors.report_cycle_month(today)
    if request.GET.get("month"):
        try:
            month = selectors.parse_month(request.GET["month"])
        except ValueError:
            error = "Choose a month as YYYY-MM, for example 2026-10."
    user_ids, chosen, people = _chosen(request)
    rows = selectors.reports_for_cycle(month=month, user_ids=user_ids)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "insights/reports/list.html", {
        "month": month,
        "cycle_month": selectors.report_cycle_month(today),
        "counts": selectors.status_counts(month=month, user_ids=user_ids),
        "page": page,
        "params": params.urlencode(),
        "people": people,
        "chosen": chosen,
        "team_view": chosen == "team" or len(user_ids) > 1,
        "error": error,
        "today": today,
    }, status=400 if error else 200)
