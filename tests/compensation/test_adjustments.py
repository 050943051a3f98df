"""A change to the records behind an approved (locked) statement shows up as an adjustment line on the CSM's next
draft, with the month it adjusts and what changed, once: regenerating never doubles it."""

from datetime import timedelta
from decimal import Decimal

import pytest

from compensation import services
from compensation.engine import plan_year_bounds
from compensation.models import CompLine, CompStatement
from csplatform.tenancy.context import tenant_context
from renewals import services as renewals
from renewals.models import ExpansionOpportunity
from renewals.periods import add_months
from tests.factories import AccountFactory


@pytest.fixture
def months(tenant_a, plan):
    with tenant_context(tenant_a):
        first, _ = plan_year_bounds(plan)
    return first, add_months(first, 1), add_months(first, 2)


@pytest.fixture
def assignments(tenant_a, plan, csm, other_csm):
    with tenant_context(tenant_a):
        return (services.comp_assign(plan=plan, csm=csm, annual_base=Decimal("48000")),
                services.comp_assign(plan=plan, csm=other_csm, annual_base=Decimal("48000")))


@pytest.fixture
def won(tenant_a, csm, months):
    """An upsell the CSM found, won in the first month for 10,000 (250 of new-business commission)."""
    account = AccountFactory(tenant=tenant_a, csm=csm, name="Acme")
    with tenant_context(tenant_a):
        found = renewals.expansion_flag(account=account, by=csm, product="Add-on", amount=Decimal("10000"),
                                        expected_close=months[0])
        return renewals.expansion_move(expansion=found, stage="won", closed_on=months[0] + timedelta(days=3))


def generate(tenant, assignment, month):
    with tenant_context(tenant):
        return services.statement_generate(assignment=assignment, month=month)


def approve(tenant, statement, by):
    with tenant_context(tenant):
        assert services.statement_approve(statement=statement, by=by)


def adjustments(tenant, user, month):
    with tenant_context(tenant):
        return [(line.rule_kind, line.amount, line.source_id, line.adjusts_period, line.basis, line.explanation)
                for line in CompLine.objects.filter(statement__csm=user, statement__period_start=month,
                                                    adjusts_period__isnull=False)]


def test_it_claws_back_on_the_next_draft_when_a_lead_source_changes_after_approval(
        tenant_a, assignments, csm, other_csm, owner, months, won):
    first, second, _ = months
    mine, theirs = assignments
    approve(tenant_a, generate(tenant_a, mine, first), owner)
    approve(tenant_a, generate(tenant_a, theirs, first), owner)
    with tenant_context(tenant_a):
        ExpansionOpportunity.objects.filter(pk=won.pk).update(lead_source=other_csm)
    generate(tenant_a, mine, first)  # locked: unchanged
    with tenant_context(tenant_a):
        assert CompLine.objects.get(statement__csm=csm, statement__period_start=first,
                                    rule_kind="new_business").amount == Decimal("250.00")

    generate(tenant_a, mine, second)
    [(kind, amount, source, adjusts, basis, explanation)] = adjustments(tenant_a, csm, second)
    assert (kind, amount, source, adjusts) == ("new_business", Decimal("-250.00"), won.pk, first)
    assert basis == f"Adjustment for {first:%B %Y}"
    assert "recorded 250.00, now 0.00" in explanation and "Add-on" in explanation

    generate(tenant_a, theirs, second)
    [(kind, amount, source, adjusts, _, explanation)] = adjustments(tenant_a, other_csm, second)
    assert (kind, amount, source, adjusts) == ("new_business", Decimal("250.00"), won.pk, first)
    assert "recorded 0.00, now 250.00" in explanation
    with tenant_context(tenant_a):
        statement = CompStatement.objects.get(csm=csm, period_start=second)
        assert statement.total == Decimal("4000.00") - Decimal("250.00")


def test_it_puts_the_line_on_the_other_csms_month_when_that_month_is_still_a_draft(
        tenant_a, assignments, csm, other_csm, owner, months, won):
    first, second, _ = months
    mine, theirs = assignments
    approve(tenant_a, generate(tenant_a, mine, first), owner)
    generate(tenant_a, theirs, first)
    with tenant_context(tenant_a):
        ExpansionOpportunity.objects.filter(pk=won.pk).update(lead_source=other_csm)
    generate(tenant_a, theirs, first)
    with tenant_context(tenant_a):
        assert CompLine.objects.filter(statement__csm=other_csm, statement__period_start=first,
                                       rule_kind="new_business", source_id=won.pk, adjusts_period=None).exists()
    generate(tenant_a, theirs, second)
    assert adjustments(tenant_a, other_csm, second) == []


def test_it_books_an_adjustment_once_however_often_drafts_are_regenerated(
        tenant_a, assignments, csm, other_csm, owner, months, won):
    first, second, third = months
    mine, _ = assignments
    approve(tenant_a, generate(tenant_a, mine, first), owner)
    with tenant_context(tenant_a):
        ExpansionOpportunity.objects.filter(pk=won.pk).update(amount=Decimal("12000"))
    generate(tenant_a, mine, second)
    once = adjustments(tenant_a, csm, second)
    generate(tenant_a, mine, second)
    assert adjustments(tenant_a, csm, second) == once
    assert [(a[1], a[5].split(": ", 1)[1]) for a in once] == [
        (Decimal("50.00"), "recorded 250.00, now 300.00 (the records changed after approval)")]
    generate(tenant_a, mine, third)  # month 2 still a draft: it carries the adjustment, month 3 does not
    assert adjustments(tenant_a, csm, third) == []
    approve(tenant_a, _statement(tenant_a, csm, second), owner)
    generate(tenant_a, mine, third)
    assert adjustments(tenant_a, csm, third) == []
    with tenant_context(tenant_a):
        ExpansionOpportunity.objects.filter(pk=won.pk).update(amount=Decimal("11000"))
    generate(tenant_a, mine, third)  # 250 approved + 50 adjusted = 300 recorded; 275 now
    assert [a[1] for a in adjustments(tenant_a, csm, third)] == [Decimal("-25.00")]


def test_it_adjusts_nothing_when_nothing_changed(tenant_a, assignments, csm, owner, months, won):
    first, second, _ = months
    mine, _ = assignments
    approve(tenant_a, generate(tenant_a, mine, first), owner)
    generate(tenant_a, mine, second)
    assert adjustments(tenant_a, csm, second) == []


def _statement(tenant, user, month):
    with tenant_context(tenant):
        return CompStatement.objects.get(csm=user, period_start=month)
