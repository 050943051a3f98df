"""The forecast page: who may see it, the empty state, the quarter's figures vs the retention target, filters,
the categories by month, the week's movement, the GRR/NRR trend, and a query count that does not grow with the
number of renewals."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals import services
from renewals.models import RetentionTarget
from renewals.periods import add_months, fiscal_quarter, shift_quarter
from tests.api import member
from tests.factories import AccountFactory, SegmentFactory

from .conftest import TODAY
from .test_forecast import compute, renewal

URL = "/t/alpha/forecast/"
D = Decimal


def text(html) -> str:
    html = html.decode() if isinstance(html, bytes) else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def block(response, element_id: str) -> str:
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    tag = html.rfind("<", 0, start)
    name = re.match(r"<(\w+)", html[tag:]).group(1)
    return text(html[tag:html.index(f"</{name}>", start)])


def rows_of(response, table_id: str) -> list[str]:
    html = response.content.decode()
    start = html.index(f'id="{table_id}"')
    body = html[start:html.index("</table>", start)].split("<tbody>")[1].split("</tbody>")[0]
    return [text(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.fixture
def executive(tenant_a):
    return member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")


@pytest.fixture
def quarter(tenant_a):
    return fiscal_quarter(tenant_a, TODAY)


@pytest.fixture
def book(tenant_a, csm, other_csm, quarter):
    """The quarter's renewals (all contracts count on the quarter's first day), computed by the job:
    csm: commit/verbal 10,000 -> 12,000 (p 100), best case/proposal 10,000 (p 70);
    other_csm: at risk/engaged 20,000 (p 20). Start ARR 40,000."""
    mine = AccountFactory(tenant=tenant_a, csm=csm, name="Initech")
    theirs = AccountFactory(tenant=tenant_a, csm=other_csm, name="Globex")
    starts = quarter.start - timedelta(days=100)
    items = {
        "commit": renewal(mine, category="commit", stage="verbal", current="10000", expected="12000",
                          close=quarter.end, starts=starts),
        "best_case": renewal(mine, category="best_case", stage="proposal", current="10000", close=quarter.end,
                             starts=starts),
        "at_risk": renewal(theirs, category="at_risk", stage="engaged", current="20000", close=quarter.end,
                           starts=starts),
    }
    compute(tenant_a)
    return items


def test_a_csm_may_not_see_the_forecast_and_another_tenant_answers_404(client, tenant_a, csm, outsider, executive,
                                                                         manager, owner):
    client.force_login(csm)
    assert client.get(URL).status_code == 403
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    for who in (executive, manager, owner):
        client.force_login(who)
        assert client.get(URL).status_code == 200
    client.logout()
    assert client.get(URL).status_code == 302


def test_it_says_when_the_job_has_not_run_and_links_the_jobs_page_for_those_who_see_it(client, tenant_a, owner,
                                                                                         executive, account):
    renewal(account)
    client.force_login(owner)
    response = client.get(URL)
    assert "The forecast has not been computed yet" in block(response, "no-forecast")
    assert "/t/alpha/ops/jobs/?job=renewals.forecast" in response.content.decode()
    client.force_login(executive)
    response = client.get(URL)
    assert "The forecast has not been computed yet" in block(response, "no-forecast")
    assert "/ops/jobs/" not in response.content.decode()
    assert 'id="trend"' in response.content.decode()  # retention comes from the contracts, not the job


def test_it_shows_the_quarters_forecast_against_the_company_target(client, tenant_a, executive, book, quarter):
    client.force_login(executive)
    response = client.get(URL)
    assert response.status_code == 200
    # Churn 10,000 x 30% + 20,000 x 80% = 19,000; expansion 2,000 (p 100): GRR 52.5%, NRR 57.5%.
    assert block(response, "forecast-grr") == "GRR 52.5%"
    assert block(response, "forecast-nrr") == "NRR 57.5%"
    assert f"No target set for {quarter.label}." in block(response, "target-verdict")
    assert block(response, "at-risk-total") == "At risk 20,000"
    assert block(response, "committed-total") == "Commit 12,000"
    assert block(response, "arr-up") == "Up for renewal 40,000 3 renewals"
    assert "Starting ARR 40,000" in block(response, "retention-bridge")
    assert "Forecast ending ARR 23,000" in block(response, "retention-bridge")

    with tenant_context(tenant_a):
        RetentionTarget.objects.create(year=quarter.year, quarter=quarter.quarter, grr_target=D("90"),
                                       nrr_target=D("50"))
    response = client.get(URL)
    assert block(response, "forecast-grr") == "GRR 52.5% · target 90%"
    assert block(response, "target-verdict") == "GRR 37.5 points below target · NRR on target"


def test_it_shows_the_categories_by_month_as_a_chart_and_a_table(client, tenant_a, executive, book, quarter):
    client.force_login(executive)
    response = client.get(URL)
    months = [add_months(quarter.start, i) for i in range(3)]
    expected = [f"{m:%B %Y} 0 0 0 0 0 0 0" for m in months[:2]]
    expected.append(f"{months[2]:%B %Y} 0 12,000 10,000 0 20,000 40,000 3")
    assert rows_of(response, "categories") == expected
    data = response.context["chart_data"]["months"]
    assert data["labels"] == [f"{m:%b %Y}" for m in months]
    assert {s["label"]: s["values"][2] for s in data["series"]} == {
        "Renewed (closed)": 0, "Commit": 12000, "Best case": 10000, "Pipeline": 0, "At risk": 20000}
    html = response.content.decode()
    assert "/static/vendor/chart.umd.js" in html and "/static/js/forecast_charts.js" in html
    assert 'id="forecast-chart-data"' in html


def test_filters_narrow_the_figures_and_pick_the_csm_or_team_target(client, tenant_a, manager, csm, other_csm, book,
                                                                     quarter):
    with tenant_context(tenant_a):
        RetentionTarget.objects.create(year=quarter.year, quarter=quarter.quarter, csm=csm, grr_target=D("95"),
                                       nrr_target=D("105"))
        RetentionTarget.objects.create(year=quarter.year, quarter=quarter.quarter, team_manager=manager,
                                       grr_target=D("80"), nrr_target=D("100"))
    client.force_login(manager)

    response = client.get(URL, {"csm": str(csm.pk)})
    # Only the CSM's renewals: churn 3,000, expansion 2,000 on 20,000.
    assert block(response, "forecast-grr") == "GRR 85.0% · target 95%"
    assert block(response, "forecast-nrr") == "NRR 95.0% · target 105%"
    assert block(response, "at-risk-total") == "At risk 0"

    response = client.get(URL, {"csm": f"team-{manager.pk}"})  # the csm reports to the manager; other_csm not
    assert block(response, "forecast-grr") == "GRR 85.0% · target 80%"
    assert "GRR on target" in block(response, "target-verdict")

    response = client.get(URL, {"csm": str(other_csm.pk)})
    assert block(response, "at-risk-total") == "At risk 20,000"
    assert f"No target set for {quarter.label} for {other_csm.display_name}." in block(response, "target-verdict")


def test_the_segment_filter_and_the_next_quarters(client, tenant_a, manager, csm, book, quarter):
    segment = SegmentFactory(tenant=tenant_a, name="Enterprise")
    account = AccountFactory(tenant=tenant_a, csm=csm, segment=segment, name="Umbrella")
    later = shift_quarter(tenant_a, quarter, 2)
    renewal(account, category="pipeline", stage="engaged", current="7000", close=later.start)
    compute(tenant_a)
    client.force_login(manager)

    response = client.get(URL, {"segment": str(segment.pk)})
    assert block(response, "arr-up") == "Up for renewal 0 0 renewals"
    response = client.get(URL, {"segment": str(segment.pk), "quarter": later.key})
    assert block(response, "pipeline-total") == "Pipeline 7,000"
    assert f"Forecast: {later.label}" in text(response.content)
    options = re.findall(r'<option value="(\d{4}-Q\d)"', response.content.decode())
    assert options == [shift_quarter(tenant_a, quarter, i).key for i in range(4)]

    assert client.get(URL, {"quarter": "1999-Q1"}).status_code == 400
    assert client.get(URL, {"csm": "team-999999"}).status_code == 400


def test_it_lists_the_weeks_movement(client, tenant_a, executive, csm, quarter):
    account = AccountFactory(tenant=tenant_a, csm=csm, name="Hooli")
    item = renewal(account, category="commit", stage="verbal", current="9000", close=quarter.end)
    compute(tenant_a, TODAY - timedelta(days=7))
    compute(tenant_a)
    client.force_login(executive)
    assert "Nothing moved" in block(client.get(URL), "movement")

    with tenant_context(tenant_a):
        item.refresh_from_db()
        services.renewal_update(renewal=item, category="at_risk")
    compute(tenant_a)
    response = client.get(URL)
    assert "Hooli : Commit → At risk" in block(response, "movement-new_risk")
    assert "Hooli : Commit → At risk" in block(response, "movement-category")


def test_it_draws_the_grr_nrr_trend_of_the_last_eight_quarters(client, tenant_a, executive, account, quarter):
    start = shift_quarter(tenant_a, quarter, -1).start
    with tenant_context(tenant_a):
        services.contract_save(account=account, start_date=start - timedelta(days=200),
                               end_date=start + timedelta(days=400), lines=[{"product": "Seats", "arr": "10000"}])
    compute(tenant_a)
    client.force_login(executive)
    response = client.get(URL)
    rows = rows_of(response, "trend")
    assert len(rows) == 8
    assert rows[-1].startswith(f"{quarter.label} (to date)")
    assert rows[-2] == f"{shift_quarter(tenant_a, quarter, -1).label} 10,000 0 0 0 100.0% 100.0%"
    assert response.context["chart_data"]["trend"]["grr"][-2] == 100.0


def _book_of(tenant, csm, n, quarter):
    for i in range(n):
        account = AccountFactory(tenant=tenant, csm=csm, name=f"Acme {i:03d}")
        renewal(account, category=["commit", "best_case", "pipeline", "at_risk"][i % 4], stage="engaged",
                current="1000", close=quarter.start + timedelta(days=i % 80))


def test_the_query_count_does_not_grow_with_the_number_of_renewals(client, tenant_a, tenant_b, manager, csm, quarter):
    other = member(tenant_b, Role.MANAGER, "boss@bravo.test")
    other_csm = member(tenant_b, Role.CSM, "csm@bravo.test", manager=other)
    _book_of(tenant_a, csm, 20, quarter)
    _book_of(tenant_b, other_csm, 200, quarter)
    for tenant in (tenant_a, tenant_b):
        compute(tenant, TODAY - timedelta(days=7))
        compute(tenant)

    def count(user, slug, **params):
        client.force_login(user)
        client.get(f"/t/{slug}/forecast/")  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/t/{slug}/forecast/", params)
            assert response.status_code == 200
        assert response.context["summary"].quarter.renewals > 0
        assert response.context["movement"].comparable
        return len(queries)

    assert count(manager, "alpha") == count(other, "bravo") <= 25
    assert count(manager, "alpha", csm=f"team-{manager.pk}") == count(other, "bravo", csm=f"team-{other.pk}")
