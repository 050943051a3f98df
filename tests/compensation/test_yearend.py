"""The year-end items through the real services: the churn-reduction bonus (5% of reduced churn, never negative,
only on the plan year's last statement) and the qualification gates that withhold it and say why."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from compensation import services
from compensation.models import CompLine, CompStatement
from compensation.yearend import gates_status
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals import services as renewals
from renewals.models import ChurnReason, RenewalOpportunity
from renewals.periods import month_start
from success_plans.models import Advocacy
from tests.factories import AccountFactory, ContactFactory, GoalFactory, MembershipFactory


@pytest.fixture
def last_month(year):
    return month_start(year[1])


@pytest.fixture
def assignment(tenant_a, plan, csm):
    with tenant_context(tenant_a):
        return services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("48000"))


def qualify(tenant, account, on: date, case_study=True):
    """The account's goal approved by the customer, and (optionally) a completed case study from it on `on`."""
    with tenant_context(tenant):
        contact = ContactFactory(tenant=tenant, account=account)
        GoalFactory(tenant=tenant, plan__account=account, approved_by=contact, approved_on=on)
        if case_study:
            Advocacy.objects.create(account=account, contact=contact, kind=Advocacy.Kind.CASE_STUDY,
                                    status=Advocacy.Status.COMPLETED, happened_on=on)


def churn(tenant, account, csm, arr: str, on: date):
    """A renewal of the account closed as churned on `on`, credited to `csm`."""
    with tenant_context(tenant):
        contract = renewals.contract_save(account=account, start_date=on - timedelta(days=365), end_date=on,
                                          lines=[{"product": "Platform", "arr": arr}])
        RenewalOpportunity.objects.create(
            account=account, contract=contract, current_arr=Decimal(arr), expected_arr=Decimal(arr), close_date=on,
            stage=RenewalOpportunity.Stage.CLOSED, outcome=RenewalOpportunity.Outcome.CHURNED,
            renewed_arr=Decimal("0"), reason=ChurnReason.objects.first(), closed_on=on, credited_csm=csm)


def year_end(tenant, statement):
    with tenant_context(tenant):
        return [(line.amount, line.basis, line.explanation)
                for line in CompLine.objects.filter(statement=statement, rule_kind="churn_reduction")]


def generate(tenant, assignment, month):
    with tenant_context(tenant):
        return services.statement_generate(assignment=assignment, month=month)


@pytest.fixture
def book(tenant_a, csm, year):
    """Two clients of the CSM, both qualifying, and 30,000 churned on the CSM's accounts last plan year."""
    accounts = [AccountFactory(tenant=tenant_a, csm=csm, name=n) for n in ("Acme", "Globex")]
    for account in accounts:
        qualify(tenant_a, account, year[0] + timedelta(days=40))
    lost = AccountFactory(tenant=tenant_a, csm=csm, name="Gone Ltd", status="churned",
                          churn_date=year[0] - timedelta(days=30))
    churn(tenant_a, lost, csm, "30000", year[0] - timedelta(days=30))
    return accounts


def test_it_pays_five_percent_of_the_reduced_churn_on_the_last_statement_only(
        tenant_a, assignment, csm, year, last_month, book):
    churn(tenant_a, book[0], csm, "10000", year[0] + timedelta(days=100))
    [(amount, basis, explanation)] = year_end(tenant_a, generate(tenant_a, assignment, last_month))
    assert amount == Decimal("1000.00")  # 5% of (30,000 - 10,000)
    assert "30,000.00" in basis and "10,000.00" in basis
    assert "20,000.00" in explanation
    before = month_start(last_month - timedelta(days=1))
    assert year_end(tenant_a, generate(tenant_a, assignment, before)) == []
    assert year_end(tenant_a, generate(tenant_a, assignment, year[0])) == []


