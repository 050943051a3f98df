"""The weekly forecast movement: two days' forecast lines compared, the changes a forecast call reviews."""

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from csplatform.tenancy.context import tenant_context
from renewals import services
from renewals.models import ChurnReason
from renewals.movement import forecast_movement
from tests.factories import AccountFactory, SegmentFactory

from .conftest import TODAY
from .test_forecast import compute, renewal, score

D = Decimal
WEEK_AGO = TODAY - timedelta(days=7)


def movement(tenant, **kwargs):
    with tenant_context(tenant):
        return forecast_movement(day=kwargs.pop("day", TODAY), **kwargs)


def texts(result, kind):
    return {(m.account, m.text) for m in result.of(kind)}


def update(item, **fields):
    with tenant_context(item.tenant):
        item.refresh_from_db()
        services.renewal_update(renewal=item, **fields)


def test_it_lists_what_changed_since_last_week_like_a_forecast_call(tenant_a, csm):
    def acct(name):
        return AccountFactory(tenant=tenant_a, csm=csm, name=name)

    close = TODAY + timedelta(days=40)
    moved = renewal(acct("Moved Co"), category="pipeline", stage="engaged", current="10000", close=close)
    slipped = renewal(acct("Slipped Co"), category="commit", stage="verbal", current="20000", close=close)
    pulled = renewal(acct("Pulled Co"), category="best_case", stage="proposal", current="5000", close=close)
    grown = renewal(acct("Grown Co"), category="commit", stage="verbal", current="8000", close=close)
    shrunk = renewal(acct("Shrunk Co"), category="commit", stage="verbal", current="9000", close=close)
    staged = renewal(acct("Staged Co"), category="pipeline", stage="not_started", current="3000", close=close)
    at_risk = renewal(acct("Risky Co"), category="commit", stage="proposal", current="30000", close=close)
    sickly_account = acct("Sickly Co")
    renewal(sickly_account, category="best_case", stage="engaged", current="7000", close=close)
    churning = renewal(acct("Gone Co"), category="at_risk", stage="engaged", current="6000", close=close)
    renewing = renewal(acct("Renewed Co"), category="commit", stage="verbal", current="4000", close=close)
    steady_account = acct("Steady Co")
    renewal(steady_account, category="commit", stage="verbal", current="50000", close=close)
    score(sickly_account, WEEK_AGO, "yellow")
    score(steady_account, WEEK_AGO, "green")
    compute(tenant_a, WEEK_AGO)

    update(moved, category="commit")
    update(slipped, close_date=close + timedelta(days=30))
    update(pulled, close_date=close - timedelta(days=10))
    update(grown, expected_arr=D("9500"))
    update(shrunk, expected_arr=D("7000"))
    update(staged, stage="engaged")
    update(at_risk, category="at_risk")
    score(sickly_account, TODAY, "red")
    score(steady_account, TODAY, "yellow")  # worse, but not red: not a new risk
    with tenant_context(tenant_a):
        churning.refresh_from_db()
        services.renewal_close(renewal=churning, outcome="churned", closed_on=TODAY - timedelta(days=2),
                               reason=ChurnReason.objects.get(name="Budget cuts"))
        renewing.refresh_from_db()
        services.renewal_close(renewal=renewing, outcome="renewed_flat", closed_on=TODAY - timedelta(days=1))
    fresh = renewal(acct("Fresh Co"), category="pipeline", stage="not_started", current="11000", close=close)
    renewal(acct("Born Risky Co"), category="at_risk", stage="engaged", current="2000", close=close)
    compute(tenant_a, TODAY)

    result = movement(tenant_a)

    assert (result.day, result.compare_day) == (TODAY, WEEK_AGO)
    assert texts(result, "category") == {("Moved Co", "Pipeline → Commit"), ("Risky Co", "Commit → At risk")}
    assert texts(result, "new_risk") == {("Risky Co", "Commit → At risk"), ("Sickly Co", "health Yellow → Red"),
                                         ("Born Risky Co", "New in the forecast: At risk")}
    later = close + timedelta(days=30)
    assert texts(result, "slipped") == {("Slipped Co", f"{close:%Y-%m-%d} → {later:%Y-%m-%d} (+30 days)")}
    earlier = close - timedelta(days=10)
    assert texts(result, "pulled_in") == {("Pulled Co", f"{close:%Y-%m-%d} → {earlier:%Y-%m-%d} (-10 days)")}
    amounts = {m.account: m.delta for m in result.of("amount")}
    assert amounts == {"Grown Co": D("1500"), "Shrunk Co": D("-2000")}
    assert texts(result, "amount") >= {("Grown Co", "8,000 → 9,500 (+1,500)"), ("Shrunk Co", "9,000 → 7,000 (−2,000)")}
    assert texts(result, "stage") == {("Staged Co", "Not started → Engaged")}
    assert {m.account for m in result.of("new")} == {"Fresh Co", "Born Risky Co"}
    assert next(m for m in result.of("new") if m.renewal_id == fresh.pk).text == f"Pipeline, closes {close:%Y-%m-%d}"
    closed = {m.account: m.text for m in result.of("closed")}
    assert closed == {
        "Gone Co": f"Churned: 0 renewed of 6,000 on {TODAY - timedelta(days=2):%Y-%m-%d}",
        "Renewed Co": f"Renewed flat: 4,000 renewed of 4,000 on {TODAY - timedelta(days=1):%Y-%m-%d}"}
    # Unchanged renewals (and a band change short of red) are not listed; new risks come first.
    assert "Steady Co" not in {m.account for m in result.moves}
    assert result.moves[0].kind == "new_risk"
    assert [g["label"] for g in result.groups()] == [
        "New risks", "Category changes", "Close date slipped", "Close date pulled in", "Expected ARR changes",
        "Stage changes", "New in the forecast", "Closed since"]


