"""Business reviews (QBR/EBR): list, create, detail with the decision log, and the printable pack."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Account
from accounts.permissions import account_writable
from accounts.views.common import get_account_or_404, require_writable
from csplatform.tenancy.pages import tenant_page

from .. import selectors, services
from ..forms_reviews import BusinessReviewForm, DecisionCloseForm, DecisionForm
from ..goals import goal_progress, goal_status
from ..models import BusinessReview, Decision, Goal, SuccessPlan


def _review_or_404(review_id) -> BusinessReview:
    try:
        return BusinessReview.objects.select_related("account", "account__csm", "plan").get(pk=review_id)
    except BusinessReview.DoesNotExist:
        raise Http404("No such review") from None


def _account_param(request):
    raw = request.GET.get("account") or request.POST.get("account")
    if not raw:
        return None
    try:
        return get_account_or_404(int(raw))
    except ValueError:
        raise Http404("No such account") from None


@tenant_page("accounts.view")
def review_list(request):
    reviews = BusinessReview.objects.select_related("account").prefetch_related("decisions")
    when = request.GET.get("when", "")
    today = timezone.localdate()
    if when == "upcoming":
        reviews = reviews.filter(held_on__gte=today).order_by("held_on", "id")
    elif when == "past":
        reviews = reviews.filter(held_on__lt=today)
    account = None
    if request.GET.get("account"):
        account = _account_param(request)
        reviews = reviews.filter(account=account)
    page = Paginator(reviews, 25).get_page(request.GET.get("page"))
    return render(request, "success_plans/reviews/list.html", {
        "page": page, "when": when, "account": account, "today": today,
        "accounts": Account.objects.order_by("name").only("id", "name"),
    })


@require_http_methods(["GET", "POST"])
@tenant_page("reviews.edit")
def review_create(request):
    account = _account_param(request)
    if account is None:
        raise Http404("Start a review from an account")
    require_writable(request, account, "reviews.edit")
    form = BusinessReviewForm(request.POST or None, account=account, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review = services.review_create(account=account, kind=data["kind"], held_on=data["held_on"],
                                            agenda=data["agenda"], notes=data["notes"],
                                            contacts=data["contacts"], users=data["users"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Review saved.")
            return redirect("reviews:detail", tenant_slug=request.tenant.slug, review_id=review.pk)
    return render(request, "success_plans/reviews/form.html", {"form": form, "account": account},
                  status=400 if form.errors else 200)


def _log_context(request, review, *, decision_form=None):
    decisions = selectors.decisions_for_review(review=review)
    can_edit = account_writable(request.membership, review.account, "reviews.edit")
    return {
        "review": review,
        "taken": decisions["taken"],
        "carried": decisions["carried"],
        "can_edit": can_edit,
        "close_choices": DecisionCloseForm.base_fields["status"].choices,
        "decision_form": decision_form or (DecisionForm(review=review, tenant=request.tenant) if can_edit else None),
    }


@tenant_page("accounts.view")
def review_detail(request, review_id):
    review = _review_or_404(review_id)
    context = _log_context(request, review)
    context.update({
        "contacts": review.contacts.order_by("name"),
        "users": review.users.order_by("full_name"),
    })
    return render(request, "success_plans/reviews/detail.html", context)


def _log_response(request, review, *, status=200, decision_form=None, notice=""):
    if request.htmx:
        context = _log_context(request, review, decision_form=decision_form)
        context["notice"] = notice
        return render(request, "success_plans/reviews/_decision_log.html", context, status=status)
    if status == 200:
        return redirect("reviews:detail", tenant_slug=request.tenant.slug, review_id=review.pk)
    context = _log_context(request, review, decision_form=decision_form)
    context.update({"contacts": review.contacts.order_by("name"), "users": review.users.order_by("full_name")})
    return render(request, "success_plans/reviews/detail.html", context, status=status)


@require_http_methods(["POST"])
@tenant_page("reviews.edit")
def decision_add(request, review_id):
    review = _review_or_404(review_id)
    require_writable(request, review.account, "reviews.edit")
    form = DecisionForm(request.POST, review=review, tenant=request.tenant)
    if form.is_valid():
        try:
            services.decision_add(review=review, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not request.htmx:
                messages.success(request, "Decision added.")
            return _log_response(request, review)
    return _log_response(request, review, status=400, decision_form=form)


@require_http_methods(["POST"])
@tenant_page("reviews.edit")
def decision_close(request, review_id, decision_id):
    """Closes a decision shown on this review (taken here or carried forward); compare-and-set on open."""
    review = _review_or_404(review_id)
    try:
        decision = Decision.objects.get(pk=decision_id, account_id=review.account_id)
    except Decision.DoesNotExist:
        raise Http404("No such decision") from None
    require_writable(request, review.account, "reviews.edit")
    form = DecisionCloseForm(request.POST)
    if not form.is_valid():
        return _log_response(request, review, status=400)
    if services.decision_close(decision=decision, status=form.cleaned_data["status"]):
        if not request.htmx:
            messages.success(request, f"Decision closed as {form.cleaned_data['status']}.")
        return _log_response(request, review)
    notice = "Someone closed this decision already."
    if not request.htmx:
        messages.error(request, notice)
    return _log_response(request, review, notice=notice)


def _goals_for_pack(review, today):
    goals = Goal.objects.filter(account_id=review.account_id).select_related("plan", "approved_by")
    if review.plan_id:
        goals = goals.filter(plan_id=review.plan_id)
    else:
        goals = goals.filter(plan__status__in=[SuccessPlan.Status.DRAFT, SuccessPlan.Status.ACTIVE])
    labels = dict(Goal.Status.choices)
    rows = []
    for goal in goals:
        progress = goal_progress(baseline=goal.baseline, target=goal.target, current=goal.current_value)
        status = goal_status(goal, today)
        rows.append({"goal": goal, "progress": round(progress * 100), "status": status,
                     "status_label": labels.get(status, status)})
    return rows


@tenant_page("accounts.view")
def review_pack(request, review_id):
    review = _review_or_404(review_id)
    decisions = selectors.decisions_for_review(review=review)
    year = review.held_on.year
    return render(request, "success_plans/reviews/pack.html", {
        "review": review,
        "account": review.account,
        "contacts": review.contacts.order_by("name"),
        "users": review.users.order_by("full_name"),
        "goals": _goals_for_pack(review, timezone.localdate()),
        "value": selectors.value_in_year(account=review.account, year=year),
        "year": year,
        "carried": decisions["carried"],
        "taken": decisions["taken"],
    })


@require_http_methods(["GET", "POST"])
@tenant_page("reviews.edit")
def review_edit(request, review_id):
    review = _review_or_404(review_id)
    require_writable(request, review.account, "reviews.edit")
    initial = {"kind": review.kind, "held_on": review.held_on, "agenda": review.agenda, "notes": review.notes,
               "contacts": list(review.contacts.all()), "users": list(review.users.all())}
    form = BusinessReviewForm(request.POST or None, initial=initial, account=review.account, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_update(review=review, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Review saved.")
            return redirect("reviews:detail", tenant_slug=request.tenant.slug, review_id=review.pk)
    return render(request, "success_plans/reviews/form.html", {"form": form, "account": review.account,
                                                               "review": review},
                  status=400 if form.errors else 200)