def test_it_pays_no_churn_bonus_and_no_negative_line_after_a_year_with_more_churn(
        tenant_a, assignment, csm, year, last_month, book):
    churn(tenant_a, book[0], csm, "45000", year[0] + timedelta(days=100))
    statement = generate(tenant_a, assignment, last_month)
    assert year_end(tenant_a, statement) == []
    with tenant_context(tenant_a):
        assert not CompLine.objects.filter(statement=statement, amount__lt=0).exists()
        statement.refresh_from_db()
        assert statement.total == Decimal("4000.00")  # the base alone


def test_it_withholds_the_bonus_naming_the_client_without_an_approved_goal(
        tenant_a, assignment, csm, year, last_month, book):
    AccountFactory(tenant=tenant_a, csm=csm, name="Initech")  # no customer-approved goal
    statement = generate(tenant_a, assignment, last_month)
    [(amount, basis, explanation)] = year_end(tenant_a, statement)
    assert amount == Decimal("0.00")
    assert "withheld" in basis and "1,500.00" in basis  # what it would have paid
    assert "Initech" in explanation and "customer-approved goal" in explanation
    assert "Acme" not in explanation
    with tenant_context(tenant_a):
        statement.refresh_from_db()
        assert statement.total == Decimal("4000.00")
        gates = {g.name: g for g in gates_status(assignment, year[1])}
    assert gates["case_study"].passed and not gates["approved_goals"].passed
    assert len(gates["approved_goals"].failing_account_ids) == 1


def test_it_withholds_the_bonus_without_a_case_study_from_a_client_this_plan_year(
        tenant_a, assignment, csm, year, last_month):
    account = AccountFactory(tenant=tenant_a, csm=csm, name="Acme")
    qualify(tenant_a, account, year[0] - timedelta(days=10))  # last plan year's case study does not count
    with tenant_context(tenant_a):
        Advocacy.objects.create(account=account, kind=Advocacy.Kind.CASE_STUDY, status=Advocacy.Status.DECLINED,
                                happened_on=year[0] + timedelta(days=5))
    lost = AccountFactory(tenant=tenant_a, csm=csm, status="churned", churn_date=year[0] - timedelta(days=3))
    churn(tenant_a, lost, csm, "20000", year[0] - timedelta(days=3))
    [(amount, _, explanation)] = year_end(tenant_a, generate(tenant_a, assignment, last_month))
    assert amount == Decimal("0.00") and "case study" in explanation
    assert "goal" not in explanation  # the other gate passed
    with tenant_context(tenant_a):
        Advocacy.objects.create(account=account, kind=Advocacy.Kind.CASE_STUDY, status=Advocacy.Status.COMPLETED,
                                happened_on=year[0] + timedelta(days=5))
    [(amount, _, _)] = year_end(tenant_a, generate(tenant_a, assignment, last_month))
    assert amount == Decimal("1000.00")


def test_it_truncates_a_long_list_of_failing_clients(tenant_a, assignment, csm, year, last_month, book):
    for i in range(8):
        AccountFactory(tenant=tenant_a, csm=csm, name=f"Client {i}")
    [(_, _, explanation)] = year_end(tenant_a, generate(tenant_a, assignment, last_month))
    assert "Client 0" in explanation and "Client 4" in explanation
    assert "Client 7" not in explanation and "and 3 more" in explanation


def test_it_counts_only_churn_credited_to_the_csm(tenant_a, tenant_b, assignment, csm, year, last_month, book):
    other = MembershipFactory(tenant=tenant_a, role=Role.CSM).user
    churn(tenant_a, book[1], other, "25000", year[0] + timedelta(days=60))  # not this CSM's churn
    [(amount, _, _)] = year_end(tenant_a, generate(tenant_a, assignment, last_month))
    assert amount == Decimal("1500.00")
    with tenant_context(tenant_b):
        assert not CompStatement.objects.exists()


def test_it_reports_the_gates_for_the_pages(tenant_a, assignment, csm, year):
    AccountFactory(tenant=tenant_a, csm=csm, name="Acme")
    with tenant_context(tenant_a):
        gates = gates_status(assignment, timezone.localdate())
    assert [(g.name, g.passed) for g in gates] == [("case_study", False), ("approved_goals", False)]
    assert "Acme" in gates[1].detail
