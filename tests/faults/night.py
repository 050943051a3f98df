"""A small book of business for the nightly jobs, and reads of what a night wrote (shared by the fault tests)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from compensation import services as compensation
from compensation.models import CompPlan
from csplatform.jobs.models import JobRun
from csplatform.jobs.services import nightly_run_for_tenant
from csplatform.jobs.tasks import run_nightly_for_tenant
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals.models import Contract, RenewalOpportunity
from renewals.periods import fiscal_quarter
from tests.factories import AccountFactory, MembershipFactory

DAY = timezone.localdate()


def book_with_a_first_night(tenant_a, csm):
    """Two CSMs with accounts, open renewals and commission plans, and a first nightly run of DAY (the old rows)."""
    other = MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="other@alpha.test").user
    for index, owner in enumerate([csm, csm, csm, other, other]):
        account = AccountFactory(tenant=tenant_a, csm=owner, licensed_seats=20)
        with tenant_context(tenant_a):
            close = DAY + timedelta(days=30 + 20 * index)
            contract = Contract.objects.create(account=account, start_date=close - timedelta(days=364),
                                               end_date=close, arr=Decimal("12000"))
            RenewalOpportunity.objects.create(account=account, contract=contract, owner=owner, close_date=close,
                                              current_arr=Decimal("12000"), expected_arr=Decimal("12000"))
    with tenant_context(tenant_a):
        plan = CompPlan.objects.get(is_default=True, year=fiscal_quarter(tenant_a, DAY).year)
        for person in (csm, other):
            compensation.comp_assign(plan=plan, csm=person, annual_base=Decimal("45000"))
    outcomes = nightly_run_for_tenant(tenant=tenant_a, day=DAY, trigger="command")
    assert {o.status for o in outcomes} == {"succeeded"}, outcomes
    return tenant_a


def attempts(tenant, job: str) -> list[str]:
    """The statuses of the worker's attempts (trigger "schedule") at `job` for DAY, oldest first."""
    with tenant_context(tenant):
        return list(JobRun.objects.filter(job=job, day=DAY, trigger="schedule").order_by("pk")
                    .values_list("status", flat=True))


def night_finished(tenant) -> bool:
    return "succeeded" in attempts(tenant, "platform.table_volume")  # the last job of the night


def enqueue_night(tenant, workers) -> None:
    run_nightly_for_tenant.apply_async((tenant.pk, DAY.isoformat(), "schedule"), queue=workers.name)


def health_rows(session):
    """(when the day's scores were computed, the ids of the day's dashboard band counts, band counts both ways)."""
    computed = {row[0] for row in session.query(
        "SELECT DISTINCT computed_at FROM health_healthscore WHERE day = %s", [DAY])}
    portfolio = {row[0] for row in session.query("SELECT id FROM health_portfoliohealthdaily WHERE day = %s", [DAY])}
    from_scores = dict(session.query(
        "SELECT h.band, count(*) FROM health_healthscore h JOIN accounts_account a ON a.id = h.account_id"
        " WHERE h.day = %s AND a.status = 'active' GROUP BY h.band", [DAY]))
    from_portfolio = dict(session.query(
        "SELECT band, sum(accounts)::int FROM health_portfoliohealthdaily WHERE day = %s GROUP BY band", [DAY]))
    return computed, portfolio, from_scores, from_portfolio
