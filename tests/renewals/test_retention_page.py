"""The retention page: who may see it, the empty state, the period's figures (the same as renewals.retention),
the groupings, the trend, the churn analysis with the health band 90 days before, filters, bad parameters and a
query count that does not grow with the number of accounts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals import services
from renewals.periods import fiscal_quarter, quarter_bounds, shift_quarter
from renewals.retention import churn_analysis, retention, retention_by_quarter
from tests.api import member
from tests.factories import AccountFactory, SegmentFactory

from .conftest import TODAY, contract
from .test_forecast_page import block, rows_of
from .test_retention import band, lose

URL = "/t/alpha/renewals/retention/"
D = Decimal


@pytest.fixture
def executive(tenant_a):
    return member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")


@pytest.fixture
def last_quarter(tenant_a):
    return shift_quarter(tenant_a, fiscal_quarter(tenant_a, TODAY), -1)


@pytest.fixture
def book(tenant_a, csm, other_csm, last_quarter):
    """Last complete quarter q, all amounts ARR:
    Acme (csm, Enterprise) flat 10,000; Bolt (csm, Enterprise) 20,000 churned (closed q+10, Budget cuts, red
    90 days before); Cobalt (other, Mid-Market) 30,000 downsold to 18,000 (closed q+15, Fewer seats needed);
    Dyno (other) new 5,000 from q+40; Echo (other) 10,000 plus 4,000 from q+50.
    Start 70,000, churn 20,000, contraction 12,000, expansion 4,000: GRR 54.3%, NRR 60.0%, new 5,000."""
    with tenant_context(tenant_a):
        services.renewals_defaults_ensure()
    q = last_quarter.start
    enterprise = SegmentFactory(tenant=tenant_a, name="Enterprise")
    mid_market = SegmentFactory(tenant=tenant_a, name="Mid-Market")
    acme = AccountFactory(tenant=tenant_a, name="Acme", csm=csm, segment=enterprise)
    bolt = AccountFactory(tenant=tenant_a, name="Bolt", csm=csm, segment=enterprise)
    cobalt = AccountFactory(tenant=tenant_a, name="Cobalt", csm=other_csm, segment=mid_market)
    dyno = AccountFactory(tenant=tenant_a, name="Dyno", csm=other_csm)
    echo = AccountFactory(tenant=tenant_a, name="Echo", csm=other_csm)

    contract(acme, start=q - timedelta(days=200), end=q + timedelta(days=300), arr="10000")
    lose(bolt, contract(bolt, start=q - timedelta(days=300), end=q + timedelta(days=20), arr="20000"),
         outcome="churned", closed_on=q + timedelta(days=10), reason="Budget cuts")
    band(bolt, q + timedelta(days=10) - timedelta(days=90), "red")
    lose(cobalt, contract(cobalt, start=q - timedelta(days=300), end=q + timedelta(days=30), arr="30000"),
         outcome="downsell", renewed_arr=D("18000"), closed_on=q + timedelta(days=15), reason="Fewer seats needed")
    contract(dyno, start=q + timedelta(days=40), end=q + timedelta(days=400), arr="5000")
    contract(echo, start=q - timedelta(days=100), end=q + timedelta(days=250), arr="10000")
    contract(echo, start=q + timedelta(days=50), end=q + timedelta(days=250), arr="4000")
    return {"enterprise": enterprise, "mid_market": mid_market}


def figures(row) -> tuple:
    return (row.key, row.label, row.accounts, row.starting_arr, row.churn, row.contraction, row.expansion,
            row.ending_arr, row.new_arr, row.grr, row.nrr)


def test_a_csm_may_not_see_retention_and_another_tenant_answers_404(client, tenant_a, csm, manager, executive,
                                                                     owner, outsider):
    client.force_login(csm)
    assert client.get(URL).status_code == 403
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    for who in (manager, executive, owner):
        client.force_login(who)
        assert client.get(URL).status_code == 200
    client.logout()
    assert client.get(URL).status_code == 302


def test_it_says_so_when_there_are_no_contracts(client, tenant_a, executive, account):
    client.force_login(executive)
    response = client.get(URL)
    assert response.status_code == 200
    assert "No contracts yet" in block(response, "no-contracts")
    assert 'id="bridge"' not in response.content.decode()


def test_it_shows_the_last_complete_quarter_as_renewals_retention_computes_it(client, tenant_a, executive, book,
                                                                              last_quarter):
    client.force_login(executive)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["period"].key == last_quarter.key  # the default
    span = {"start": last_quarter.start, "end": last_quarter.end}
    with tenant_context(tenant_a):
        [total] = retention(**span)
        expected = {name: [figures(r) for r in retention(**span, group_by=name)] for name in ("segment", "csm",
                                                                                              "cohort")}
    assert figures(response.context["total"]) == figures(total)
    assert (total.starting_arr, total.churn, total.contraction, total.expansion, total.ending_arr, total.new_arr,
            total.grr, total.nrr) == (D("70000"), D("20000"), D("12000"), D("4000"), D("42000"), D("5000"),
                                      D("54.3"), D("60.0"))
    assert block(response, "period-grr") == "GRR 54.3%"
    assert block(response, "period-nrr") == "NRR 60.0%"
    assert block(response, "starting-arr") == f"Starting ARR 70,000 {tenant_a.currency} 4 accounts"
    assert block(response, "churn").startswith("Churn −20,000")
    assert block(response, "contraction").startswith("Contraction −12,000")
    assert block(response, "expansion").startswith("Expansion +4,000")
    assert block(response, "ending-arr").startswith("Ending ARR 42,000")
    assert block(response, "new-arr").startswith("New ARR 5,000")
    assert 'href="#how-computed"' in response.content.decode()

    groups = {name: [figures(r) for r in rows] for name, _, rows in response.context["groupings"]}
    assert groups == expected
    assert rows_of(response, "by-segment") == [
        "Enterprise 2 30,000 20,000 0 0 10,000 0 33.3% 33.3%",
        "Mid-Market 1 30,000 0 12,000 0 18,000 0 60.0% 60.0%",
        "No segment 1 10,000 0 0 4,000 14,000 5,000 100.0% 140.0%",
    ]
    assert any(row.startswith("Chris Carter 2 30,000 20,000") for row in rows_of(response, "by-csm"))


def test_it_shows_the_trend_of_the_last_8_quarters(client, tenant_a, executive, book):
    client.force_login(executive)
    response = client.get(URL)
    with tenant_context(tenant_a):
        trend = retention_by_quarter(tenant=tenant_a, quarters=8, upto=TODAY)
    assert [(t["quarter"], figures(t["row"])) for t in response.context["trend"]] == [
        (q, figures(r)) for q, r in trend]
    rows = rows_of(response, "trend")
    assert len(rows) == 8 and "(to date)" in rows[-1]
    assert response.context["chart_data"]["trend"]["labels"] == [q.label for q, _ in trend]


def test_it_analyses_the_periods_churn_and_how_well_the_score_warned(client, tenant_a, executive, book,
                                                                    last_quarter):
    client.force_login(executive)
    response = client.get(URL)
    with tenant_context(tenant_a):
        analysis = churn_analysis(start=last_quarter.start, end=last_quarter.end)
    assert response.context["analysis"] == analysis
    assert block(response, "churn-summary") == (f"32,000 {tenant_a.currency} lost: 20,000 churned (1 renewal), "
                                                 "12,000 downsold (1 renewal).")
    assert rows_of(response, "loss-by-reason") == ["Budget cuts 1 20,000 0 0 20,000",
                                                   "Fewer seats needed 0 0 1 12,000 12,000"]
    assert rows_of(response, "loss-by-segment") == ["Enterprise 1 20,000 0 0 20,000",
                                                    "Mid-Market 0 0 1 12,000 12,000"]
    assert "Chris Carter 1 20,000 0 0 20,000" in rows_of(response, "loss-by-csm")
    assert len(rows_of(response, "loss-by-month")) == 3
    assert rows_of(response, "warning-bands") == ["Red 1 20,000 100.0%", "Yellow 0 0 0.0%", "Green 0 0 0.0%",
                                                  "No score 0 0 0.0%"]
    assert block(response, "warned-share").startswith("100.0% of the churned ARR (20,000 of 20,000")
    assert response.context["chart_data"]["reasons"] == {
        "labels": ["Budget cuts", "Fewer seats needed"], "churned": [20000.0, 0.0], "downsold": [0.0, 12000.0]}


def test_the_fiscal_year_to_date_and_the_filters_apply_to_retention_and_the_trend(client, tenant_a, executive,
                                                                                 book, csm):
    client.force_login(executive)
    response = client.get(URL, {"period": "ytd", "csm": csm.pk, "segment": book["enterprise"].pk})
    assert response.status_code == 200
    current = fiscal_quarter(tenant_a, TODAY)
    start = quarter_bounds(tenant_a, current.year, 1).start
    scope = {"csm_ids": [csm.pk], "segment_ids": [book["enterprise"].pk]}
    with tenant_context(tenant_a):
        [total] = retention(start=start, end=TODAY, **scope)
        trend = retention_by_quarter(tenant=tenant_a, quarters=8, upto=TODAY, **scope)
    period = response.context["period"]
    assert (period.start, period.end) == (start, TODAY)
    assert figures(response.context["total"]) == figures(total)
    assert [figures(t["row"]) for t in response.context["trend"]] == [figures(r) for _, r in trend]
    assert "for the filtered accounts" in block(response, "period-note")

    response = client.get(URL, {"csm": csm.pk})
    assert response.context["total"].starting_arr == D("30000")  # Acme and Bolt only


@pytest.mark.parametrize("params, field", [
    ({"period": "1999-Q1"}, "period"),
    ({"csm": "nobody"}, "csm"),
    ({"csm": "999999"}, "csm"),
    ({"segment": "999999"}, "segment"),
])
def test_bad_parameters_answer_400_with_the_fields_error(client, tenant_a, executive, book, params, field):
    client.force_login(executive)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "These filters are not valid" in block(response, "filter-errors")
    assert 'id="bridge"' not in response.content.decode()


def test_another_tenants_segment_or_csm_is_a_bad_parameter(client, tenant_a, tenant_b, executive, book):
    foreign = SegmentFactory(tenant=tenant_b, name="Bravo segment")
    stranger = member(tenant_b, Role.CSM, "csm@bravo.test")
    client.force_login(executive)
    assert client.get(URL, {"segment": foreign.pk}).status_code == 400
    assert client.get(URL, {"csm": stranger.pk}).status_code == 400


def _book_of(tenant, csm, n, quarter):
    with tenant_context(tenant):
        services.renewals_defaults_ensure()
    segments = [SegmentFactory(tenant=tenant, name=f"Segment {i}") for i in range(3)]
    for i in range(n):
        account = AccountFactory(tenant=tenant, csm=csm, segment=segments[i % 3], name=f"Acme {i:03d}")
        deal = contract(account, start=quarter.start - timedelta(days=200 + i % 50),
                        end=quarter.start + timedelta(days=5 + i % 60), arr=str(1000 + i))
        if i % 5 == 0:
            lose(account, deal, outcome="churned", closed_on=quarter.start + timedelta(days=i % 60),
                 reason="Budget cuts")


def test_the_query_count_does_not_grow_with_the_number_of_accounts(client, tenant_a, tenant_b, manager, csm,
                                                                   last_quarter):
    boss = member(tenant_b, Role.MANAGER, "boss@bravo.test")
    bravo_csm = member(tenant_b, Role.CSM, "csm@bravo.test", manager=boss)
    _book_of(tenant_a, csm, 20, last_quarter)
    _book_of(tenant_b, bravo_csm, 200, shift_quarter(tenant_b, fiscal_quarter(tenant_b, TODAY), -1))

    def count(user, slug, **params):
        client.force_login(user)
        client.get(f"/t/{slug}/renewals/retention/")  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/t/{slug}/renewals/retention/", params)
            assert response.status_code == 200
        assert response.context["total"].churn > 0
        assert response.context["analysis"].churned_renewals > 0
        return len(queries)

    assert count(manager, "alpha") == count(boss, "bravo") <= 25
    assert count(manager, "alpha", csm=csm.pk) == count(boss, "bravo", csm=bravo_csm.pk)
