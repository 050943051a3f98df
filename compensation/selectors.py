"""Reads of compensation for the pages, the API and the CSV exports. A fixed number of queries each: nothing
here loops over CSMs or lines with a query inside."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import Http404

from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.models import Membership, User
from csplatform.tenancy.permissions import role_can
from renewals.models import ExpansionOpportunity, RenewalOpportunity
from renewals.periods import add_months, fiscal_quarter, month_start
from success_plans.models import ProcessDoc

from .engine import plan_year_bounds
from .models import CompAssignment, CompLine, CompPlan, CompRule, CompStatement

ZERO = Decimal("0")
# Where a line's source record is shown: the account page of the record's account.
ACCOUNT_SOURCES = {"renewals.renewalopportunity": RenewalOpportunity,
                   "renewals.expansionopportunity": ExpansionOpportunity}


def plan_year_of(day: date) -> int:
    return fiscal_quarter(current_tenant(), day).year


def assignment_for(user, day: date) -> CompAssignment | None:
    """The user's assignment on a plan of the plan year containing `day` (the default plan first)."""
    return (CompAssignment.objects.filter(csm=user, plan__year=plan_year_of(day)).select_related("plan")
            .prefetch_related("plan__rules").order_by("-plan__is_default", "plan_id").first())


def sees_team(membership) -> bool:
    return role_can(membership.role, "comp.view_team")


def statement_visible_or_404(membership, statement_id) -> CompStatement:
    """A statement with its lines. Absent and not yours answer the same (404) unless the member sees the team."""
    found = CompStatement.objects.select_related("plan", "csm", "approved_by").filter(pk=statement_id)
    if not sees_team(membership):
        found = found.filter(csm_id=membership.user_id)
    statement = found.first()
    if statement is None:
        raise Http404("No such statement")
    return statement


def attach_sources(lines) -> list:
    """Sets `.account_id` on each line whose source record belongs to an account (one query per source type)."""
    accounts: dict[tuple[str, int], int] = {}
    for source_type, model in ACCOUNT_SOURCES.items():
        ids = {line.source_id for line in lines if line.source_type == source_type and line.source_id}
        if ids:
            for pk, account_id in model.objects.filter(pk__in=ids).values_list("pk", "account_id"):
                accounts[(source_type, pk)] = account_id
    for line in lines:
        line.account_id = accounts.get((line.source_type, line.source_id))
    return lines


def lines_with_sources(statement_ids) -> dict[int, list[CompLine]]:
    """Lines by statement id, each with `.account_id` (attach_sources)."""
    lines = attach_sources(list(CompLine.objects.filter(statement_id__in=list(statement_ids))
                                .order_by("statement_id", "position", "id")))
    grouped: dict[int, list[CompLine]] = {}
    for line in lines:
        grouped.setdefault(line.statement_id, []).append(line)
    return grouped


@dataclass
class YearToDate:
    months: list[CompStatement]
    by_rule: list[tuple[str, Decimal]]
    total: Decimal


def year_to_date(user, plan: CompPlan, upto: date) -> YearToDate:
    start, _ = plan_year_bounds(plan)
    statements = list(CompStatement.objects.filter(csm=user, plan=plan, period_start__range=(start, upto))
                      .order_by("period_start"))
    labels = dict(CompRule.Kind.choices)
    sums = (CompLine.objects.filter(statement__in=[s.pk for s in statements]).values("rule_kind")
            .annotate(total=Sum("amount")).order_by("rule_kind"))
    by_rule = sorted(((labels.get(row["rule_kind"], row["rule_kind"]), row["total"]) for row in sums),
                     key=lambda pair: list(labels.values()).index(pair[0]) if pair[0] in labels.values() else 99)
    return YearToDate(statements, by_rule, sum((s.total for s in statements), ZERO))


