"""Playbooks: list, create/edit with ordered steps (ops, admin), apply by hand to an account, recent runs."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.views.common import require_writable
from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from ..forms_programs import PlaybookApplyForm, PlaybookForm, PlaybookStepFormSet
from ..models import Playbook, PlaybookRun
from ..playbooks import playbook_apply


def _playbook_or_404(playbook_id) -> Playbook:
    try:
        return Playbook.objects.select_related("stage").get(pk=playbook_id)
    except Playbook.DoesNotExist:
        raise Http404("No such playbook") from None


@tenant_page("accounts.view")
def playbook_list(request):
    playbooks = Playbook.objects.select_related("stage").annotate(step_count=Count("steps", distinct=True))
    runs = PlaybookRun.objects.select_related("playbook", "account", "applied_by")[:20]
    return render(request, "success_plans/programs/playbook_list.html", {"playbooks": playbooks, "runs": runs})


def _detail_context(request, playbook, *, apply_form=None):
    can_apply = role_can(request.membership.role, "playbooks.apply")
    return {
        "playbook": playbook,
        "steps": playbook.steps.all(),
        "runs": playbook.runs.select_related("account", "applied_by").annotate(task_count=Count("tasks"))[:20],
        "can_apply": can_apply,
        "apply_form": apply_form or (PlaybookApplyForm() if can_apply else None),
    }


@tenant_page("accounts.view")
def playbook_detail(request, playbook_id):
    playbook = _playbook_or_404(playbook_id)
    return render(request, "success_plans/programs/playbook_detail.html", _detail_context(request, playbook))


@require_http_methods(["GET", "POST"])
@tenant_page("playbooks.manage")
def playbook_edit(request, playbook_id=None):
    playbook = _playbook_or_404(playbook_id) if playbook_id else Playbook()
    form = PlaybookForm(request.POST or None, instance=playbook)
    steps = PlaybookStepFormSet(request.POST or None, instance=playbook, prefix="steps")
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        with transaction.atomic():
            playbook = form.save()
            steps.instance = playbook
            steps.save()
        messages.success(request, f"{playbook.name} saved.")
        return redirect("programs:playbook", tenant_slug=request.tenant.slug, playbook_id=playbook.pk)
    invalid = request.method == "POST"
    return render(request, "success_plans/programs/playbook_form.html",
                  {"form": form, "steps": steps, "playbook": playbook if playbook.pk else None},
                  status=400 if invalid else 200)


@require_http_methods(["POST"])
@tenant_page("playbooks.apply")
def playbook_apply_to_account(request, playbook_id):
    playbook = _playbook_or_404(playbook_id)
    form = PlaybookApplyForm(request.POST)
    if not form.is_valid():
        return render(request, "success_plans/programs/playbook_detail.html",
                      _detail_context(request, playbook, apply_form=form), status=400)
    account = form.cleaned_data["account"]
    require_writable(request, account, "playbooks.apply")
    run = playbook_apply(playbook=playbook, account=account, by=request.user)
    count = run.tasks.count()
    messages.success(request, f"{playbook.name} applied: {count} task{'' if count == 1 else 's'} for "
                              f"{account.csm.display_name if account.csm else 'nobody (no CSM assigned)'}.")
    return redirect("accounts:detail", tenant_slug=request.tenant.slug, account_id=account.pk)
