"""Product feedback (voice of the customer): ranking by prevalence, create, accounts asking, status."""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.views.common import get_account_or_404, require_writable
from csplatform.tenancy.pages import tenant_page

from .. import selectors
from ..forms_programs import FeedbackAccountForm, FeedbackForm, FeedbackStatusForm
from ..models import FeedbackAccount, ProductFeedback


def _feedback_or_404(feedback_id) -> ProductFeedback:
    try:
        return ProductFeedback.objects.select_related("created_by").get(pk=feedback_id)
    except ProductFeedback.DoesNotExist:
        raise Http404("No such feedback") from None


def _back(request, feedback):
    return redirect("programs:feedback_detail", tenant_slug=request.tenant.slug, feedback_id=feedback.pk)


@tenant_page("feedback.view")
def feedback_list(request):
    status = request.GET.get("status", "")
    items = selectors.feedback_ranking(status=status if status in ProductFeedback.Status.values else None)
    return render(request, "success_plans/programs/feedback_list.html", {
        "items": items, "statuses": ProductFeedback.Status.choices, "selected_status": status,
    })


@require_http_methods(["GET", "POST"])
@tenant_page("feedback.edit")
def feedback_create(request):
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        feedback = form.save(commit=False)
        feedback.created_by = request.user
        feedback.save()
        messages.success(request, "Feedback recorded. Add the accounts asking for it.")
        return _back(request, feedback)
    return render(request, "success_plans/programs/feedback_form.html", {"form": form},
                  status=400 if form.errors else 200)


def _detail_context(request, feedback, *, account_form=None, status_form=None):
    return {
        "feedback": feedback,
        "asking": FeedbackAccount.objects.filter(feedback=feedback).select_related("account", "account__csm")
        .order_by("account__name"),
        "account_form": account_form or FeedbackAccountForm(feedback=feedback),
        "status_form": status_form or FeedbackStatusForm(initial={"status": feedback.status}),
    }


@tenant_page("feedback.view")
def feedback_detail(request, feedback_id):
    feedback = _feedback_or_404(feedback_id)
    return render(request, "success_plans/programs/feedback_detail.html", _detail_context(request, feedback))


@require_http_methods(["POST"])
@tenant_page("feedback.edit")
def feedback_account_add(request, feedback_id):
    feedback = _feedback_or_404(feedback_id)
    form = FeedbackAccountForm(request.POST, feedback=feedback)
    if not form.is_valid():
        return render(request, "success_plans/programs/feedback_detail.html",
                      _detail_context(request, feedback, account_form=form), status=400)
    account = form.cleaned_data["account"]
    require_writable(request, account, "feedback.edit")
    try:
        with transaction.atomic():
            FeedbackAccount.objects.create(feedback=feedback, account=account)
    except IntegrityError:
        pass  # added by someone else a moment ago: the outcome is the same
    messages.success(request, f"{account.name} added.")
    return _back(request, feedback)


@require_http_methods(["POST"])
@tenant_page("feedback.edit")
def feedback_account_remove(request, feedback_id, account_id):
    feedback = _feedback_or_404(feedback_id)
    account = get_account_or_404(account_id)
    require_writable(request, account, "feedback.edit")
    FeedbackAccount.objects.filter(feedback=feedback, account=account).delete()
    messages.success(request, f"{account.name} removed.")
    return _back(request, feedback)


@require_http_methods(["POST"])
@tenant_page("feedback.edit")
def feedback_status(request, feedback_id):
    feedback = _feedback_or_404(feedback_id)
    form = FeedbackStatusForm(request.POST)
    if not form.is_valid():
        return render(request, "success_plans/programs/feedback_detail.html",
                      _detail_context(request, feedback, status_form=form), status=400)
    ProductFeedback.objects.filter(pk=feedback.pk).update(status=form.cleaned_data["status"])
    messages.success(request, "Status changed.")
    return _back(request, feedback)
