"""Ops edits a plan (name, base range) and its rules' parameters on the plans page, through
compensation.plan_services; bad input answers 400 with field errors and writes nothing; managers and CSMs get
403, another tenant's member 404; "Create next year's plan" copies the default plan and its rules to year + 1."""

from decimal import Decimal

import pytest
from django.utils import timezone

from compensation import plan_services, services
from compensation.models import CompLine, CompPlan, CompRule, CompStatement
from csplatform.tenancy.context import tenant_context
from renewals import services as renewals
from renewals.periods import month_start
from tests.api import reload
from tests.factories import AccountFactory

TODAY = timezone.localdate()
THIS_MONTH = month_start(TODAY)
BASE = "/t/alpha/compensation/plans/"


def rule_of(tenant, plan, kind) -> CompRule:
    with tenant_context(tenant):
        return CompRule.objects.get(plan=plan, kind=kind)


@pytest.fixture
def assignment(tenant_a, plan, csm):
    """Chris on the default plan at 48,000 with a 10,000 expansion won this month (2.5%: 250.00)."""
    account = AccountFactory(tenant=tenant_a, csm=csm, name="Acme")
    with tenant_context(tenant_a):
        found = renewals.expansion_flag(account=account, by=csm, product="Analytics add-on",
                                        amount=Decimal("10000"), expected_close=THIS_MONTH)
        renewals.expansion_move(expansion=found, stage="won", closed_on=THIS_MONTH)
        return services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("48000"))


def new_business_amounts(tenant, statement):
    with tenant_context(tenant):
        return [(line.rate, line.amount) for line in
                CompLine.objects.filter(statement=statement, rule_kind=CompRule.Kind.NEW_BUSINESS)]


def test_ops_edits_a_rule_and_the_next_draft_uses_the_new_rate(client, owner, tenant_a, plan, assignment):
    with tenant_context(tenant_a):
        first = services.statement_generate(assignment=assignment, month=THIS_MONTH)
    assert new_business_amounts(tenant_a, first) == [(Decimal("0.025"), Decimal("250.00"))]
    rule = rule_of(tenant_a, plan, CompRule.Kind.NEW_BUSINESS)
    client.force_login(owner)
    page = client.get(BASE).content.decode()
    assert f'id="rule-{rule.pk}-edit"' in page and 'id="plan-edit-note"' in page
    response = client.post(f"{BASE}rules/{rule.pk}/", {f"rule-{rule.pk}-rate": "0.04"})
    assert response.status_code == 302
    assert reload(rule, tenant_a).rate == Decimal("0.04")
    with tenant_context(tenant_a):
        assignment.refresh_from_db()
        again = services.statement_generate(assignment=assignment, month=THIS_MONTH)
    assert again.pk == first.pk
    assert new_business_amounts(tenant_a, again) == [(Decimal("0.04"), Decimal("400.00"))]


def test_a_rule_of_a_plan_with_approved_statements_cannot_change(client, owner, manager, tenant_a, plan, assignment):
    with tenant_context(tenant_a):
        statement = services.statement_generate(assignment=assignment, month=THIS_MONTH)
        assert services.statement_approve(statement=statement, by=manager)
    rule = rule_of(tenant_a, plan, CompRule.Kind.NEW_BUSINESS)
    client.force_login(owner)
    response = client.post(f"{BASE}rules/{rule.pk}/", {f"rule-{rule.pk}-rate": "0.04"})
    assert response.status_code == 400 and "re-price approved months" in response.content.decode()
    assert rule_of(tenant_a, plan, CompRule.Kind.NEW_BUSINESS).rate == Decimal("0.025")
    with tenant_context(tenant_a):
        services.statement_generate(assignment=assignment, month=THIS_MONTH)
    assert reload(statement, tenant_a).total == Decimal("4250.00")
    assert new_business_amounts(tenant_a, statement) == [(Decimal("0.025"), Decimal("250.00"))]


def test_ops_edits_the_quota_bonus_parameters(client, owner, tenant_a, plan):
    rule = rule_of(tenant_a, plan, CompRule.Kind.QUOTA_BONUS)
    client.force_login(owner)
    p = f"rule-{rule.pk}-"
    response = client.post(f"{BASE}rules/{rule.pk}/", {p + "amount": "2000", p + "threshold": "30",
                                                       p + "count_won_only": "on"})
    assert response.status_code == 302
    rule = reload(rule, tenant_a)
    assert (rule.amount, rule.threshold, rule.count_won_only, rule.year_end) == (Decimal("2000"), 30, True, False)


@pytest.mark.parametrize("data, field_error", [
    ({"amount": "-1", "threshold": "36"}, "greater than or equal to 0"),
    ({"amount": "1500", "threshold": "0"}, "greater than or equal to 1"),
    ({"amount": "", "threshold": "36"}, "This field is required"),
])
def test_a_bad_rule_answers_400_and_saves_nothing(client, owner, tenant_a, plan, data, field_error):
    rule = rule_of(tenant_a, plan, CompRule.Kind.QUOTA_BONUS)
    client.force_login(owner)
    response = client.post(f"{BASE}rules/{rule.pk}/", {f"rule-{rule.pk}-{k}": v for k, v in data.items()})
    assert response.status_code == 400 and field_error in response.content.decode()
    rule = reload(rule, tenant_a)
    assert (rule.amount, rule.threshold) == (Decimal("1500"), 36)


