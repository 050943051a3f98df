"""Contracts and ARR, renewal auto-creation, closing renewals, expansions, the probability table."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from renewals import services
from renewals.arr import accounts_arr_refresh, arr_on
from renewals.models import ChurnReason, Contract, ExpansionOpportunity, ProbabilityRule, RenewalOpportunity
from renewals.probability import probability

from .conftest import TODAY, contract


def account_arr(account):
    with tenant_context(account.tenant):
        return Account.objects.get(pk=account.pk).arr


def test_it_sums_the_lines_into_the_contract_and_the_account(tenant_a, account):
    with tenant_context(tenant_a):
        saved = services.contract_save(
            account=account, start_date=TODAY - timedelta(days=30), end_date=TODAY + timedelta(days=334),
            external_id="C-1", lines=[{"product": "Seats", "quantity": 100, "unit_price": "120"},
                                      {"product": "Premium support", "arr": "3000"}])
    assert saved.arr == Decimal("15000.00")
    assert account_arr(account) == Decimal("15000.00")


def test_it_counts_arr_only_between_start_and_end_and_until_cancellation(tenant_a, account):
    start = TODAY - timedelta(days=100)
    first = contract(account, start=start, end=TODAY, arr="10000")  # ends today
    contract(account, start=TODAY + timedelta(days=1), arr="12000")  # the next term
    cancelled = contract(account, start=start, arr="5000")
    with tenant_context(tenant_a):
        Contract.objects.filter(pk=cancelled.pk).update(status="cancelled", cancelled_on=TODAY - timedelta(days=10))
        assert arr_on(on=start - timedelta(days=1)) == {}
        assert arr_on(on=start) == {account.pk: Decimal("15000.00")}
        assert arr_on(on=TODAY - timedelta(days=10)) == {account.pk: Decimal("10000.00")}
        assert arr_on(on=first.end_date) == {account.pk: Decimal("10000.00")}
        assert arr_on(on=TODAY + timedelta(days=1)) == {account.pk: Decimal("12000.00")}
        accounts_arr_refresh(on=TODAY)
    assert account_arr(account) == Decimal("10000.00")


def test_it_refuses_a_contract_without_lines_or_with_dates_backwards(tenant_a, account):
    with tenant_context(tenant_a), pytest.raises(ValidationError) as no_lines:
        services.contract_save(account=account, start_date=TODAY, end_date=TODAY, lines=[])
    assert "lines" in no_lines.value.message_dict
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        services.contract_save(account=account, start_date=TODAY, end_date=TODAY - timedelta(days=1),
                               lines=[{"product": "Seats", "arr": "100"}])
    with tenant_context(tenant_a):
        assert not Contract.objects.exists()


def test_it_opens_a_renewal_once_when_the_contract_enters_the_lead_window(tenant_a, account, csm):
    ends = TODAY + timedelta(days=130)
    deal = contract(account, start=ends - timedelta(days=364), end=ends, arr="24000")
    with tenant_context(tenant_a):
        assert services.renewals_open_due(day=TODAY) == 0  # 130 days out: not yet (lead 120)
        assert services.renewals_open_due(day=TODAY + timedelta(days=10)) == 1
        assert services.renewals_open_due(day=TODAY + timedelta(days=11)) == 0
        [renewal] = RenewalOpportunity.objects.all()
    assert (renewal.contract_id, renewal.owner_id, renewal.current_arr, renewal.close_date) == (
        deal.pk, csm.pk, Decimal("24000.00"), ends)
    assert (renewal.stage, renewal.category) == ("not_started", "pipeline")


def test_it_never_opens_renewals_of_another_tenant(tenant_a, tenant_b, foreign_account):
    contract(foreign_account, start=TODAY - timedelta(days=300), arr="1000")
    with tenant_context(tenant_a):
        assert services.renewals_open_due(day=TODAY) == 0
    with tenant_context(tenant_b):
        assert RenewalOpportunity.objects.count() == 0
        assert services.renewals_open_due(day=TODAY) == 1


def _renewal(account, arr="10000"):
    contract(account, start=TODAY - timedelta(days=300), end=TODAY + timedelta(days=64), arr=arr)
    with tenant_context(account.tenant):
        services.renewals_open_due(day=TODAY)
        return RenewalOpportunity.objects.get(account=account)


def test_it_renews_into_a_next_term_contract(tenant_a, account):
    renewal = _renewal(account)
    with tenant_context(tenant_a):
        services.renewal_close(renewal=renewal, outcome="renewed_expansion", renewed_arr=Decimal("13000"))
        renewal.refresh_from_db()
        nxt = Contract.objects.get(renewal_of=renewal.contract)
    assert renewal.stage == "closed" and renewal.renewed_arr == Decimal("13000")
    assert nxt.start_date == renewal.contract.end_date + timedelta(days=1) and nxt.arr == Decimal("13000.00")
    with tenant_context(tenant_a):
        assert arr_on(on=nxt.start_date) == {account.pk: Decimal("13000.00")}
        with pytest.raises(ValidationError):  # closed once
            services.renewal_close(renewal=renewal, outcome="churned", reason=ChurnReason.objects.first())


@pytest.mark.parametrize("outcome, renewed, field", [
    ("renewed_flat", "9000", "renewed_arr"),
    ("renewed_expansion", "10000", "renewed_arr"),
    ("downsell", "12000", "renewed_arr"),
    ("downsell", "8000", "reason"),
    ("churned", None, "reason"),
])
def test_it_refuses_an_outcome_that_does_not_match_its_amount_or_lacks_a_reason(tenant_a, account, outcome,
                                                                                 renewed, field):
    renewal = _renewal(account)
    with tenant_context(tenant_a), pytest.raises(ValidationError) as refused:
        services.renewal_close(renewal=renewal, outcome=outcome,
                               renewed_arr=Decimal(renewed) if renewed else None)
    assert field in refused.value.message_dict
    with tenant_context(tenant_a):
        assert RenewalOpportunity.objects.get(pk=renewal.pk).stage == "not_started"
        assert Contract.objects.count() == 1


def test_it_churns_with_a_reason_and_starts_no_next_term(tenant_a, account):
    renewal = _renewal(account)
    with tenant_context(tenant_a):
        reason = ChurnReason.objects.get(name="Switched to a competitor")
        services.renewal_close(renewal=renewal, outcome="churned", reason=reason, reason_comment="Went to Acme")
        assert Contract.objects.count() == 1
        renewal.refresh_from_db()
    assert (renewal.renewed_arr, renewal.reason_id) == (Decimal("0"), reason.pk)


def test_it_adds_a_won_expansion_as_arr_co_termed_with_the_current_contract(tenant_a, account, csm, other_csm):
    current = contract(account, start=TODAY - timedelta(days=100), arr="10000")
    with tenant_context(tenant_a):
        lead = services.expansion_flag(account=account, by=other_csm, product="Analytics add-on",
                                       amount=Decimal("2500"), expected_close=TODAY + timedelta(days=30),
                                       kind="cross_sell")
        assert (lead.lead_source_id, lead.owner_id) == (other_csm.pk, csm.pk)
        services.expansion_move(expansion=lead, stage="won")
        added = Contract.objects.exclude(pk=current.pk).get()
    assert (added.start_date, added.end_date, added.arr) == (TODAY, current.end_date, Decimal("2500.00"))
    assert account_arr(account) == Decimal("12500.00")
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        services.expansion_move(expansion=ExpansionOpportunity.objects.get(), stage="lost")


def test_it_computes_probability_from_category_stage_and_band_clamped(tenant_a):
    with tenant_context(tenant_a):
        assert probability(category="commit", stage="verbal", band="green") == Decimal("100")
        assert probability(category="best_case", stage="engaged", band="yellow") == Decimal("65")
        assert probability(category="at_risk", stage="not_started", band="red") == Decimal("0")
        assert probability(category="pipeline", stage="proposal", band="none") == Decimal("50")
        ProbabilityRule.objects.filter(dimension="band", key="red").update(points=Decimal("-5"))
        assert probability(category="pipeline", stage="proposal", band="red") == Decimal("45")


def test_it_credits_the_renewal_to_the_accounts_csm_at_close_even_if_the_account_moves_later(
        tenant_a, account, csm, other_csm):
    renewal = _renewal(account)
    with tenant_context(tenant_a):
        services.renewal_close(renewal=renewal, outcome="renewed_flat")
        Account.objects.filter(pk=account.pk).update(csm=other_csm)
        renewal.refresh_from_db()
    assert renewal.credited_csm_id == csm.pk
