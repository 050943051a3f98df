"""Coverage pages: accounts and ARR per CSM against the tenant's coverage rules, the unassigned accounts, the
reassignment form (pick, confirm, done), and ops' rules.

Managers see their team's rows and move accounts within it; ops, admins see every CSM and move anywhere in the
tenant; executives look. A fixed number of queries whatever the number of accounts: the table is
`coverage_by_csm` (grouped queries) and the picker is one page of accounts."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import team_user_ids
from csplatform.tenancy.models import Membership, Role
from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.permissions import role_can

from ..coverage import selectors, services
from ..coverage.forms import ReassignForm, RuleEditForm, RuleNewForm
from ..models import CoverageRule

PICKER_PAGE = 50


def _team_ids(request) -> set[int] | None:
    """A manager's team (they see and move within it); None for everyone else (the whole tenant)."""
    return team_user_ids(request.membership) if request.membership.role == Role.MANAGER else None


def _picked_person(request):
    """The ?csm=<id> whose book the picker shows: a member of this tenant or someone owning its accounts."""
    raw = request.GET.get("csm") or request.POST.get("from_csm") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such person")
    membership = Membership.objects.filter(tenant=request.tenant, user_id=int(raw)).select_related("user").first()
    if membership is not None:
        return membership.user
    owner = selectors.book_of(user_id=int(raw)).select_related("csm").first()
    if owner is None:
        raise Http404("No such person")  # another tenant's user looks like nobody
    return owner.csm


def _page(request, *, form=None, status=200, confirm=None, error=""):
    team = _team_ids(request)
    person = _picked_person(request)
    accounts = selectors.book_of(user_id=person.pk) if person else selectors.unassigned_accounts()
    picker = Paginator(accounts, PICKER_PAGE).get_page(request.GET.get("page"))
    can_move = role_can(request.membership.role, "accounts.reassign")
    if form is None and can_move:
        form = ReassignForm(tenant=request.tenant, user_ids=team)
    picked = set(form.data.getlist("account_ids")) if form is not None and form.is_bound else set()
    context = {
        "coverage": selectors.coverage_by_csm(tenant=request.tenant, user_ids=team),
        "person": person,
        "picker": picker,
        "picked": {int(i) for i in picked if str(i).isdigit()},
        "form": form,
        "can_move": can_move,
        "confirm": confirm,
        "error": error,
        "recent": selectors.recent_assignments(),
        "team_only": team is not None,
    }
    return render(request, "insights/coverage/page.html", context, status=status)


@tenant_page("coverage.view")
def page(request):
    return _page(request)


def _errors_to_form(form, error: ValidationError):
    for name, problems in error.message_dict.items():
        form.add_error(name if name in form.fields else None, problems)


@require_POST
@tenant_page("accounts.reassign")
def reassign(request):
    """Two steps: the first post checks and shows what would move; the second (confirm=1) moves it."""
    team = _team_ids(request)
    form = ReassignForm(request.POST, tenant=request.tenant, user_ids=team)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    data = form.cleaned_data
    arguments = {"tenant": request.tenant, "account_ids": data["account_ids"], "to_user": data["to_user"],
                 "by": request.user, "note": data["note"]}
    try:
        if request.POST.get("confirm") != "1":
            plan = services.reassignment_check(**arguments)
            return _page(request, form=form, confirm=plan)
        done = services.accounts_reassign(**arguments)
    except services.ReassignForbidden as refused:
        return _page(request, form=form, status=403, error=str(refused))
    except ValidationError as error:
        _errors_to_form(form, error)
        return _page(request, form=form, status=400)
    moved = [f"{done['accounts']} account{'s' if done['accounts'] != 1 else ''}",
             f"{done['tasks']} open task{'s' if done['tasks'] != 1 else ''}"]
    extra = [f"{done[k]} open {k}" for k in ("renewals", "expansions") if done[k]]
    if done["draft_reports"]:
        extra.append(f"{done['draft_reports']} monthly report{'s' if done['draft_reports'] != 1 else ''} to deliver")
    unchanged = f" {done['unchanged']} already with them stayed." if done["unchanged"] else ""
    messages.success(request, f"Moved {' and '.join(moved)} to {done['to_user'].display_name}"
                              f"{' (with ' + ', '.join(extra) + ')' if extra else ''}.{unchanged}")
    return redirect(reverse("coverage:page", kwargs={"tenant_slug": request.tenant.slug})
                    + f"?csm={done['to_user'].pk}")


# ---- rules (ops) -----------------------------------------------------------------------------------------------


def _rule_or_404(rule_id) -> CoverageRule:
    rule = CoverageRule.objects.select_related("segment").filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such rule")
    return rule


def _rules_page(request, *, new_form=None, edit_form=None, status=200, error=""):
    rules = selectors.coverage_rules()
    for rule in rules:
        rule["form"] = (edit_form if edit_form is not None and edit_form.rule_id == rule["id"]
                        else RuleEditForm(rule=rule["rule"]))
    return render(request, "insights/coverage/rules.html", {
        "rules": rules, "new_form": new_form or RuleNewForm(), "error": error}, status=status)


def _rules_url(request) -> str:
    return reverse("coverage:rules", kwargs={"tenant_slug": request.tenant.slug})


@tenant_page("coverage.configure")
def rules(request):
    return _rules_page(request)


@require_POST
@tenant_page("coverage.configure")
def rule_new(request):
    form = RuleNewForm(request.POST)
    if form.is_valid():
        try:
            rule = services.coverage_rule_save(tenant=request.tenant, segment=form.cleaned_data["segment"],
                                               accounts_per_csm=form.cleaned_data["accounts_per_csm"])
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Rule added: 1 CSM : {rule.accounts_per_csm} {rule.segment} accounts.")
            return redirect(_rules_url(request))
    return _rules_page(request, new_form=form, status=400)


@require_POST
@tenant_page("coverage.configure")
def rule_save(request, rule_id):
    rule = _rule_or_404(rule_id)
    form = RuleEditForm(request.POST, rule=rule)
    if form.is_valid():
        try:
            rule = services.coverage_rule_save(tenant=request.tenant, rule=rule,
                                               accounts_per_csm=form.cleaned_data["accounts_per_csm"])
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            label = selectors.rule_label(accounts_per_csm=rule.accounts_per_csm,
                                         segment_name=rule.segment.name if rule.segment_id else None)
            messages.success(request, f"Rule saved: {label}.")
            return redirect(_rules_url(request))
    return _rules_page(request, edit_form=form, status=400)


@require_POST
@tenant_page("coverage.configure")
def rule_delete(request, rule_id):
    rule = _rule_or_404(rule_id)
    try:
        services.coverage_rule_delete(tenant=request.tenant, rule=rule)
    except ValidationError as error:
        return _rules_page(request, status=400, error=" ".join(error.messages))
    messages.success(request, f"The {rule.segment} rule is deleted: its accounts count by the catch-all rule.")
    return redirect(_rules_url(request))
