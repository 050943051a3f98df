"""Ops set the tenant's targets (amount, period, on/off per metric) in one table; managers and executives read it.
A refused save answers 400 with the reasons next to the fields, and writes nothing."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from ..models import Target
from ..targets.forms import TargetForm
from ..targets.services import TargetsInvalid, targets_update


@tenant_page("targets.view_team", writes="targets.configure")
def configure(request):
    targets = list(Target.objects.order_by("position", "id"))
    can_edit = role_can(request.membership.role, "targets.configure")
    status = 200
    if request.method == "POST":  # the decorator let only targets.configure post
        forms = [TargetForm(request.POST, target=t) for t in targets]
        if all([form.is_valid() for form in forms]):  # a list: every row gets its errors, not only the first
            try:
                targets_update(tenant=request.tenant, changes={form.target.pk: form.cleaned_data for form in forms})
            except TargetsInvalid as refused:
                for form in forms:
                    for field, reasons in refused.errors.get(form.target.pk, {}).items():
                        form.add_error(field if field in form.fields else None, reasons)
            else:
                messages.success(request, "Targets saved.")
                return redirect(reverse("targets:configure", kwargs={"tenant_slug": request.tenant.slug}))
        status = 400
    else:
        forms = [TargetForm(target=t) for t in targets]
    return render(request, "insights/targets/configure.html",
                  {"forms": forms, "can_edit": can_edit, "has_errors": status == 400}, status=status)
