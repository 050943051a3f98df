"""Upload -> (map columns) -> preview -> commit. Thin: parsing, matching and writing live elsewhere."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from csplatform.tenancy.pages import tenant_page

from . import services
from .files import upload_too_large
from .forms import MappingForm, UploadForm
from .mapping import mapping_guess, mapping_missing
from .pending import pending_create, pending_delete, pending_load, pending_save
from .resources import KIND_CHOICES, RESOURCES

SHOWN = 500  # rows of errors and outcomes listed on the page; the counts cover them all


@tenant_page("accounts.import")
def upload(request):
    kinds = [(label, RESOURCES[kind].columns) for kind, label in KIND_CHOICES]
    too_large = upload_too_large(request) if request.method == "POST" else None
    if too_large:
        messages.error(request, too_large)
        return render(request, "accounts/import/upload.html", {"form": UploadForm(), "kinds": kinds}, status=413)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        pending = pending_create(
            tenant_id=request.tenant.pk, user_id=request.user.pk, kind=kind, filename=form.cleaned_data["file"].name,
            table=form.table, mapping=mapping_guess(columns=RESOURCES[kind].columns, headers=form.table.headers),
        )
        return redirect("accounts_import:preview", tenant_slug=request.tenant.slug, token=pending.token)
    return render(request, "accounts/import/upload.html", {"form": form, "kinds": kinds},
                  status=400 if form.errors else 200)


@tenant_page("accounts.import")
def preview(request, token):
    pending = _pending_or_404(request, token)
    if request.method == "POST":
        form = MappingForm(request.POST, kind=pending.kind, headers=pending.table.headers, mapping=pending.mapping)
        if form.is_valid():
            pending.mapping = form.mapping
            pending_save(pending)
            return redirect("accounts_import:preview", tenant_slug=request.tenant.slug, token=token)
        return _preview_page(request, pending, form=form, status=400)
    return _preview_page(request, pending)


@require_POST
@tenant_page("accounts.import")
def commit(request, token):
    pending = _pending_or_404(request, token)
    if mapping_missing(columns=RESOURCES[pending.kind].columns, mapping=pending.mapping):
        return redirect("accounts_import:preview", tenant_slug=request.tenant.slug, token=token)
    report = services.import_commit(kind=pending.kind, table=pending.table, mapping=pending.mapping)
    if not report.committed:
        return _preview_page(request, pending, report=report, commit_failed=True, status=400)
    pending_delete(token)
    messages.success(
        request,
        f"Imported {pending.filename}: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged.",
    )
    return redirect("accounts_import:upload", tenant_slug=request.tenant.slug)


def _pending_or_404(request, token):
    pending = pending_load(token=token, tenant_id=request.tenant.pk, user_id=request.user.pk)
    if pending is None or pending.kind not in RESOURCES:
        raise Http404("This upload has expired or belongs to someone else; upload the file again.")
    return pending


def _preview_page(request, pending, *, form=None, report=None, commit_failed=False, status=200):
    form = form or MappingForm(kind=pending.kind, headers=pending.table.headers, mapping=pending.mapping)
    missing = mapping_missing(columns=RESOURCES[pending.kind].columns, mapping=pending.mapping)
    if report is None and not missing and not form.is_bound:
        report = services.import_preview(kind=pending.kind, table=pending.table, mapping=pending.mapping)
    return render(request, "accounts/import/preview.html", {
        "pending": pending,
        "kind_label": dict(KIND_CHOICES)[pending.kind],
        "form": form,
        "missing": missing,
        "report": report,
        "errors": report.errors[:SHOWN] if report else [],
        "outcomes": report.rows[:SHOWN] if report else [],
        "shown": SHOWN,
        "commit_failed": commit_failed,
    }, status=status)