def test_the_rule_service_refuses_bad_values_and_unused_parameters(tenant_a, plan):
    from django.core.exceptions import ValidationError
    rule = rule_of(tenant_a, plan, CompRule.Kind.NEW_BUSINESS)
    spiff = rule_of(tenant_a, plan, CompRule.Kind.PROCESS_DOC_SPIFF)
    with tenant_context(tenant_a):
        for kwargs, field in (({"rule": rule, "rate": Decimal("-0.01")}, "rate"),
                              ({"rule": rule, "rate": Decimal("2.5")}, "rate"),
                              ({"rule": rule, "threshold": 3}, "threshold"),
                              ({"rule": spiff, "threshold": 0}, "threshold"),
                              ({"rule": spiff, "amount": Decimal("-5")}, "amount")):
            with pytest.raises(ValidationError) as caught:
                plan_services.comp_rule_update(**kwargs)
            assert field in caught.value.message_dict
    assert reload(rule, tenant_a).rate == Decimal("0.025")
    assert (reload(spiff, tenant_a).threshold, spiff.amount) == (4, Decimal("50"))


def test_ops_edits_a_plan_and_a_bad_range_answers_400_with_nothing_written(client, owner, tenant_a, plan,
                                                                         assignment):
    client.force_login(owner)
    p = f"plan-{plan.pk}-"
    reversed_range = client.post(f"{BASE}{plan.pk}/", {p + "name": "New name", p + "base_min": "50000",
                                                      p + "base_max": "40000"})
    assert reversed_range.status_code == 400
    assert "maximum base cannot be below the minimum" in reversed_range.content.decode()
    excludes = client.post(f"{BASE}{plan.pk}/", {p + "name": "New name", p + "base_min": "49000",
                                                p + "base_max": "60000"})
    assert excludes.status_code == 400 and "annual base of 48,000.00" in excludes.content.decode()
    plan = reload(plan, tenant_a)
    assert (plan.name, plan.base_min, plan.base_max) == ("CSM plan", Decimal("40000"), Decimal("50000"))
    good = client.post(f"{BASE}{plan.pk}/", {p + "name": "Core CSM plan", p + "base_min": "45000",
                                            p + "base_max": "60000"})
    assert good.status_code == 302
    plan = reload(plan, tenant_a)
    assert (plan.name, plan.base_min, plan.base_max) == ("Core CSM plan", Decimal("45000"), Decimal("60000"))


def test_managers_and_csms_get_403(client, manager, csm, tenant_a, plan):
    rule = rule_of(tenant_a, plan, CompRule.Kind.NEW_BUSINESS)
    for user in (manager, csm):
        client.force_login(user)
        assert client.post(f"{BASE}rules/{rule.pk}/", {f"rule-{rule.pk}-rate": "0.5"}).status_code == 403
        assert client.post(f"{BASE}{plan.pk}/", {f"plan-{plan.pk}-name": "X", f"plan-{plan.pk}-base_min": "1",
                                                 f"plan-{plan.pk}-base_max": "2"}).status_code == 403
        assert client.post(f"{BASE}next-year/").status_code == 403
    assert reload(rule, tenant_a).rate == Decimal("0.025") and reload(plan, tenant_a).name == "CSM plan"


def test_another_tenants_member_gets_404_on_tenant_a_ids(client, outsider, tenant_a, plan):
    rule = rule_of(tenant_a, plan, CompRule.Kind.NEW_BUSINESS)
    client.force_login(outsider)
    assert client.post(f"/t/alpha/compensation/plans/rules/{rule.pk}/", {}).status_code == 404
    assert client.post(f"/t/bravo/compensation/plans/rules/{rule.pk}/",
                       {f"rule-{rule.pk}-rate": "0.5"}).status_code == 404
    assert client.post(f"/t/bravo/compensation/plans/{plan.pk}/",
                       {f"plan-{plan.pk}-name": "X", f"plan-{plan.pk}-base_min": "1",
                        f"plan-{plan.pk}-base_max": "2"}).status_code == 404
    assert reload(rule, tenant_a).rate == Decimal("0.025") and reload(plan, tenant_a).name == "CSM plan"


def test_ops_creates_next_years_plan_once_from_the_default(client, owner, tenant_a, plan):
    rule = rule_of(tenant_a, plan, CompRule.Kind.RETENTION)
    with tenant_context(tenant_a):
        plan_services.comp_rule_update(rule=rule, rate=Decimal("0.06"))
        plan_services.comp_plan_update(plan=plan, name="CSM plan", base_min=Decimal("41000"),
                                       base_max=Decimal("52000"))
    client.force_login(owner)
    assert 'action="/t/alpha/compensation/plans/next-year/"' in client.get(BASE).content.decode()
    assert client.post(f"{BASE}next-year/").status_code == 302
    with tenant_context(tenant_a):
        copy = CompPlan.objects.get(year=plan.year + 1)
        rules = {r.kind: (r.rate, r.amount, r.threshold, r.count_won_only, r.year_end) for r in copy.rules.all()}
        source = {r.kind: (r.rate, r.amount, r.threshold, r.count_won_only, r.year_end) for r in plan.rules.all()}
    assert copy.is_default and (copy.base_min, copy.base_max) == (Decimal("41000"), Decimal("52000"))
    assert rules == source and rules[CompRule.Kind.RETENTION][0] == Decimal("0.06")
    assert 'action="/t/alpha/compensation/plans/next-year/"' not in client.get(BASE).content.decode()
    again = client.post(f"{BASE}next-year/")
    assert again.status_code == 400 and "already has a default plan" in again.content.decode()
    with tenant_context(tenant_a):
        assert CompPlan.objects.filter(year=plan.year + 1).count() == 1
        assert not CompStatement.objects.exists()
