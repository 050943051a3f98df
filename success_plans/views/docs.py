"""Process documents (the knowledge base): list, create/edit in Markdown, safe rendering, approval."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from .. import services
from ..forms_programs import ProcessDocForm
from ..markdown import render_markdown
from ..models import ProcessDoc


def _doc_or_404(doc_id) -> ProcessDoc:
    try:
        return ProcessDoc.objects.select_related("author", "approved_by").get(pk=doc_id)
    except ProcessDoc.DoesNotExist:
        raise Http404("No such document") from None


def _can_edit(request, doc) -> bool:
    """The author, or a lead (who approves documents)."""
    role = request.membership.role
    if doc.author_id == request.user.pk and role_can(role, "processdocs.write"):
        return True
    return role_can(role, "processdocs.approve")


def _can_approve(request, doc) -> bool:
    return (doc.status == ProcessDoc.Status.DRAFT and doc.author_id != request.user.pk
            and role_can(request.membership.role, "processdocs.approve"))


def _show(request, doc_id):
    return redirect("programs:doc", tenant_slug=request.tenant.slug, doc_id=doc_id)


@tenant_page("accounts.view")
def doc_list(request):
    docs = ProcessDoc.objects.select_related("author", "approved_by")
    status = request.GET.get("status", "")
    if status in ProcessDoc.Status.values:
        docs = docs.filter(status=status)
    return render(request, "success_plans/programs/doc_list.html", {
        "docs": docs, "statuses": ProcessDoc.Status.choices, "selected_status": status,
    })


@tenant_page("accounts.view")
def doc_detail(request, doc_id):
    doc = _doc_or_404(doc_id)
    return render(request, "success_plans/programs/doc_detail.html", {
        "doc": doc, "body_html": render_markdown(doc.body),
        "can_edit": _can_edit(request, doc), "can_approve": _can_approve(request, doc),
    })


@require_http_methods(["GET", "POST"])
@tenant_page("processdocs.write")
def doc_edit(request, doc_id=None):
    doc = _doc_or_404(doc_id) if doc_id else None
    if doc is not None and not _can_edit(request, doc):
        raise PermissionDenied("Only the author or a manager edits this document.")
    form = ProcessDocForm(request.POST or None, instance=doc)
    if request.method == "POST" and form.is_valid():
        doc = form.save(commit=False)
        if doc.pk is None:
            doc.author = request.user
        elif doc.status == ProcessDoc.Status.APPROVED:
            # A changed document needs a fresh approval before it counts again.
            doc.status, doc.approved_by, doc.approved_at = ProcessDoc.Status.DRAFT, None, None
            messages.info(request, "The document is a draft again until someone approves the change.")
        doc.save()
        messages.success(request, f"{doc.title} saved.")
        return _show(request, doc.pk)
    return render(request, "success_plans/programs/doc_form.html", {"form": form, "doc": doc},
                  status=400 if form.errors else 200)


@require_http_methods(["POST"])
@tenant_page("processdocs.approve")
def doc_approve(request, doc_id):
    doc = _doc_or_404(doc_id)
    try:
        approved = services.processdoc_approve(doc=doc, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return render(request, "success_plans/programs/doc_detail.html", {
            "doc": doc, "body_html": render_markdown(doc.body),
            "can_edit": _can_edit(request, doc), "can_approve": False,
        }, status=400)
    if approved:
        messages.success(request, f"{doc.title} approved.")
    else:
        messages.error(request, "This document was approved already.")
    return _show(request, doc.pk)
