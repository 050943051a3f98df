"""The worked example of docs/compensation.md ("Worked example"), reproduced through the real services: one CSM,
plan year FY2025 (the tenant's fiscal year starts in January), every rule firing at least once. The TABLE below is
the doc's table, line for line; keep them in step."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account
from compensation import services
from compensation.models import CompLine, CompStatement
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals import services as renewals
from renewals.models import ChurnReason, ExpansionOpportunity, RenewalOpportunity
from success_plans import services as success_plans
from success_plans.models import Advocacy, ProcessDoc
from tests.factories import AccountFactory, ContactFactory, GoalFactory, MembershipFactory

D = Decimal


def month(n: int) -> date:
    """Month n of plan year FY2025 (month 1 = January 2025)."""
    return date(2025, n, 1)


def day(n: int, d: int) -> date:
    return date(2025, n, d)


def at(on: date):
    return timezone.make_aware(datetime.combine(on, datetime.min.time().replace(hour=12)))


# (month, [(rule, amount), ...], total): the doc's table.
TABLE = [
    (3, [("base_salary", D("2064.52"))], D("2064.52")),
    (4, [("base_salary", D("4000.00")), ("new_business", D("500.00"))], D("4500.00")),
    (5, [("base_salary", D("4000.00")), ("retention", D("1650.00"))], D("5650.00")),
    (6, [("base_salary", D("4000.00")), ("new_business", D("250.51")), ("process_doc_spiff", D("50.00"))],
     D("4300.51")),
    (7, [("base_salary", D("4000.00")), ("quota_bonus", D("1500.00"))], D("5500.00")),
    (8, [("base_salary", D("4000.00"))], D("4000.00")),
    (9, [("base_salary", D("4000.00")), ("process_doc_spiff", D("50.00"))], D("4050.00")),
    (10, [("base_salary", D("4000.00")), ("retention", D("400.00"))], D("4400.00")),
    (11, [("base_salary", D("4000.00"))], D("4000.00")),
    (12, [("base_salary", D("4000.00")), ("churn_reduction", D("1500.00"))], D("5500.00")),
]
YEAR_TOTAL = D("43965.03")


def open_renewal(account, arr: str, start: date, end: date) -> RenewalOpportunity:
    contract = renewals.contract_save(account=account, start_date=start, end_date=end,
                                      lines=[{"product": "Platform", "arr": arr}])
    return RenewalOpportunity.objects.create(account=account, contract=contract, current_arr=D(arr),
                                             expected_arr=D(arr), close_date=end)


def flag(account, csm, product: str, amount: str, flagged: date) -> ExpansionOpportunity:
    found = renewals.expansion_flag(account=account, by=csm, product=product, amount=D(amount),
                                    expected_close=flagged)
    ExpansionOpportunity.objects.filter(pk=found.pk).update(created_at=at(flagged))  # flagged on that day
    found.refresh_from_db()
    return found


def documents(csm, approver, n: int, approved: date):
    for i in range(n):
        doc = ProcessDoc.objects.create(title=f"Playbook {approved:%m}-{i}", body="...", author=csm)
        assert success_plans.processdoc_approve(doc=doc, by=approver)
        ProcessDoc.objects.filter(pk=doc.pk).update(approved_at=at(approved))  # approved on that day


def qualify(tenant, account, csm, case_study_on: date | None = None):
    contact = ContactFactory(tenant=tenant, account=account)
    goal = GoalFactory(tenant=tenant, plan__account=account)
    success_plans.goal_approve(goal=goal, contact=contact, on=day(4, 1))
    if case_study_on:
        success_plans.advocacy_record(account=account, by=csm, kind=Advocacy.Kind.CASE_STUDY,
                                      happened_on=case_study_on, contact=contact)


@pytest.fixture
def example(tenant_a):
    csm = MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="dana@alpha.test").user
    manager = MembershipFactory(tenant=tenant_a, role=Role.MANAGER, user__email="mo@alpha.test").user
    acme, globex, initech, umbrella = (AccountFactory(tenant=tenant_a, csm=csm, name=n)
                                       for n in ("Acme", "Globex", "Initech", "Umbrella"))
    with tenant_context(tenant_a):
        plan = services.comp_plan_default_ensure(year=2025)
        assignment = services.comp_assign(plan=plan, csm=csm, annual_base=D("48000"), starts_on=day(3, 16))
        churn = ChurnReason.objects.filter(applies_to__in=("churn", "both")).first()
        # Last plan year: Initech churned 40,000 on the CSM's book.
        renewals.renewal_close(renewal=open_renewal(initech, "40000", date(2023, 11, 21), date(2024, 11, 20)),
                               outcome="churned", reason=churn, closed_on=date(2024, 11, 20))
        # New business: two upsells found and won, 34 more leads flagged; the 36th flagged in month 7.
        addon = flag(acme, csm, "Analytics add-on", "20000", day(4, 2))
        renewals.expansion_move(expansion=addon, stage="won", closed_on=day(4, 10))
        seats = flag(globex, csm, "Extra seats", "10020.20", day(4, 3))
        renewals.expansion_move(expansion=seats, stage="won", closed_on=day(6, 12))
        for i in range(33):
            flag(globex, csm, f"Lead {i}", "1000", day(5, 5))
        flag(acme, csm, "Lead 33", "1000", day(7, 8))
        # Retention: Globex renews 30,000 as 33,000 in month 5.
        renewals.renewal_close(renewal=open_renewal(globex, "30000", date(2024, 5, 21), day(5, 20)),
                               outcome="renewed_expansion", renewed_arr=D("33000"), closed_on=day(5, 20))
        # Churn this plan year: Umbrella, 10,000, in month 8.
        renewals.renewal_close(renewal=open_renewal(umbrella, "10000", date(2024, 8, 15), day(8, 14)),
                               outcome="churned", reason=churn, closed_on=day(8, 14))
        Account.objects.filter(pk__in=[initech.pk, umbrella.pk]).update(status=Account.Status.CHURNED)
        # Spiff: 5 documents approved in month 6, 3 in month 9.
        documents(csm, manager, 5, day(6, 20))
        documents(csm, manager, 3, day(9, 5))
        # Gates: every active client has a customer-approved goal; a case study from Acme in month 10.
        qualify(tenant_a, acme, csm, case_study_on=day(10, 15))
        qualify(tenant_a, globex, csm)
        # Acme's renewal (8,000) is still open when month 9 is approved.
        late = open_renewal(acme, "8000", date(2024, 10, 1), day(9, 30))
    statements = {}
    with tenant_context(tenant_a):
        for n in range(1, 13):
            if n == 10:  # after month 9's approval, Acme's renewal is recorded as closed flat on 25 September
                renewals.renewal_close(renewal=late, outcome="renewed_flat", closed_on=day(9, 25))
            statement = services.statement_generate(assignment=assignment, month=month(n))
            if statement is not None:
                statements[n] = statement
                if n < 12:
                    assert services.statement_approve(statement=statement, by=manager)
        got = {n: ([(line.rule_kind, line.amount, line.basis, line.explanation)
                    for line in CompLine.objects.filter(statement=s).order_by("position")],
                   CompStatement.objects.get(pk=s.pk).total) for n, s in statements.items()}
    return got


def test_it_reproduces_the_worked_example_exactly(example):
    assert [(n, [(k, a) for k, a, *_ in lines], total) for n, (lines, total) in example.items()] == TABLE
    assert sum(total for _, total in example.values()) == YEAR_TOTAL
    assert sum(total for _, _, total in TABLE) == YEAR_TOTAL


def test_it_explains_the_lines_of_the_worked_example_as_the_doc_says(example):
    explained = {(n, kind): (basis, why) for n, (lines, _) in example.items() for kind, _, basis, why in lines}
    assert explained[3, "base_salary"][1] == "48,000.00 / 12 x 16/31 days on the plan"
    assert "10,020.20" in explained[6, "new_business"][1]
    assert explained[7, "quota_bonus"][0] == "36 opportunities flagged this plan year"
    assert "8 approved" in explained[9, "process_doc_spiff"][0]
    assert explained[10, "retention"][0] == "Adjustment for September 2025"
    assert "recorded 0.00, now 400.00" in explained[10, "retention"][1]
    assert explained[12, "churn_reduction"][0] == ("Churned ARR on your accounts: 40,000.00 in FY2024, "
                                                   "10,000.00 in FY2025")
