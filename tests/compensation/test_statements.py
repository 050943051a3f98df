"""Monthly statement lines through the real services: base (prorated), new business, retention (credited to the
CSM at close), the quota bonus (paid once, at exactly the quota), the spiff (7 vs 8 documents), and locking."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account
from compensation import services
from compensation.models import CompLine, CompPlan, CompStatement
from csplatform.tenancy.context import tenant_context
from renewals import services as renewals
from renewals.models import ExpansionOpportunity, RenewalOpportunity
from renewals.periods import fiscal_quarter
from success_plans.models import ProcessDoc
from tests.factories import AccountFactory

TODAY = timezone.localdate()


def lines(tenant, csm, month):
    with tenant_context(tenant):
        statement = CompStatement.objects.get(csm=csm, period_start=month)
        return [(line.rule_kind, line.amount, line.source_id) for line in CompLine.objects.filter(statement=statement)]


def generate(tenant, assignment, month):
    with tenant_context(tenant):
        return services.statement_generate(assignment=assignment, month=month)


def test_it_gives_every_new_tenant_the_default_plan_with_its_numbers(tenant_a, plan):
    with tenant_context(tenant_a):
        rules = {r.kind: r for r in plan.rules.all()}
        assert plan.year == fiscal_quarter(tenant_a, TODAY).year
    assert (plan.base_min, plan.base_max) == (Decimal("40000"), Decimal("50000"))
    assert rules["new_business"].rate == Decimal("0.025") and rules["retention"].rate == Decimal("0.05")
    assert (rules["quota_bonus"].amount, rules["quota_bonus"].threshold) == (Decimal("1500"), 36)
    assert (rules["process_doc_spiff"].amount, rules["process_doc_spiff"].threshold) == (Decimal("50"), 4)
    assert rules["churn_reduction"].year_end and rules["churn_reduction"].rate == Decimal("0.05")


def test_it_pays_the_base_monthly_and_prorates_a_csm_who_joins_mid_month(tenant_a, plan, year, csm):
    first = year[0]
    with tenant_context(tenant_a):
        assignment = services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("45000"),
                                          starts_on=first + timedelta(days=10))
    generate(tenant_a, assignment, first)
    month_days = ((first.replace(day=28) + timedelta(days=4)).replace(day=1) - first).days
    expected = (Decimal("45000") / 12 * (month_days - 10) / month_days).quantize(Decimal("0.01"))
    assert lines(tenant_a, csm, first) == [("base_salary", expected, None)]
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("60000"))


def test_it_pays_commission_on_won_expansions_found_and_renewals_closed_while_the_account_was_theirs(
        tenant_a, plan, year, csm, other_csm):
    month = year[0]
    account = AccountFactory(tenant=tenant_a, csm=csm)
    with tenant_context(tenant_a):
        assignment = services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("40000"))
        found = renewals.expansion_flag(account=account, by=csm, product="Add-on", amount=Decimal("10000"),
                                        expected_close=month)
        renewals.expansion_move(expansion=found, stage="won", closed_on=month + timedelta(days=3))
        contract = renewals.contract_save(account=account, start_date=month - timedelta(days=300),
                                          end_date=month + timedelta(days=20),
                                          lines=[{"product": "Platform", "arr": "20000"}])
        renewal = RenewalOpportunity.objects.create(account=account, contract=contract, current_arr=Decimal("20000"),
                                                    expected_arr=Decimal("20000"), close_date=contract.end_date)
        renewals.renewal_close(renewal=renewal, outcome="renewed_expansion", renewed_arr=Decimal("22000"),
                               closed_on=month + timedelta(days=15))
        Account.objects.filter(pk=account.pk).update(csm=other_csm)  # moved after the close: still credited
    generate(tenant_a, assignment, month)
    got = {kind: (amount, source) for kind, amount, source in lines(tenant_a, csm, month)}
    assert got["new_business"] == (Decimal("250.00"), found.pk)
    assert got["retention"] == (Decimal("1100.00"), renewal.pk)


def _flag(tenant, account, csm, n, on):
    with tenant_context(tenant):
        for i in range(n):
            e = renewals.expansion_flag(account=account, by=csm, product=f"Lead {i}", amount=Decimal("100"),
                                        expected_close=on)
            ExpansionOpportunity.objects.filter(pk=e.pk).update(
                created_at=timezone.make_aware(datetime.combine(on, datetime.min.time())))


def test_it_pays_the_quota_bonus_once_in_the_month_the_36th_opportunity_is_flagged(tenant_a, plan, year, csm):
    first = year[0]
    second = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    account = AccountFactory(tenant=tenant_a, csm=csm)
    with tenant_context(tenant_a):
        assignment = services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("40000"))
    _flag(tenant_a, account, csm, 35, first)
    generate(tenant_a, assignment, first)
    assert "quota_bonus" not in [kind for kind, *_ in lines(tenant_a, csm, first)]
    _flag(tenant_a, account, csm, 1, second)  # exactly 36
    generate(tenant_a, assignment, second)
    assert ("quota_bonus", Decimal("1500.00"), None) in lines(tenant_a, csm, second)
    third = (second.replace(day=28) + timedelta(days=4)).replace(day=1)
    _flag(tenant_a, account, csm, 3, third)
    generate(tenant_a, assignment, third)
    assert "quota_bonus" not in [kind for kind, *_ in lines(tenant_a, csm, third)]


def _approve_docs(tenant, csm, n, on):
    with tenant_context(tenant):
        ProcessDoc.objects.bulk_create([
            ProcessDoc(title=f"Doc {i}", body="...", author=csm, status=ProcessDoc.Status.APPROVED, approved_by=csm,
                       approved_at=timezone.make_aware(datetime.combine(on, datetime.min.time())))
            for i in range(n)])


def test_it_pays_the_spiff_per_four_approved_documents_carrying_the_remainder(tenant_a, plan, year, csm):
    first = year[0]
    second = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    with tenant_context(tenant_a):
        assignment = services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("40000"))
    _approve_docs(tenant_a, csm, 7, first)
    generate(tenant_a, assignment, first)
    assert ("process_doc_spiff", Decimal("50.00"), None) in lines(tenant_a, csm, first)  # 7: one set, 3 carried
    _approve_docs(tenant_a, csm, 1, second)
    generate(tenant_a, assignment, second)
    assert ("process_doc_spiff", Decimal("50.00"), None) in lines(tenant_a, csm, second)  # the 8th: second 50


def test_it_locks_an_approved_statement(tenant_a, plan, year, csm, owner):
    first = year[0]
    with tenant_context(tenant_a):
        assignment = services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("40000"))
    statement = generate(tenant_a, assignment, first)
    with tenant_context(tenant_a):
        assert services.statement_approve(statement=statement, by=owner)
        assert not services.statement_approve(statement=statement, by=owner)
        services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("48000"))
    generate(tenant_a, assignment, first)
    [(kind, amount, _)] = lines(tenant_a, csm, first)
    assert amount == Decimal("3333.33")  # still the approved 40,000 / 12


def test_it_never_shows_a_statement_to_another_tenant(tenant_a, tenant_b, plan, year, csm):
    with tenant_context(tenant_a):
        assignment = services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("40000"))
    generate(tenant_a, assignment, year[0])
    with tenant_context(tenant_b):
        assert CompPlan.objects.count() == 1 and not CompStatement.objects.exists()
