"""GRR/NRR from contracts and the churn analysis: each worked example of docs/metrics.md, figure for figure,
then filters, tenancy and the query count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore
from renewals import services
from renewals.models import ChurnReason, Contract, RenewalOpportunity
from renewals.retention import churn_analysis, retention, retention_by_quarter, total_of
from tests.factories import AccountFactory, SegmentFactory

from .conftest import contract

Q1 = {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}
Q2 = {"start": date(2026, 4, 1), "end": date(2026, 6, 30)}


def d(value: str) -> Decimal:
    return Decimal(value)


def figures(row) -> tuple:
    return (row.accounts, row.starting_arr, row.churn, row.contraction, row.expansion, row.ending_arr, row.new_arr,
            row.grr, row.nrr)


def run(tenant, **kwargs):
    with tenant_context(tenant):
        return retention(**kwargs)


# --- Example 1: one quarter, every kind of movement ------------------------------------------------------


def build_example_1(tenant_a, csm, other_csm) -> dict:
    enterprise = SegmentFactory(tenant=tenant_a, name="Enterprise")
    mid_market = SegmentFactory(tenant=tenant_a, name="Mid-Market")

    def customer(name, segment, owner):
        return AccountFactory(tenant=tenant_a, name=name, segment=segment, csm=owner)

    acme = customer("Acme", enterprise, csm)
    contract(acme, start=date(2025, 1, 1), end=date(2025, 12, 31), arr="100000")
    contract(acme, start=date(2026, 1, 1), end=date(2026, 12, 31), arr="100000")  # renewed flat

    bolt = customer("Bolt", enterprise, other_csm)
    contract(bolt, start=date(2025, 7, 1), end=date(2026, 6, 30), arr="50000")
    with tenant_context(tenant_a):  # an upsell won mid-quarter: a co-termed contract from the day it was won
        upsell = services.expansion_flag(account=bolt, by=other_csm, product="Analytics", amount=d("10000"),
                                         expected_close=date(2026, 2, 15))
        services.expansion_move(expansion=upsell, stage="won", closed_on=date(2026, 2, 15))

    cobalt = customer("Cobalt", mid_market, csm)
    contract(cobalt, start=date(2025, 3, 1), end=date(2026, 2, 28), arr="40000")
    contract(cobalt, start=date(2026, 3, 1), end=date(2027, 2, 28), arr="30000")  # renewed smaller

    dyno = customer("Dyno", mid_market, other_csm)
    contract(dyno, start=date(2025, 2, 1), end=date(2026, 1, 31), arr="20000")  # not renewed

    echo = customer("Echo", mid_market, csm)
    contract(echo, start=date(2026, 2, 1), end=date(2027, 1, 31), arr="25000")  # a new customer

    fjord = customer("Fjord", enterprise, other_csm)
    contract(fjord, start=date(2024, 6, 1), end=date(2027, 5, 31), arr="30000")  # a three-year contract
    return {"enterprise": enterprise, "mid_market": mid_market}


@pytest.fixture
def example_1(tenant_a, csm, other_csm):
    return build_example_1(tenant_a, csm, other_csm)


def test_it_computes_example_1_for_the_tenant(tenant_a, example_1):
    [row] = run(tenant_a, **Q1)
    assert (row.key, row.label) == ("total", "All accounts")
    assert figures(row) == (5, d("240000.00"), d("20000.00"), d("10000.00"), d("10000.00"), d("220000.00"),
                            d("25000.00"), d("87.5"), d("91.7"))
    assert (row.churned_accounts, row.new_accounts) == (1, 1)


def test_it_computes_example_1_by_segment(tenant_a, example_1):
    rows = run(tenant_a, **Q1, group_by="segment")
    assert [(row.key, row.label) for row in rows] == [(example_1["enterprise"].pk, "Enterprise"),
                                                      (example_1["mid_market"].pk, "Mid-Market")]
    enterprise, mid_market = rows
    assert figures(enterprise) == (3, d("180000.00"), d("0.00"), d("0.00"), d("10000.00"), d("190000.00"),
                                   d("0.00"), d("100.0"), d("105.6"))
    assert figures(mid_market) == (2, d("60000.00"), d("20000.00"), d("10000.00"), d("0.00"), d("30000.00"),
                                   d("25000.00"), d("50.0"), d("50.0"))
    assert figures(total_of(rows)) == figures(run(tenant_a, **Q1)[0])


def test_it_computes_example_1_by_csm(tenant_a, example_1, csm, other_csm):
    other_csm.full_name = "Olga Ortiz"
    other_csm.save()
    rows = run(tenant_a, **Q1, group_by="csm")
    assert [(row.key, row.label) for row in rows] == [(csm.pk, "Chris Carter"), (other_csm.pk, "Olga Ortiz")]
    chris, olga = rows
    assert figures(chris) == (2, d("140000.00"), d("0.00"), d("10000.00"), d("0.00"), d("130000.00"),
                              d("25000.00"), d("92.9"), d("92.9"))
    assert figures(olga) == (3, d("100000.00"), d("20000.00"), d("0.00"), d("10000.00"), d("90000.00"),
                             d("0.00"), d("80.0"), d("90.0"))


def test_it_computes_example_1_by_cohort(tenant_a, example_1):
    rows = run(tenant_a, **Q1, group_by="cohort")
    assert [(row.key, row.label) for row in rows] == [("2024-Q2", "FY2024 Q2"), ("2025-Q1", "FY2025 Q1"),
                                                      ("2025-Q3", "FY2025 Q3"), ("2026-Q1", "FY2026 Q1")]
    fjord, early_2025, bolt, echo = rows
    assert figures(fjord) == (1, d("30000.00"), d("0.00"), d("0.00"), d("0.00"), d("30000.00"), d("0.00"),
                              d("100.0"), d("100.0"))
    assert figures(early_2025) == (3, d("160000.00"), d("20000.00"), d("10000.00"), d("0.00"), d("130000.00"),
                                   d("0.00"), d("81.3"), d("81.3"))
    assert figures(bolt) == (1, d("50000.00"), d("0.00"), d("0.00"), d("10000.00"), d("60000.00"), d("0.00"),
                             d("100.0"), d("120.0"))
    # A cohort that only brought new business has no base: no GRR or NRR rather than a made-up 100%.
    assert figures(echo) == (0, d("0.00"), d("0.00"), d("0.00"), d("0.00"), d("0.00"), d("25000.00"), None, None)


def test_it_names_cohorts_by_the_tenants_fiscal_year(tenant_a, example_1):
    tenant_a.fiscal_year_start_month = 4
    tenant_a.save()
    rows = run(tenant_a, **Q1, group_by="cohort")
    # April fiscal years: June 2024 is FY2025 Q1; January to March 2025 is FY2025 Q4; July 2025 FY2026 Q2.
    assert [(row.label, row.accounts, row.starting_arr) for row in rows] == [
        ("FY2025 Q1", 1, d("30000.00")), ("FY2025 Q4", 3, d("160000.00")), ("FY2026 Q2", 1, d("50000.00")),
        ("FY2026 Q4", 0, d("0.00"))]


def test_it_keeps_only_the_accounts_of_the_csms_and_segments_asked_for(tenant_a, example_1, csm):
    [chris] = run(tenant_a, **Q1, csm_ids=[csm.pk])
    assert (chris.starting_arr, chris.grr, chris.new_arr) == (d("140000.00"), d("92.9"), d("25000.00"))
    [mid_market] = run(tenant_a, **Q1, segment_ids=[example_1["mid_market"].pk], csm_ids=[csm.pk])
    assert (mid_market.accounts, mid_market.starting_arr, mid_market.contraction) == (
        1, d("40000.00"), d("10000.00"))
    [nobody] = run(tenant_a, **Q1, csm_ids=[])
    assert (nobody.accounts, nobody.starting_arr, nobody.grr) == (0, d("0.00"), None)
    assert run(tenant_a, **Q1, group_by="segment", segment_ids=[]) == []


# --- Example 2: the edges of a period -------------------------------------------------------------------


@pytest.fixture
def example_2(tenant_a):
    def customer(name):
        return AccountFactory(tenant=tenant_a, name=name)

    # Ends on the last day of Q1 and is not renewed: still there on 31 March, gone on 1 April (Q2's churn).
    contract(customer("Gale"), start=date(2025, 4, 1), end=date(2026, 3, 31), arr="60000")
    # Cancelled on 1 March: it counts up to 28 February.
    contract(customer("Hale"), start=date(2025, 6, 1), end=date(2026, 5, 31), arr="24000", status="cancelled",
             cancelled_on=date(2026, 3, 1))
    # Lapses on 15 January and comes back on 1 March, bigger: the period only sees its two ends.
    iris = customer("Iris")
    contract(iris, start=date(2025, 1, 16), end=date(2026, 1, 15), arr="12000")
    contract(iris, start=date(2026, 3, 1), end=date(2027, 2, 28), arr="15000")
    # A two-month pilot inside the quarter: zero at both ends, so invisible.
    contract(customer("Jade"), start=date(2026, 1, 10), end=date(2026, 3, 9), arr="6000")
    # Starts on the quarter's first day: new business of Q1, in Q2's base.
    contract(customer("Kilo"), start=date(2026, 1, 1), end=date(2026, 12, 31), arr="18000")


def test_it_computes_example_2_in_q1(tenant_a, example_2):
    [row] = run(tenant_a, **Q1)
    assert figures(row) == (3, d("96000.00"), d("24000.00"), d("0.00"), d("3000.00"), d("75000.00"),
                            d("18000.00"), d("75.0"), d("78.1"))
    assert (row.churned_accounts, row.new_accounts) == (1, 1)


def test_it_computes_example_2_in_q2_where_the_quarter_end_churn_lands(tenant_a, example_2):
    [row] = run(tenant_a, **Q2)
    assert figures(row) == (3, d("93000.00"), d("60000.00"), d("0.00"), d("0.00"), d("33000.00"), d("0.00"),
                            d("35.5"), d("35.5"))


def test_it_chains_quarters_for_the_trend(tenant_a, example_2):
    with tenant_context(tenant_a):
        trend = retention_by_quarter(tenant=tenant_a, quarters=3, upto=date(2026, 6, 30))
    assert [(quarter.label, row.starting_arr, row.ending_arr + row.new_arr, row.grr) for quarter, row in trend] == [
        ("FY2025 Q4", d("96000.00"), d("96000.00"), d("100.0")),
        ("FY2026 Q1", d("96000.00"), d("93000.00"), d("75.0")),
        ("FY2026 Q2", d("93000.00"), d("33000.00"), d("35.5")),
    ]
    # Each quarter opens with what the previous one closed with (no movement falls between two quarters).
    for (_, before), (_, after) in zip(trend, trend[1:], strict=False):
        assert before.ending_arr + before.new_arr == after.starting_arr
    # The current quarter is measured to date.
    with tenant_context(tenant_a):
        [(quarter, to_date)] = retention_by_quarter(tenant=tenant_a, quarters=1, upto=date(2026, 2, 20))
    assert quarter.label == "FY2026 Q1" and figures(to_date)[:5] == (
        3, d("96000.00"), d("12000.00"), d("0.00"), d("0.00"))


# --- Example 3: the churn analysis ----------------------------------------------------------------------


def lose(account, deal, *, outcome, closed_on, reason, renewed_arr=None):
    with tenant_context(account.tenant):
        renewal = RenewalOpportunity.objects.create(account=account, contract=deal, owner=account.csm,
                                                    current_arr=deal.arr, expected_arr=deal.arr,
                                                    close_date=deal.end_date)
        return services.renewal_close(renewal=renewal, outcome=outcome, renewed_arr=renewed_arr,
                                      reason=ChurnReason.objects.get(name=reason) if reason else None,
                                      closed_on=closed_on)


def band(account, day, band_name):
    with tenant_context(account.tenant):
        HealthScore.objects.create(account=account, day=day, score=Decimal("50"), band=band_name,
                                   computed_at=timezone.now())


def build_example_3(tenant_a, csm, other_csm) -> dict:
    with tenant_context(tenant_a):
        services.renewals_defaults_ensure()
    enterprise = SegmentFactory(tenant=tenant_a, name="Enterprise")
    mid_market = SegmentFactory(tenant=tenant_a, name="Mid-Market")
    dyno = AccountFactory(tenant=tenant_a, name="Dyno", segment=mid_market, csm=other_csm)
    cobalt = AccountFactory(tenant=tenant_a, name="Cobalt", segment=mid_market, csm=csm)
    lark = AccountFactory(tenant=tenant_a, name="Lark", segment=enterprise, csm=csm)
    moss = AccountFactory(tenant=tenant_a, name="Moss")

    lose(dyno, contract(dyno, start=date(2025, 2, 1), end=date(2026, 1, 31), arr="20000"),
         outcome="churned", closed_on=date(2026, 1, 20), reason="Budget cuts")
    band(dyno, date(2025, 10, 22), "red")  # 90 days before
    lose(cobalt, contract(cobalt, start=date(2025, 3, 1), end=date(2026, 2, 28), arr="40000"),
         outcome="downsell", renewed_arr=d("30000"), closed_on=date(2026, 2, 10), reason="Fewer seats needed")
    lose(lark, contract(lark, start=date(2025, 3, 6), end=date(2026, 3, 5), arr="16000"),
         outcome="churned", closed_on=date(2026, 3, 5), reason="Switched to a competitor")
    band(lark, date(2025, 12, 5), "green")
    band(lark, date(2025, 12, 20), "red")  # too late to count as a warning
    lose(moss, contract(moss, start=date(2025, 4, 1), end=date(2026, 3, 31), arr="4000"),
         outcome="churned", closed_on=date(2026, 3, 20), reason="Budget cuts")  # no score 90 days before

    # Outside the analysis: a churn closed the day before the period, and a flat renewal.
    lose(moss, contract(moss, start=date(2024, 1, 1), end=date(2024, 12, 31), arr="9000"),
         outcome="churned", closed_on=date(2025, 12, 31), reason="Price")
    lose(lark, contract(lark, start=date(2025, 1, 1), end=date(2025, 12, 31), arr="7000"),
         outcome="renewed_flat", closed_on=date(2026, 1, 5), reason=None)
    return {"enterprise": enterprise, "mid_market": mid_market}


@pytest.fixture
def example_3(tenant_a, csm, other_csm):
    return build_example_3(tenant_a, csm, other_csm)


def losses(rows) -> list[tuple]:
    return [(row.label, row.churned_renewals, row.churned_arr, row.downsell_renewals, row.downsold_arr)
            for row in rows]


def test_it_computes_example_3_the_churn_analysis(tenant_a, example_3, csm, other_csm):
    other_csm.full_name = "Olga Ortiz"
    other_csm.save()
    with tenant_context(tenant_a):
        analysis = churn_analysis(**Q1)
    assert (analysis.churned_renewals, analysis.churned_arr, analysis.downsell_renewals, analysis.downsold_arr,
            analysis.lost_arr) == (3, d("40000.00"), 1, d("10000.00"), d("50000.00"))
    assert losses(analysis.by_reason) == [("Budget cuts", 2, d("24000.00"), 0, d("0.00")),
                                          ("Switched to a competitor", 1, d("16000.00"), 0, d("0.00")),
                                          ("Fewer seats needed", 0, d("0.00"), 1, d("10000.00"))]
    assert losses(analysis.by_segment) == [("Mid-Market", 1, d("20000.00"), 1, d("10000.00")),
                                           ("Enterprise", 1, d("16000.00"), 0, d("0.00")),
                                           ("No segment", 1, d("4000.00"), 0, d("0.00"))]
    assert [row.key for row in analysis.by_segment] == [example_3["mid_market"].pk, example_3["enterprise"].pk,
                                                        None]
    assert losses(analysis.by_csm) == [("Chris Carter", 1, d("16000.00"), 1, d("10000.00")),
                                       ("Olga Ortiz", 1, d("20000.00"), 0, d("0.00")),
                                       ("Unassigned", 1, d("4000.00"), 0, d("0.00"))]
    assert [row.key for row in analysis.by_csm] == [csm.pk, other_csm.pk, None]
    assert losses(analysis.by_month) == [("2026-01", 1, d("20000.00"), 0, d("0.00")),
                                         ("2026-02", 0, d("0.00"), 1, d("10000.00")),
                                         ("2026-03", 2, d("20000.00"), 0, d("0.00"))]
    assert [(b.band, b.renewals, b.churned_arr, b.share) for b in analysis.bands] == [
        ("red", 1, d("20000.00"), d("50.0")), ("yellow", 0, d("0.00"), d("0.0")),
        ("green", 1, d("16000.00"), d("40.0")), ("none", 1, d("4000.00"), d("10.0"))]
    assert analysis.warned_share == d("50.0")


def test_it_lists_every_month_of_a_period_without_churn(tenant_a):
    with tenant_context(tenant_a):
        analysis = churn_analysis(start=date(2026, 1, 15), end=date(2026, 4, 2))
    assert [row.key for row in analysis.by_month] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert analysis.churned_arr == d("0.00") and analysis.warned_share is None and analysis.by_reason == []
    assert [b.share for b in analysis.bands] == [None, None, None, None]


# --- tenancy, performance, input ------------------------------------------------------------------------


def test_it_never_counts_another_tenants_contracts(tenant_a, tenant_b, example_1, foreign_account):
    contract(foreign_account, start=date(2025, 1, 1), end=date(2027, 12, 31), arr="999000")
    contract(AccountFactory(tenant=tenant_b), start=date(2026, 2, 1), arr="555000")
    [row] = run(tenant_a, **Q1)
    assert (row.starting_arr, row.new_arr) == (d("240000.00"), d("25000.00"))
    [theirs] = run(tenant_b, **Q1)
    assert (theirs.accounts, theirs.starting_arr, theirs.new_arr) == (1, d("999000.00"), d("555000.00"))
    assert [r.label for r in run(tenant_b, **Q1, group_by="segment")] == ["No segment"]


def test_it_answers_an_empty_tenant_with_one_empty_row(tenant_a):
    [row] = run(tenant_a, **Q1)
    assert figures(row) == (0, d("0.00"), d("0.00"), d("0.00"), d("0.00"), d("0.00"), d("0.00"), None, None)
    assert run(tenant_a, **Q1, group_by="cohort") == []


def test_it_refuses_an_unknown_grouping_or_a_period_ending_before_it_starts(tenant_a):
    with tenant_context(tenant_a), pytest.raises(ValueError):
        retention(**Q1, group_by="region")
    with tenant_context(tenant_a), pytest.raises(ValueError):
        retention(start=Q1["end"], end=Q1["start"])
    with tenant_context(tenant_a), pytest.raises(ValueError):
        churn_analysis(start=Q1["end"], end=Q1["start"])


def book(tenant, size: int, segment, csm) -> None:
    """`size` accounts, each with a renewed, a churned or a new contract around Q1 (bulk, for speed)."""
    with tenant_context(tenant):
        accounts = Account.objects.bulk_create(
            [Account(tenant=tenant, name=f"Book {i}", segment=segment, csm=csm) for i in range(size)])
        contracts = []
        for i, account in enumerate(accounts):
            first = date(2025, 1 + i % 12, 1)
            contracts.append(Contract(tenant=tenant, account=account, start_date=first,
                                      end_date=first + timedelta(days=364), arr=d("1000") + i))
            if i % 3:
                contracts.append(Contract(tenant=tenant, account=account, start_date=first + timedelta(days=365),
                                          end_date=first + timedelta(days=729), arr=d("1100") + i))
        Contract.objects.bulk_create(contracts)


@pytest.mark.parametrize("size", [20, 200])
def test_it_answers_in_one_query_whatever_the_number_of_accounts(tenant_a, csm, size):
    book(tenant_a, size, SegmentFactory(tenant=tenant_a, name="SMB"), csm)
    with tenant_context(tenant_a):
        for group_by in (None, "segment", "csm", "cohort"):
            with CaptureQueriesContext(connection) as queries:
                rows = retention(**Q1, group_by=group_by)
            assert len(queries) == 1, (group_by, [q["sql"][:80] for q in queries])
            assert sum(row.accounts for row in rows) == size
        with CaptureQueriesContext(connection) as queries:
            trend = retention_by_quarter(tenant=tenant_a, quarters=8, upto=date(2026, 6, 30))
        assert len(queries) == 1 and len(trend) == 8
        with CaptureQueriesContext(connection) as queries:
            churn_analysis(**Q1)
        assert len(queries) == 1
