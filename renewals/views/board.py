"""The renewals board: open renewals by month of close date (overdue first), with totals per month, the
account's health band, and inline edits (stage, category, expected ARR, close date) and closing with the
outcome for the members who may write the account.

With HTMX an edit answers the row (400 with the field errors in it); without, a redirect back to the board, or
the board with the row that was not saved on top."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.filters import csm_choices
from csplatform.tenancy.models import Role
from csplatform.tenancy.pages import tenant_page

from .. import selectors, services
from ..forms import OPEN_STAGES, BoardFilterForm, RenewalCloseForm, RenewalEditForm
from ..models import ChurnReason, RenewalOpportunity

ROW_TEMPLATE = "renewals/_renewal_row.html"
EDIT_FIELDS = ("stage", "category", "expected_arr", "close_date")


@dataclass
class RowState:
    """What a row shows besides the renewal: the values and errors of a form that was not saved."""

    edit: dict = field(default_factory=dict)
    edit_errors: dict = field(default_factory=dict)
    close: dict = field(default_factory=dict)
    close_errors: dict = field(default_factory=dict)
    close_general: list = field(default_factory=list)
    notice: str = ""

    @property
    def close_open(self) -> bool:
        return bool(self.close_errors)


def _row_state(renewal, *, edit_form=None, close_form=None, notice="") -> RowState:
    state = RowState(notice=notice)
    state.edit = {name: getattr(renewal, name) for name in EDIT_FIELDS}
    if edit_form is not None and edit_form.errors:
        state.edit = {name: edit_form.data.get(name, "") for name in EDIT_FIELDS}
        state.edit_errors = dict(edit_form.errors)
    if close_form is not None and close_form.errors:
        state.close = {name: close_form.data.get(name, "") for name in close_form.fields}
        state.close_errors = dict(close_form.errors)
        state.close_general = list(close_form.non_field_errors())
    return state


def _choices(request) -> dict:
    return {
        "stages": OPEN_STAGES,
        "categories": RenewalOpportunity.Category.choices,
        "outcomes": RenewalOpportunity.Outcome.choices,
        "reasons": selectors.reasons_active(),
        "applies": ChurnReason.AppliesTo,
        "back": request.GET.urlencode(),
    }


def _attach(form, error: ValidationError) -> None:
    """Puts a service's ValidationError next to the field it names (or above the form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields and name != NON_FIELD_ERRORS else None, errors)


def _groups(*, rows, totals, today, scope) -> tuple[list[dict], list[dict]]:
    """(month groups with their rows, the totals table): overdue first, then every month of the window."""
    lower, upper = selectors.board_bounds(today=today, scope=scope)
    first = lower if lower is not None and lower > today else today
    months = []
    month = selectors.month_start(first)
    while month <= upper:
        months.append(month)
        month = selectors.add_months(month, 1)
    by_bucket: dict = {}
    for renewal in rows:
        bucket = selectors.OVERDUE if renewal.close_date < today else selectors.month_start(renewal.close_date)
        by_bucket.setdefault(bucket, []).append(renewal)
    empty = {"renewals": 0, "arr_up": selectors.ZERO, "expected": selectors.ZERO}
    buckets = ([selectors.OVERDUE] if selectors.OVERDUE in totals else []) + [
        m for m in sorted(set(months) | (set(totals) - {selectors.OVERDUE}))]
    table, groups = [], []
    for bucket in buckets:
        overdue = bucket == selectors.OVERDUE
        entry = {"month": None if overdue else bucket, "overdue": overdue, "id": "overdue" if overdue
                 else bucket.strftime("%Y-%m"), **totals.get(bucket, empty)}
        table.append(entry)
        if by_bucket.get(bucket):
            groups.append({**entry, "rows": by_bucket[bucket]})
    return groups, table


