"""The portfolio dashboard: band mix, green share vs goal, movers, at-risk accounts, NPS, filters, and a query
count that does not grow with the book."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.alerts import alerts_update
from health.models import HealthAlert, HealthScore, HealthSettings, Measure, SurveyResponse
from health.recompute import portfolio_rollup
from success_plans.models import Task
from tests.api import member
from tests.factories import (
    AccountFactory,
    LifecycleStageFactory,
    SegmentFactory,
    SentimentPulseFactory,
    SurveyResponseFactory,
)

from .conftest import TODAY, compute, days_ago, use_measures

URL = "/t/alpha/health/"
K = Measure.Kind
BAND_FOR = {"green": 85, "yellow": 55, "red": 20, "none": None}


def put_scores(tenant, day, rows):
    """rows: (account, band, change_7d). Writes the day's scores and its rollup, as the nightly job does."""
    with tenant_context(tenant):
        HealthScore.objects.bulk_create([
            HealthScore(account=a, day=day, band=band, score=BAND_FOR[band], components=[],
                        change_7d=None if change is None else Decimal(change), computed_at=timezone.now())
            for a, band, change in rows])
        portfolio_rollup(tenant=tenant, day=day)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def block(response, element_id: str) -> str:
    """The text of the element with this id (tables and sections)."""
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    tag = html.rfind("<", 0, start)
    name = re.match(r"<(\w+)", html[tag:]).group(1)
    return text(html[tag:html.index(f"</{name}>", start)])


