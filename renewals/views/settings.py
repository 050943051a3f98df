"""Ops pages of renewals: the settings (lead days, churn reasons, the probability table, retention targets) and
the contracts import (upload -> map columns -> preview -> commit, all or nothing).

Every form answers 400 with its field errors on the same page; nothing is half-written."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.importing.files import upload_too_large
from accounts.importing.mapping import mapping_guess, mapping_missing
from accounts.importing.pending import pending_create, pending_delete, pending_load, pending_save
from csplatform.tenancy.pages import tenant_page

from .. import importing
from ..forms import (
    ChurnReasonForm,
    ContractMappingForm,
    ContractUploadForm,
    LeadDaysForm,
    ProbabilityForm,
    TargetForm,
)
from ..models import ChurnReason, ProbabilityRule, RenewalSettings, RetentionTarget
from ..probability import DEFAULT_RULES, probability_table

SHOWN = 500  # rows of errors and outcomes listed on the import preview; the counts cover them all


def _settings(request) -> RenewalSettings:
    return RenewalSettings.objects.get_or_create(tenant=request.tenant)[0]


def _reason_or_404(reason_id) -> ChurnReason:
    reason = ChurnReason.objects.filter(pk=reason_id).first()
    if reason is None:
        raise Http404("No such churn reason")
    return reason


def _target_or_404(target_id) -> RetentionTarget:
    target = RetentionTarget.objects.filter(pk=target_id).first()
    if target is None:
        raise Http404("No such retention target")
    return target


def _page(request, *, status=200, lead_form=None, reason_forms=None, new_reason_form=None, probability_form=None,
          target_form=None, editing=None):
    reasons = list(ChurnReason.objects.order_by("position", "name"))
    reason_forms = reason_forms or {}
    if editing is None and "target" in request.GET and request.GET["target"].isdigit():
        editing = _target_or_404(request.GET["target"])
    context = {
        "lead_form": lead_form or LeadDaysForm(instance=_settings(request), prefix="lead"),
        "reasons": [(r, reason_forms.get(r.pk) or ChurnReasonForm(instance=r, prefix=f"reason-{r.pk}"))
                    for r in reasons],
        "new_reason_form": new_reason_form or ChurnReasonForm(prefix="new-reason"),
        "probability_form": probability_form or ProbabilityForm(table=probability_table(), prefix="p"),
        "defaults": DEFAULT_RULES,
        "targets": list(RetentionTarget.objects.select_related("team_manager", "csm")
                        .order_by("-year", "-quarter", "team_manager__full_name", "csm__full_name")),
        "target_form": target_form or TargetForm(instance=editing, tenant=request.tenant, prefix="target"),
        "editing": editing,
    }
    return render(request, "renewals/settings.html", context, status=status)


def _back(request, anchor: str):
    return redirect(reverse("renewals:settings", kwargs={"tenant_slug": request.tenant.slug}) + f"#{anchor}")


@tenant_page("renewals.configure")
def settings_page(request):
    return _page(request)


@require_POST
@tenant_page("renewals.configure")
def lead_days_save(request):
    form = LeadDaysForm(request.POST, instance=_settings(request), prefix="lead")
    if not form.is_valid():
        return _page(request, status=400, lead_form=form)
    form.save()
    messages.success(request, f"Renewals now open {form.instance.lead_days} days before the contract ends "
                              "(from tonight's run).")
    return _back(request, "lead-days")


@require_POST
@tenant_page("renewals.configure")
def reason_save(request, reason_id=None):
    reason = _reason_or_404(reason_id) if reason_id else ChurnReason()
    prefix = f"reason-{reason.pk}" if reason_id else "new-reason"
    form = ChurnReasonForm(request.POST, instance=reason, prefix=prefix)
    if not form.is_valid():
        if reason_id:
            return _page(request, status=400, reason_forms={reason.pk: form})
        return _page(request, status=400, new_reason_form=form)
    if not reason_id:
        form.instance.position = (ChurnReason.objects.aggregate(last=Max("position"))["last"] or 0) + 1
    reason = form.save()
    state = "" if reason.is_active else " (inactive: no longer offered when closing a renewal)"
    messages.success(request, f"Churn reason “{reason.name}” saved{state}.")
    return _back(request, "reasons")


@require_POST
@tenant_page("renewals.configure")
def probability_save(request):
    form = ProbabilityForm(request.POST, table=probability_table(), prefix="p")
    if not form.is_valid():
        return _page(request, status=400, probability_form=form)
    with transaction.atomic():
        have = {(r.dimension, r.key): r for r in ProbabilityRule.objects.select_for_update()}
        changed = []
        for dimension, key, points in form.rules():
            rule = have.get((dimension, key))
            if rule is None:
                ProbabilityRule.objects.create(dimension=dimension, key=key, points=points)
            elif rule.points != points:
                rule.points = points
                changed.append(rule)
        ProbabilityRule.objects.bulk_update(changed, ["points"])
    messages.success(request, "Probability table saved. Tonight's forecast uses it.")
    return _back(request, "probability")


@require_POST
@tenant_page("renewals.configure")
def target_save(request, target_id=None):
    target = _target_or_404(target_id) if target_id else None
    form = TargetForm(request.POST, instance=target, tenant=request.tenant, prefix="target")
    if not form.is_valid():
        return _page(request, status=400, target_form=form, editing=target)
    target = form.save()
    messages.success(request, f"Retention target for {target.year} Q{target.quarter} saved.")
    return _back(request, "targets")


@require_POST
@tenant_page("renewals.configure")
def target_delete(request, target_id):
    target = _target_or_404(target_id)
    target.delete()
    messages.success(request, f"Retention target for {target.year} Q{target.quarter} removed.")
    return _back(request, "targets")


# --- contracts import -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@tenant_page("contracts.edit")
def import_upload(request):
    too_large = upload_too_large(request) if request.method == "POST" else None
    if too_large:
        messages.error(request, too_large)
        return render(request, "renewals/import_upload.html",
                      {"form": ContractUploadForm(), "columns": importing.COLUMNS}, status=413)
    form = ContractUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        pending = pending_create(
            tenant_id=request.tenant.pk, user_id=request.user.pk, kind=importing.KIND,
            filename=form.cleaned_data["file"].name, table=form.table,
            mapping=mapping_guess(columns=importing.COLUMNS, headers=form.table.headers))
        return redirect("renewals:import_preview", tenant_slug=request.tenant.slug, token=pending.token)
    return render(request, "renewals/import_upload.html", {"form": form, "columns": importing.COLUMNS},
                  status=400 if form.errors else 200)


def _pending_or_404(request, token):
    pending = pending_load(token=token, tenant_id=request.tenant.pk, user_id=request.user.pk)
    if pending is None or pending.kind != importing.KIND:
        raise Http404("This upload has expired or belongs to someone else; upload the file again.")
    return pending


def _preview_page(request, pending, *, form=None, report=None, commit_failed=False, status=200):
    form = form or ContractMappingForm(columns=importing.COLUMNS, headers=pending.table.headers,
                                       mapping=pending.mapping)
    missing = mapping_missing(columns=importing.COLUMNS, mapping=pending.mapping)
    if report is None and not missing and not form.is_bound:
        report = importing.contracts_preview(table=pending.table, mapping=pending.mapping)
    return render(request, "renewals/import_preview.html", {
        "pending": pending, "form": form, "missing": missing, "report": report,
        "errors": report.errors[:SHOWN] if report else [], "outcomes": report.rows[:SHOWN] if report else [],
        "shown": SHOWN, "commit_failed": commit_failed,
        "contracts": (report.created + report.updated + report.unchanged) if report else 0,
    }, status=status)


@require_http_methods(["GET", "POST"])
@tenant_page("contracts.edit")
def import_preview(request, token):
    pending = _pending_or_404(request, token)
    if request.method == "POST":
        form = ContractMappingForm(request.POST, columns=importing.COLUMNS, headers=pending.table.headers,
                                   mapping=pending.mapping)
        if form.is_valid():
            pending.mapping = form.mapping
            pending_save(pending)
            return redirect("renewals:import_preview", tenant_slug=request.tenant.slug, token=token)
        return _preview_page(request, pending, form=form, status=400)
    return _preview_page(request, pending)


@require_POST
@tenant_page("contracts.edit")
def import_commit(request, token):
    pending = _pending_or_404(request, token)
    if mapping_missing(columns=importing.COLUMNS, mapping=pending.mapping):
        return redirect("renewals:import_preview", tenant_slug=request.tenant.slug, token=token)
    report = importing.contracts_commit(table=pending.table, mapping=pending.mapping)
    if not report.committed:
        return _preview_page(request, pending, report=report, commit_failed=True, status=400)
    pending_delete(token)
    messages.success(request, f"Imported {pending.filename}: {report.created} contract(s) created, "
                              f"{report.updated} updated, {report.unchanged} unchanged.")
    return redirect("renewals:import", tenant_slug=request.tenant.slug)
