"""Advocacy: record from an account, list with filters, counts per CSM per year by kind."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Account
from accounts.views.common import get_account_or_404, require_writable
from csplatform.tenancy.pages import tenant_page

from .. import selectors, services
from ..forms_programs import AdvocacyForm
from ..models import Advocacy


def _int_or_none(raw):
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@tenant_page("accounts.view")
def advocacy_list(request):
    items = Advocacy.objects.select_related("account", "contact", "captured_by")
    kind, status = request.GET.get("kind", ""), request.GET.get("status", "")
    account_id, year = _int_or_none(request.GET.get("account")), _int_or_none(request.GET.get("year"))
    if kind in Advocacy.Kind.values:
        items = items.filter(kind=kind)
    if status in Advocacy.Status.values:
        items = items.filter(status=status)
    if account_id:
        items = items.filter(account_id=account_id)
    if year:
        items = items.filter(happened_on__year=year)
    page = Paginator(items, 25).get_page(request.GET.get("page"))
    return render(request, "success_plans/programs/advocacy_list.html", {
        "page": page, "kinds": Advocacy.Kind.choices, "statuses": Advocacy.Status.choices,
        "selected": {"kind": kind, "status": status, "account": account_id, "year": year},
        "accounts": Account.objects.order_by("name").only("id", "name"),
    })


@require_http_methods(["GET", "POST"])
@tenant_page("advocacy.record")
def advocacy_create(request):
    account_id = _int_or_none(request.GET.get("account"))
    if account_id is None:
        raise Http404("Record advocacy from an account")
    account = get_account_or_404(account_id)
    require_writable(request, account, "advocacy.record")
    form = AdvocacyForm(request.POST or None, account=account,
                        initial={"happened_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.advocacy_record(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Advocacy recorded.")
            return redirect("accounts:detail", tenant_slug=request.tenant.slug, account_id=account.pk)
    return render(request, "success_plans/programs/advocacy_form.html", {"form": form, "account": account},
                  status=400 if form.errors else 200)


@tenant_page("book.view")
def advocacy_per_csm(request):
    """One aggregate query (selectors.advocacy_per_csm), pivoted here: a row per CSM, a column per kind."""
    year = _int_or_none(request.GET.get("year")) or timezone.localdate().year
    kinds = Advocacy.Kind.choices
    rows: dict = {}
    totals = {value: 0 for value, _ in kinds}
    for item in selectors.advocacy_per_csm(year=year):
        key = item["captured_by_id"]
        row = rows.setdefault(key, {
            "name": item["captured_by__full_name"] or item["captured_by__email"] or "Former member",
            "counts": {value: 0 for value, _ in kinds}, "total": 0})
        row["counts"][item["kind"]] += item["count"]
        row["total"] += item["count"]
        totals[item["kind"]] += item["count"]
    table = [{"name": r["name"], "cells": [r["counts"][v] for v, _ in kinds], "total": r["total"]}
             for r in rows.values()]
    return render(request, "success_plans/programs/advocacy_per_csm.html", {
        "year": year, "kinds": kinds, "table": table,
        "totals": [totals[v] for v, _ in kinds], "grand_total": sum(totals.values()),
    })