def test_it_compares_the_latest_days_with_lines_on_or_before_each_date(tenant_a, account):
    item = renewal(account, category="pipeline")
    compute(tenant_a, TODAY - timedelta(days=9))  # the job missed the night a week ago
    update(item, category="best_case")
    compute(tenant_a, TODAY - timedelta(days=1))  # ... and has not run today yet

    result = movement(tenant_a)
    assert (result.day, result.compare_day) == (TODAY - timedelta(days=1), TODAY - timedelta(days=9))
    assert texts(result, "category") == {("Initech", "Pipeline → Best case")}

    custom = movement(tenant_a, compare_to=TODAY - timedelta(days=1))
    assert not custom.comparable and custom.moves == []


def test_it_has_nothing_to_compare_before_the_job_ran_twice(tenant_a, account):
    renewal(account)
    assert movement(tenant_a).day is None
    compute(tenant_a, TODAY)
    result = movement(tenant_a)
    assert result.day == TODAY and result.compare_day is None and not result.comparable and result.moves == []


def test_it_filters_by_csm_and_segment(tenant_a, csm, other_csm):
    segment = SegmentFactory(tenant=tenant_a, name="Enterprise")
    mine = renewal(AccountFactory(tenant=tenant_a, csm=csm, name="Mine Co", segment=segment))
    theirs = renewal(AccountFactory(tenant=tenant_a, csm=other_csm, name="Theirs Co"))
    compute(tenant_a, WEEK_AGO)
    update(mine, category="commit")
    update(theirs, category="commit")
    compute(tenant_a, TODAY)

    assert {m.account for m in movement(tenant_a, csm_ids=[csm.pk]).moves} == {"Mine Co"}
    assert {m.account for m in movement(tenant_a, segment_ids=[segment.pk]).moves} == {"Mine Co"}
    assert {m.account for m in movement(tenant_a, csm_ids=[]).moves} == set()
    assert {m.csm for m in movement(tenant_a).of("category")} == {"Chris Carter", other_csm.display_name}


def test_it_costs_two_queries_whatever_the_number_of_changes(tenant_a, csm):
    items = [renewal(AccountFactory(tenant=tenant_a, csm=csm), category="pipeline") for _ in range(30)]
    compute(tenant_a, WEEK_AGO)
    for item in items:
        update(item, category="commit", expected_arr=D("12000"))
    compute(tenant_a, TODAY)
    with tenant_context(tenant_a), CaptureQueriesContext(connection) as queries:
        result = forecast_movement(day=TODAY)
    assert len(result.of("category")) == 30 and len(result.of("amount")) == 30
    assert len([q for q in queries.captured_queries if "forecastline" in q["sql"]]) == 2

    with tenant_context(tenant_a):
        capped = forecast_movement(day=TODAY, limit=10)
    assert capped.truncated and len(capped.of("category")) == 10


def test_another_tenants_lines_never_show(tenant_a, tenant_b, account, foreign_account):
    renewal(foreign_account)
    compute(tenant_b, WEEK_AGO)
    renewal(account)
    compute(tenant_a, WEEK_AGO)
    compute(tenant_a, TODAY)
    renewal(foreign_account)
    compute(tenant_b, TODAY)
    assert movement(tenant_a).moves == []
    assert {m.account for m in movement(tenant_b).of("new")} == {"Bravo Secret Customer"}