@dataclass
class Attainment:
    csm_id: int
    csm_name: str
    plan_id: int
    opportunities: int = 0
    quota: int | None = None
    approved_docs: int = 0
    docs_per_spiff: int | None = None
    ytd_total: Decimal = ZERO
    months: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def quota_reached(self) -> bool:
        return self.quota is not None and self.opportunities >= self.quota

    @property
    def docs_toward_next(self) -> int | None:
        return self.approved_docs % self.docs_per_spiff if self.docs_per_spiff else None

    @property
    def spiffs_earned(self) -> int:
        return self.approved_docs // self.docs_per_spiff if self.docs_per_spiff else 0


def attainment(*, plan: CompPlan, upto: date, csm_ids=None) -> list[Attainment]:
    """Per CSM on the plan: the opportunities counted toward the quota (as engine.opportunities_counted counts
    them), the documents approved (engine.approved_docs) and the statements' total, from the plan year's start
    to `upto`. Four queries whatever the number of CSMs."""
    start, _ = plan_year_bounds(plan)
    assignments = CompAssignment.objects.filter(plan=plan).select_related("csm").order_by("csm__full_name", "csm_id")
    if csm_ids is not None:
        assignments = assignments.filter(csm_id__in=list(csm_ids))
    rows = {a.csm_id: Attainment(a.csm_id, a.csm.display_name, plan.pk) for a in assignments}
    if not rows:
        return []
    rules = {r.kind: r for r in plan.rules.all()}
    quota, spiff = rules.get(CompRule.Kind.QUOTA_BONUS), rules.get(CompRule.Kind.PROCESS_DOC_SPIFF)
    if quota is not None:
        if quota.count_won_only:
            counted = Q(stage=ExpansionOpportunity.Stage.WON, closed_on__range=(start, upto))
        else:
            counted = Q(created_at__date__range=(start, upto))
        for csm_id, n in (ExpansionOpportunity.objects.filter(counted, lead_source_id__in=rows)
                          .values_list("lead_source_id").annotate(n=Count("pk")).order_by()):
            rows[csm_id].opportunities = n
    docs = (ProcessDoc.objects.filter(author_id__in=rows, status=ProcessDoc.Status.APPROVED,
                                      approved_at__date__range=(start, upto))
            .values_list("author_id").annotate(n=Count("pk")).order_by())
    for csm_id, n in docs:
        rows[csm_id].approved_docs = n
    totals = (CompStatement.objects.filter(plan=plan, csm_id__in=rows, period_start__range=(start, upto))
              .values_list("csm_id").annotate(total=Sum("total"), n=Count("pk")).order_by())
    for csm_id, total, n in totals:
        rows[csm_id].ytd_total, rows[csm_id].months = total, n
    for row in rows.values():
        row.quota = quota.threshold if quota is not None else None
        row.docs_per_spiff = spiff.threshold if spiff is not None else None
    return list(rows.values())


def month_choices(today: date, count: int = 24) -> list[date]:
    """The month pickers' months, newest first."""
    this = month_start(today)
    return [add_months(this, -n) for n in range(count)]


def teams() -> list[tuple[int, str]]:
    """Managers who have reports in this workspace: (user id, name)."""
    tenant = current_tenant()
    manager_ids = Membership.objects.filter(tenant=tenant, manager__isnull=False).values("manager_id")
    managers = User.objects.filter(pk__in=manager_ids).order_by("full_name", "email")
    return [(u.pk, u.display_name) for u in managers]


def team_statements(*, month: date, team: int | None = None) -> list[CompStatement]:
    """The statements of a month, one per CSM, optionally only a manager's reports. Each has `.csm` and
    `.approved_by` loaded."""
    found = CompStatement.objects.filter(period_start=month_start(month)).select_related("csm", "approved_by", "plan")
    if team is not None:
        found = found.filter(csm_id__in=Membership.objects.filter(tenant=current_tenant(), manager_id=team)
                             .values("user_id"))
    return list(found.order_by("csm__full_name", "csm_id"))