def _board_page(request, *, status=200, failed=None):
    params = request.GET.copy()
    if "csm" not in params and request.membership.role == Role.CSM:
        params["csm"] = "me"  # a CSM starts on their own renewals; "Anyone" shows everyone's
    csms = list(csm_choices(request.tenant))
    form = BoardFilterForm(params, csms=csms, user=request.user)
    today = timezone.localdate()
    context = {"form": form, "params": params, "today": today, "mine": params.get("csm") == "me",
               "failed": failed, **_choices(request)}
    if not form.is_valid():
        return render(request, "renewals/board.html", context, status=400)
    scope = form.scope()
    totals = selectors.board_totals(today=today, scope=scope)
    rows = selectors.board_rows(today=today, scope=scope, membership=request.membership)
    if failed is not None:
        rows = [r for r in rows if r.pk != failed.pk]
    for renewal in rows:
        renewal.state = _row_state(renewal)
    groups, table = _groups(rows=rows, totals=totals, today=today, scope=scope)
    count = sum(t["renewals"] for t in totals.values())
    context.update(
        groups=groups, totals=table, count=count, truncated=count > selectors.BOARD_MAX_ROWS,
        limit=selectors.BOARD_MAX_ROWS,
        arr_up=sum((t["arr_up"] for t in totals.values()), selectors.ZERO),
        expected=sum((t["expected"] for t in totals.values()), selectors.ZERO),
        filtered=any(v not in (None, "") for v in (scope.csm_id, scope.segment_id, scope.category,
                                                    scope.month_from, scope.month_to)),
    )
    return render(request, "renewals/board.html", context, status=status)


@tenant_page("renewals.view")
def board(request):
    return _board_page(request)


def _renewal_or_404(request, renewal_id) -> RenewalOpportunity:
    try:
        return selectors.board_row(renewal_id=renewal_id, today=timezone.localdate(), membership=request.membership)
    except RenewalOpportunity.DoesNotExist:
        raise Http404("No such renewal") from None


def _require_writable(renewal) -> None:
    if not renewal.writable:
        raise PermissionDenied("Only the account's CSM, their manager and ops can change this renewal.")


def _back_to_board(request):
    url = reverse("renewals:board", kwargs={"tenant_slug": request.tenant.slug})
    query = QueryDict(request.POST.get("back", "")).urlencode()  # only a query string: never another site
    return redirect(f"{url}?{query}" if query else url)


def _answer(request, renewal, *, status, edit_form=None, close_form=None, notice=""):
    if status != 200:
        renewal = _renewal_or_404(request, renewal.pk)  # the service may have set the refused values on it
    renewal.state = _row_state(renewal, edit_form=edit_form, close_form=close_form, notice=notice)
    if request.htmx:
        return render(request, ROW_TEMPLATE, {"r": renewal, "today": timezone.localdate(), **_choices(request)},
                      status=status)
    if status != 200:
        request.GET = QueryDict(request.POST.get("back", ""))
        return _board_page(request, status=status, failed=renewal)
    messages.success(request, notice)
    return _back_to_board(request)


@require_POST
@tenant_page("renewals.edit")
def renewal_update(request, renewal_id):
    renewal = _renewal_or_404(request, renewal_id)
    _require_writable(renewal)
    form = RenewalEditForm(request.POST)
    if form.is_valid():
        try:
            services.renewal_update(renewal=renewal, **form.cleaned_data)
        except ValidationError as error:
            _attach(form, error)
    if form.errors:
        return _answer(request, renewal, status=400, edit_form=form)
    return _answer(request, renewal, status=200, notice=f"Renewal of {renewal.account.name} saved.")


@require_POST
@tenant_page("renewals.edit")
def renewal_close(request, renewal_id):
    renewal = _renewal_or_404(request, renewal_id)
    _require_writable(renewal)
    form = RenewalCloseForm(request.POST)
    if form.is_valid():
        try:
            services.renewal_close(renewal=renewal, **form.cleaned_data)
        except ValidationError as error:
            _attach(form, error)
    if form.errors:
        return _answer(request, renewal, status=400, close_form=form)
    renewal = _renewal_or_404(request, renewal.pk)
    return _answer(request, renewal, status=200,
                   notice=f"Renewal of {renewal.account.name} closed: {renewal.get_outcome_display().lower()}.")