def rows_of(response, table_id: str) -> list[str]:
    html = response.content.decode()
    start = html.index(f'id="{table_id}"')
    body = html[start:html.index("</table>", start)]
    return [text(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>")[1].split("</tbody>")[0], re.S)]


@pytest.fixture
def book(tenant_a, csm):
    """Ten of the CSM's accounts: 6 green, 2 yellow, 1 red, 1 without data."""
    bands = ["green"] * 6 + ["yellow"] * 2 + ["red", "none"]
    accounts = [AccountFactory(tenant=tenant_a, csm=csm, name=f"Acme {i:02d}") for i in range(len(bands))]
    put_scores(tenant_a, TODAY, [(a, band, None) for a, band in zip(accounts, bands, strict=True)])
    return accounts


def test_it_shows_the_band_mix_with_counts_and_shares(client, tenant_a, manager, book):
    client.force_login(manager)
    response = client.get(URL)
    assert response.status_code == 200
    assert rows_of(response, "band-mix") == ["Green 6 60%", "Yellow 2 20%", "Red 1 10%", "No data 1 10%"]
    assert "All 10 100%" in block(response, "band-mix")
    assert f"Scores of {TODAY:%Y-%m-%d}" in text(response.content.decode())
    # The chart is drawn in the browser from the app's own copy of Chart.js, with the same numbers.
    html = response.content.decode()
    assert "/static/vendor/chart.umd.js" in html and "/static/js/portfolio_charts.js" in html
    assert 'id="portfolio-chart-data"' in html and "#1a7f37" in html


def test_it_states_the_green_share_against_the_tenant_goal(client, tenant_a, manager, book):
    client.force_login(manager)
    response = client.get(URL)
    assert block(response, "green-share") == "60% green - goal 80%"
    assert "6 of 10 accounts green. Below the goal." in text(response.content.decode())

    with tenant_context(tenant_a):
        HealthSettings.objects.update(green_goal_percent=60)
    response = client.get(URL)
    assert block(response, "green-share") == "60% green - goal 60%"
    assert "Goal met." in text(response.content.decode())


def test_it_draws_the_band_mix_trend_of_the_last_90_days(client, tenant_a, manager, csm):
    accounts = [AccountFactory(tenant=tenant_a, csm=csm) for _ in range(4)]
    put_scores(tenant_a, days_ago(100), [(a, "red", None) for a in accounts])  # outside the 90 days
    put_scores(tenant_a, days_ago(14), [(a, "yellow", None) for a in accounts])
    put_scores(tenant_a, TODAY, [(a, b, None) for a, b in zip(accounts, ["green", "green", "green", "red"],
                                                              strict=True)])
    client.force_login(manager)
    response = client.get(URL)
    assert rows_of(response, "band-trend") == [f"{days_ago(14):%Y-%m-%d} 0 4 0 0 4 0%",
                                               f"{TODAY:%Y-%m-%d} 3 0 1 0 4 75%"]
    assert response.context["chart_data"]["trend"]["days"] == [days_ago(14).isoformat(), TODAY.isoformat()]
    assert (f"0% green on {days_ago(14):%Y-%m-%d}, 75% on {TODAY:%Y-%m-%d}"
            in text(response.content.decode()))


def test_it_lists_the_ten_biggest_drops_and_rises_of_the_week_in_order(client, tenant_a, manager, csm):
    fallers = [AccountFactory(tenant=tenant_a, csm=csm, name=f"Down {i:02d}") for i in range(1, 13)]
    risers = [AccountFactory(tenant=tenant_a, csm=None, name=f"Up {i:02d}") for i in range(1, 4)]
    steady = AccountFactory(tenant=tenant_a, csm=csm, name="Steady Co")
    put_scores(tenant_a, TODAY, [(a, "yellow", -i) for i, a in enumerate(fallers, start=1)]
               + [(a, "green", 5 * i) for i, a in enumerate(risers, start=1)] + [(steady, "green", 0)])
    client.force_login(manager)
    response = client.get(URL)
    drops = rows_of(response, "drops")
    assert len(drops) == 10
    assert drops[0] == "Down 12 Chris Carter 55 Yellow -12"
    assert [r.split()[1] for r in drops] == [f"{i:02d}" for i in range(12, 2, -1)]  # Down 01/02 fell least
    assert rows_of(response, "rises") == ["Up 03 Unassigned 85 Green +15", "Up 02 Unassigned 85 Green +10",
                                          "Up 01 Unassigned 85 Green +5"]
    assert "Steady Co" not in response.content.decode()
    assert f'href="/t/alpha/accounts/{fallers[-1].pk}/"' in response.content.decode()


def test_it_lists_at_risk_accounts_with_the_reason_and_the_recovery_task(client, tenant_a, manager, account, csm):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=1, as_of=days_ago(3))
    compute(tenant_a, days_ago(3))
    with tenant_context(tenant_a):
        portfolio_rollup(tenant=tenant_a, day=days_ago(3))
        alerts_update(tenant=tenant_a, day=days_ago(3))
    client.force_login(manager)
    response = client.get(URL)
    [row] = rows_of(response, "at-risk")
    assert row.startswith("Initech CSM: Chris Carter Fell to red Fell: CSM sentiment pulse (1-5) 0 3 Open")
    assert row.endswith("Chris Carter")
    assert "At-risk accounts (1)" in text(response.content.decode())

    # The task is done but the account is still red: the list says so.
    with tenant_context(tenant_a):
        Task.objects.filter(type=Task.Type.RISK_RECOVERY).update(status=Task.Status.DONE)
    assert " 3 Done " in rows_of(client.get(URL), "at-risk")[0]


def test_it_computes_nps_for_the_chosen_period(client, tenant_a, manager, account):
    now = timezone.now()
    for score, age in [(10, 1), (9, 5), (9, 20), (10, 40), (9, 80), (7, 2), (8, 60), (0, 3), (6, 50), (5, 89),
                       (3, 120), (2, 200), (10, 400)]:
        SurveyResponseFactory(tenant=tenant_a, account=account, score=score, responded_at=now - timedelta(days=age))
    SurveyResponseFactory(tenant=tenant_a, account=account, kind="csat", score=1)  # not NPS
    client.force_login(manager)

    response = client.get(URL)
    assert '<option value="90" selected>Last 90 days</option>' in response.content.decode()
    default = block(response, "nps")  # last 90 days: 5 promoters, 2 passives, 3 detractors
    assert "NPS, last 90 days NPS +20 10 responses: 5 promoters (9-10, 50%), 2 passives (7-8), " \
           "3 detractors (0-6, 30%)." in default
    assert "NPS +40 5 responses" in block(client.get(URL, {"period": "30"}), "nps")  # (3 - 1) / 5
    assert "NPS +9 11 responses" in block(client.get(URL, {"period": "180"}), "nps")  # (5 - 4) / 11, rounded
    assert "NPS 0 12 responses" in block(client.get(URL, {"period": "365"}), "nps")  # (5 - 5) / 12


def test_it_says_so_when_no_one_answered_in_the_period(client, tenant_a, manager, book):
    client.force_login(manager)
    assert "No NPS responses in the last 180 days." in block(client.get(URL, {"period": "180"}), "nps")


def test_it_filters_every_block_by_csm_segment_and_stage(client, tenant_a, manager, csm, tenant_b):
    other = member(tenant_a, Role.CSM, "other@alpha.test", user__full_name="Olga Other")
    smb, enterprise = SegmentFactory(tenant=tenant_a, name="SMB"), SegmentFactory(tenant=tenant_a, name="Enterprise")
    onboarding = LifecycleStageFactory(tenant=tenant_a, name="Onboarding")
    mine_smb = AccountFactory(tenant=tenant_a, csm=csm, segment=smb, name="Mine SMB")
    mine_ent = AccountFactory(tenant=tenant_a, csm=csm, segment=enterprise, stage=onboarding, name="Mine Ent")
    theirs = AccountFactory(tenant=tenant_a, csm=other, segment=smb, stage=onboarding, name="Theirs SMB")
    put_scores(tenant_a, TODAY, [(mine_smb, "green", -3), (mine_ent, "red", -20), (theirs, "yellow", 4)])
    with tenant_context(tenant_a):
        HealthAlert.objects.create(account=mine_ent, reason="red", opened_on=TODAY, score=20)
    SurveyResponseFactory(tenant=tenant_a, account=theirs, score=10)
    SurveyResponseFactory(tenant=tenant_a, account=mine_smb, score=0)
    client.force_login(manager)

    everyone = client.get(URL)
    assert block(everyone, "green-share") == "33% green - goal 80%"
    assert "NPS 0" in block(everyone, "nps")

    by_csm = client.get(URL, {"csm": csm.pk})
    assert rows_of(by_csm, "band-mix")[:3] == ["Green 1 50%", "Yellow 0 0%", "Red 1 50%"]
    assert "Theirs SMB" not in by_csm.content.decode() and "Mine Ent" in block(by_csm, "at-risk")
    assert "NPS -100" in block(by_csm, "nps")

    by_segment = client.get(URL, {"segment": smb.pk})
    assert rows_of(by_segment, "band-mix")[:3] == ["Green 1 50%", "Yellow 1 50%", "Red 0 0%"]
    assert "No open at-risk episodes." in by_segment.content.decode()
    assert [r.split()[0:2] for r in rows_of(by_segment, "drops")] == [["Mine", "SMB"]]

    by_stage = client.get(URL, {"stage": onboarding.pk, "csm": other.pk})
    assert rows_of(by_stage, "band-mix")[:3] == ["Green 0 0%", "Yellow 1 100%", "Red 0 0%"]
    assert "NPS +100" in block(by_stage, "nps")

    unassigned = client.get(URL, {"csm": "none"})
    assert "No scored accounts match these filters" in unassigned.content.decode()


def test_it_answers_400_to_filter_values_it_does_not_know(client, tenant_a, tenant_b, manager, book):
    foreign_segment = SegmentFactory(tenant=tenant_b, name="Bravo only")
    client.force_login(manager)
    for params in ({"segment": "abc"}, {"segment": foreign_segment.pk}, {"csm": "999999"}, {"stage": "x"},
                   {"period": "7"}):
        response = client.get(URL, params)
        assert response.status_code == 400, params
        assert "These filters are not valid" in response.content.decode()
        assert 'id="band-mix"' not in response.content.decode()
        assert "Select a valid choice" in response.content.decode()


def test_a_csm_starts_on_their_own_book_and_can_see_everyones(client, tenant_a, csm, book):
    others = AccountFactory(tenant=tenant_a, csm=None, name="Not Mine")
    put_scores(tenant_a, TODAY, [(others, "red", -30)])
    client.force_login(csm)
    mine = client.get(URL)
    assert "Portfolio health: my book" in mine.content.decode()
    assert "All 10 100%" in block(mine, "band-mix") and "Not Mine" not in mine.content.decode()
    everyone = client.get(URL, {"csm": ""})
    assert "All 11 100%" in block(everyone, "band-mix") and "Not Mine" in block(everyone, "drops")


def test_managers_executives_and_ops_see_the_whole_portfolio(client, tenant_a, manager, owner, book):
    executive = member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")
    AccountFactory(tenant=tenant_a, name="Unscored yet")  # created after the night: not in the counts
    for user in (manager, owner, executive):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 200
        assert "All 10 100%" in block(response, "band-mix")


def test_it_explains_the_empty_dashboard_and_links_ops_to_the_jobs(client, tenant_a, owner, teammate, account):
    client.force_login(owner)
    response = client.get(URL)
    assert response.status_code == 200
    empty = block(response, "no-scores")
    assert "No health scores yet. The nightly job (health.scores) computes" in empty
    assert 'href="/t/alpha/ops/jobs/?job=health.scores"' in response.content.decode()
    client.force_login(teammate)
    response = client.get(URL)
    assert "No health scores yet" in response.content.decode()
    assert "/ops/jobs/" not in response.content.decode()


def test_another_tenants_member_gets_404(client, tenant_a, outsider, book):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    response = client.get("/t/bravo/health/")
    assert response.status_code == 200 and "Acme" not in response.content.decode()


def _bulk_book(tenant, csm, segment, stage, start: int, count: int) -> None:
    """`count` accounts with scores today and a week ago, an alert with its task for every tenth, NPS answers."""
    now = timezone.now()
    with tenant_context(tenant):
        accounts = Account.objects.bulk_create([
            Account(name=f"Bulk {i:04d}", csm=None if i % 2 else csm, segment=segment, stage=stage)
            for i in range(start, start + count)])
        bands = ["green", "yellow", "red", "none"]
        for day, shift in ((days_ago(7), 0), (TODAY, 1)):
            HealthScore.objects.bulk_create([
                HealthScore(account=a, day=day, band=bands[(i + shift) % 4], score=BAND_FOR[bands[(i + shift) % 4]],
                            change_7d=Decimal((i % 21) - 10), components=[], computed_at=now)
                for i, a in enumerate(accounts)])
        risky = accounts[::10]
        tasks = Task.objects.bulk_create([Task(account=a, owner=csm, title=f"Recover {a.name}",
                                               type=Task.Type.RISK_RECOVERY) for a in risky])
        HealthAlert.objects.bulk_create([HealthAlert(account=a, reason="red", opened_on=days_ago(2), score=10,
                                                     task=t) for a, t in zip(risky, tasks, strict=True)])
        SurveyResponse.objects.bulk_create([SurveyResponse(account=a, kind="nps", score=i % 11, source="api",
                                                           responded_at=now - timedelta(days=i % 60))
                                            for i, a in enumerate(accounts)])
        for day in (days_ago(7), TODAY):
            portfolio_rollup(tenant=tenant, day=day)


def test_the_query_count_does_not_grow_with_the_number_of_accounts(client, tenant_a, manager, csm):
    segment = SegmentFactory(tenant=tenant_a, name="SMB")
    stage = LifecycleStageFactory(tenant=tenant_a, name="Adoption")
    _bulk_book(tenant_a, csm, segment, stage, 0, 20)
    client.force_login(manager)
    client.get(URL)  # warm up (session, content types)
    queries = {}
    for size, params in ((20, {}), (20, {"csm": csm.pk, "segment": segment.pk, "stage": stage.pk})):
        with CaptureQueriesContext(connection) as few:
            response = client.get(URL, params)
        assert response.status_code == 200 and f"All {size if not params else 10} 100%" in block(response, "band-mix")
        queries[(size, bool(params))] = len(few)
    _bulk_book(tenant_a, csm, segment, stage, 20, 180)
    for params in ({}, {"csm": csm.pk, "segment": segment.pk, "stage": stage.pk}):
        with CaptureQueriesContext(connection) as many:
            response = client.get(URL, params)
        assert f"All {200 if not params else 100} 100%" in block(response, "band-mix")
        assert len(rows_of(response, "drops")) == 10 and len(rows_of(response, "at-risk")) == 20
        assert len(many) == queries[(20, bool(params))], [q["sql"] for q in many.captured_queries]
