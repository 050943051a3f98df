"""The nightly forecast: probabilities in SQL, forecast lines and snapshot rows, idempotence, the expected
churn / contraction / expansion arithmetic, the health band of the day, fiscal quarters, and the summary the
forecast page reads (GRR / NRR for a quarter)."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.db import connection
from django.utils import timezone

from csplatform.jobs.models import JobRun
from csplatform.jobs.registry import get_job
from csplatform.jobs.services import job_run
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore
from renewals import services
from renewals.forecast import (
    EXPANSION_STAGE_PROBABILITY,
    fiscal_quarter_start_sql,
    forecast_compute,
    forecast_summary,
)
from renewals.models import (
    ChurnReason,
    Contract,
    ExpansionOpportunity,
    ForecastLine,
    ForecastSnapshot,
    ProbabilityRule,
    RenewalOpportunity,
)
from renewals.periods import add_months, fiscal_quarter
from renewals.probability import probability, probability_table
from tests.factories import AccountFactory, SegmentFactory

from .conftest import TODAY, contract

D = Decimal
BAND_SCORE = {"green": 85, "yellow": 55, "red": 20}


# ---- helpers shared with the movement and page tests ------------------------------------------------------------

def renewal(account, *, category="pipeline", stage="not_started", current="10000", expected=None, close=None,
            starts=None):
    """An open renewal of a new contract ending on `close` (written directly: the forecast reads renewals)."""
    close = close or TODAY + timedelta(days=60)
    with tenant_context(account.tenant):
        contract = Contract.objects.create(account=account, start_date=starts or close - timedelta(days=364),
                                           end_date=close, arr=D(current))
        return RenewalOpportunity.objects.create(
            account=account, contract=contract, owner=account.csm, stage=stage, category=category,
            current_arr=D(current), expected_arr=D(expected if expected is not None else current), close_date=close)


def closed_renewal(account, *, outcome, current, renewed, closed_on, close=None):
    """A renewal closed on `closed_on` with its outcome (written directly, without the next term's contract)."""
    item = renewal(account, current=current, close=close or closed_on)
    with tenant_context(account.tenant):
        reason = ChurnReason.objects.first() if outcome in ("churned", "downsell") else None
        RenewalOpportunity.objects.filter(pk=item.pk).update(stage="closed", outcome=outcome, renewed_arr=D(renewed),
                                                             closed_on=closed_on, reason=reason)
    return item


def score(account, day, band):
    with tenant_context(account.tenant):
        HealthScore.objects.update_or_create(account=account, day=day, defaults={
            "band": band, "score": BAND_SCORE.get(band), "components": [], "computed_at": timezone.now()})


def compute(tenant, day=TODAY):
    with tenant_context(tenant):
        return forecast_compute(tenant=tenant, day=day)


def lines(tenant, day=TODAY):
    with tenant_context(tenant):
        return {line.renewal_id: line for line in ForecastLine.objects.filter(day=day)}


def snapshot(tenant, *, kind="quarter", start=None, day=TODAY, **filters):
    """Sums of the day's snapshot rows for one period (all CSMs and segments unless filtered)."""
    start = start or fiscal_quarter(tenant, day).start
    with tenant_context(tenant):
        rows = list(ForecastSnapshot.objects.filter(day=day, period_kind=kind, period_start=start, **filters))
    total = {"renewals": sum(r.renewals for r in rows)}
    for name in ("arr_up", "committed", "best_case", "pipeline", "at_risk", "expected_churn",
                 "expected_contraction", "expected_expansion", "renewed"):
        total[name] = sum((getattr(r, name) for r in rows), D(0))
    return total


def quarter(tenant, day=TODAY):
    return fiscal_quarter(tenant, day)


# ---- probability --------------------------------------------------------------------------------------------------

def test_it_applies_the_probability_table_in_sql_exactly_like_the_python_rule(tenant_a, csm):
    with tenant_context(tenant_a):
        # The tenant's own table: changed points, a rule removed (counts 0), one that pushes past 100.
        ProbabilityRule.objects.filter(dimension="category", key="commit").update(points=D("97.5"))
        ProbabilityRule.objects.filter(dimension="stage", key="proposal").update(points=D("7.25"))
        ProbabilityRule.objects.filter(dimension="band", key="yellow").delete()
        ProbabilityRule.objects.filter(dimension="band", key="red").update(points=D("-30"))
    bands = ["green", "yellow", "red", "none"]
    accounts = {band: AccountFactory(tenant=tenant_a, csm=csm, name=f"Band {band}") for band in bands}
    for band in ("green", "yellow", "red"):
        score(accounts[band], TODAY, band)
    grid = list(product(RenewalOpportunity.Category.values,
                        [s for s in RenewalOpportunity.Stage.values if s != "closed"], bands))
    made = {renewal(accounts[band], category=category, stage=stage, current="1000", expected="1234.56").pk:
            (category, stage, band) for category, stage, band in grid}

    compute(tenant_a)

    got = lines(tenant_a)
    assert len(got) == len(grid) == 80
    with tenant_context(tenant_a):
        table = probability_table()
    for pk, (category, stage, band) in made.items():
        line = got[pk]
        expected = probability(category=category, stage=stage, band=band, table=table)
        assert (line.category, line.stage, line.band) == (category, stage, band)
        assert line.probability == expected, (category, stage, band)
        assert line.weighted_arr == (D("1234.56") * expected / 100).quantize(D("0.01"))
    assert got[next(pk for pk, k in made.items() if k == ("commit", "verbal", "green"))].probability == 100
    assert got[next(pk for pk, k in made.items() if k == ("omitted", "not_started", "red"))].probability == 0


def test_it_writes_one_line_per_open_renewal_with_the_accounts_csm_and_segment(tenant_a, csm, other_csm):
    segment = SegmentFactory(tenant=tenant_a, name="Enterprise")
    mine = AccountFactory(tenant=tenant_a, csm=csm, segment=segment)
    theirs = AccountFactory(tenant=tenant_a, csm=other_csm)
    open_one = renewal(mine, category="commit", stage="verbal")
    other = renewal(theirs)
    closed = closed_renewal(mine, outcome="renewed_flat", current="5000", renewed="5000", closed_on=TODAY)

    compute(tenant_a)

    got = lines(tenant_a)
    assert set(got) == {open_one.pk, other.pk} and closed.pk not in got
    assert (got[open_one.pk].csm_id, got[open_one.pk].segment_id) == (csm.pk, segment.pk)
    assert (got[other.pk].csm_id, got[other.pk].segment_id) == (other_csm.pk, None)


# ---- idempotence --------------------------------------------------------------------------------------------------

def _rows(tenant):
    with tenant_context(tenant):
        keep = [f.name for f in ForecastLine._meta.fields if f.name != "id"]
        snap = [f.name for f in ForecastSnapshot._meta.fields if f.name != "id"]
        return (sorted(ForecastLine.objects.values_list(*keep), key=str),
                sorted(ForecastSnapshot.objects.values_list(*snap), key=str))


def test_it_is_idempotent_per_tenant_and_day(tenant_a, tenant_b, csm, account, foreign_account):
    renewal(account, category="commit", stage="verbal", current="10000", expected="12000")
    renewal(account, category="at_risk", stage="engaged", close=TODAY + timedelta(days=200))
    renewal(foreign_account, category="commit")
    with tenant_context(tenant_a):
        ExpansionOpportunity.objects.create(account=account, product="Add-on", amount=D("5000"),
                                            stage="qualified", expected_close=TODAY + timedelta(days=20))

    written = compute(tenant_a)
    first = _rows(tenant_a)
    assert written == len(first[0]) + len(first[1]) and len(first[0]) == 2
    assert compute(tenant_a) == written
    assert _rows(tenant_a) == first
    # The other tenant's rows are not touched (nor made) by tenant A's run.
    with tenant_context(tenant_b):
        assert not ForecastLine.objects.exists() and not ForecastSnapshot.objects.exists()


def test_a_rerun_the_same_day_reflects_renewals_closed_meanwhile(tenant_a, account):
    q = quarter(tenant_a)
    staying = renewal(account, current="10000", close=q.end)
    leaving = renewal(account, current="4000", close=q.end)
    compute(tenant_a)
    with tenant_context(tenant_a):
        services.renewal_close(renewal=leaving, outcome="renewed_flat", closed_on=TODAY)
    compute(tenant_a)
    assert set(lines(tenant_a)) == {staying.pk}
    assert snapshot(tenant_a)["renewed"] == D("4000")
    assert snapshot(tenant_a)["renewals"] == 2


def test_the_nightly_job_is_registered_after_health_and_records_its_run(tenant_a, account):
    assert get_job("renewals.forecast").order == 50
    assert get_job("health.scores").order < 50 and get_job("renewals.open").order < 50
    renewal(account)
    outcome = job_run(job_name="renewals.forecast", tenant=tenant_a, day=TODAY)
    assert outcome.status == "succeeded" and outcome.rows >= 1
    with tenant_context(tenant_a):
        assert JobRun.objects.get(job="renewals.forecast").rows_written == outcome.rows
    assert len(lines(tenant_a)) == 1


# ---- the health band of the day ----------------------------------------------------------------------------------

def test_it_takes_the_band_of_the_day_else_the_latest_before_else_none(tenant_a, csm):
    day = TODAY - timedelta(days=3)
    scored_that_day = AccountFactory(tenant=tenant_a, csm=csm)
    scored_before = AccountFactory(tenant=tenant_a, csm=csm)
    scored_after_only = AccountFactory(tenant=tenant_a, csm=csm)
    never = AccountFactory(tenant=tenant_a, csm=csm)
    score(scored_that_day, day - timedelta(days=1), "red")
    score(scored_that_day, day, "yellow")
    score(scored_that_day, day + timedelta(days=1), "green")
    score(scored_before, day - timedelta(days=20), "red")
    score(scored_before, day - timedelta(days=5), "green")
    score(scored_after_only, day + timedelta(days=1), "red")
    made = {renewal(a, category="best_case", stage="engaged").pk: a for a in
            (scored_that_day, scored_before, scored_after_only, never)}

    compute(tenant_a, day)

    got = {made[pk]: (line.band, line.probability) for pk, line in lines(tenant_a, day).items()}
    assert got[scored_that_day] == ("yellow", D("65"))
    assert got[scored_before] == ("green", D("70"))
    assert got[scored_after_only] == ("none", D("65"))
    assert got[never] == ("none", D("65"))


# ---- snapshot sums -----------------------------------------------------------------------------------------------

def test_it_sums_expected_arr_by_category_month_and_quarter(tenant_a, csm, other_csm):
    q = quarter(tenant_a)
    mine = AccountFactory(tenant=tenant_a, csm=csm)
    theirs = AccountFactory(tenant=tenant_a, csm=other_csm)
    renewal(mine, category="commit", current="10000", expected="11000", close=q.end)
    renewal(mine, category="commit", current="5000", close=q.end)
    renewal(theirs, category="best_case", current="7000", close=q.end)
    renewal(mine, category="pipeline", current="3000", close=q.end)
    renewal(theirs, category="at_risk", current="2000", expected="1500", close=q.end)
    renewal(mine, category="omitted", current="900", close=q.end)
    next_quarter = add_months(q.start, 3)
    renewal(mine, category="commit", current="4000", close=next_quarter)

    compute(tenant_a)

    this = snapshot(tenant_a)
    assert this["renewals"] == 6
    assert this["arr_up"] == D("27900")
    assert (this["committed"], this["best_case"], this["pipeline"], this["at_risk"]) == (
        D("16000"), D("7000"), D("3000"), D("1500"))
    month = snapshot(tenant_a, kind="month", start=q.end.replace(day=1))
    assert month["committed"] == D("16000") and month["renewals"] == 6
    assert snapshot(tenant_a, start=next_quarter)["committed"] == D("4000")
    assert snapshot(tenant_a, kind="month", start=next_quarter)["committed"] == D("4000")
    # Per CSM: each row carries the account's CSM.
    assert snapshot(tenant_a, csm=csm)["committed"] == D("16000")
    assert snapshot(tenant_a, csm=other_csm)["best_case"] == D("7000")
    assert snapshot(tenant_a, csm=other_csm)["at_risk"] == D("1500")


def test_it_covers_four_quarters_and_counts_overdue_open_renewals_now(tenant_a, account):
    q = quarter(tenant_a)
    horizon = add_months(q.start, 12)
    renewal(account, category="commit", current="1000", close=horizon - timedelta(days=1))  # 4th quarter: in
    renewal(account, category="commit", current="2000", close=horizon)  # 5th quarter: out
    renewal(account, category="at_risk", current="3000", close=TODAY - timedelta(days=40))  # overdue, still open

    compute(tenant_a)

    assert snapshot(tenant_a, start=add_months(q.start, 9))["committed"] == D("1000")
    assert snapshot(tenant_a, start=horizon)["renewals"] == 0
    assert snapshot(tenant_a)["at_risk"] == D("3000")
    assert snapshot(tenant_a, kind="month", start=TODAY.replace(day=1))["at_risk"] == D("3000")
    assert len(lines(tenant_a)) == 3  # the lines keep every open renewal, whatever its date


def test_it_works_out_expected_churn_contraction_and_expansion(tenant_a, csm):
    """The worked example of docs/renewals.md."""
    q = quarter(tenant_a)
    account = AccountFactory(tenant=tenant_a, csm=csm)
    green = AccountFactory(tenant=tenant_a, csm=csm)
    score(green, TODAY, "green")
    starts = q.start - timedelta(days=200)  # every contract below counts on the quarter's first day
    # Open, best case, proposal, no health data: p = 65 + 5 = 70%.
    renewal(account, category="best_case", stage="proposal", current="10000", expected="8000", close=q.end,
            starts=starts)
    # Open, commit, verbal, green: 90 + 10 + 5 = 105 -> 100%.
    renewal(green, category="commit", stage="verbal", current="20000", expected="25000", close=q.end, starts=starts)
    closed_renewal(account, outcome="churned", current="5000", renewed="0", closed_on=q.start, close=q.end)
    closed_renewal(account, outcome="downsell", current="10000", renewed="6000", closed_on=q.start, close=q.end)
    closed_renewal(account, outcome="renewed_expansion", current="10000", renewed="12000", closed_on=q.start,
                   close=q.end)
    with tenant_context(tenant_a):
        Contract.objects.create(account=account, start_date=starts, end_date=q.end + timedelta(days=400),
                                arr=D("45000"))
        ExpansionOpportunity.objects.create(account=account, product="Analytics", amount=D("10000"),
                                            stage="proposal", expected_close=q.end)
        ExpansionOpportunity.objects.create(account=account, product="SSO", amount=D("3000"), stage="won",
                                            expected_close=q.start, closed_on=q.start)
        ExpansionOpportunity.objects.create(account=account, product="Lost", amount=D("9000"), stage="lost",
                                            expected_close=q.start, closed_on=q.start)
        ExpansionOpportunity.objects.create(account=account, product="Later", amount=D("9000"), stage="identified",
                                            expected_close=add_months(q.start, 3))

    compute(tenant_a)

    this = snapshot(tenant_a)
    assert this["renewals"] == 5
    assert this["arr_up"] == D("55000")
    assert this["expected_churn"] == D("3000") + D("5000")  # 10,000 x 30% + the churned 5,000
    assert this["expected_contraction"] == D("1400") + D("4000")  # 70% x 2,000 + the downsold 4,000
    # 100% x 5,000 + renewed 2,000 more + 50% x 10,000 (proposal) + 3,000 won this quarter
    assert this["expected_expansion"] == D("5000") + D("2000") + D("5000") + D("3000")
    assert this["renewed"] == D("18000")
    assert snapshot(tenant_a, start=add_months(q.start, 3))["expected_expansion"] == D("900")  # 10% x 9,000
    assert EXPANSION_STAGE_PROBABILITY == {"identified": 10, "qualified": 30, "proposal": 50, "negotiation": 70}

    with tenant_context(tenant_a):
        summary = forecast_summary(day=TODAY, quarter_start=q.start)
    assert summary.starting_arr == D("100000")  # 55,000 up for renewal + 45,000 not
    assert summary.grr == D("86.6")  # (100,000 - 8,000 - 5,400) / 100,000
    assert summary.nrr == D("101.6")  # + 15,000
    assert summary.ending_arr == D("101600")
    assert summary.quarter.committed == D("25000")
    assert [m.period_start for m in summary.months] == [q.start, add_months(q.start, 1), add_months(q.start, 2)]


def test_the_summary_filters_by_csm_and_segment_and_has_no_rates_without_arr(tenant_a, csm, other_csm):
    q = quarter(tenant_a)
    segment = SegmentFactory(tenant=tenant_a, name="SMB")
    mine = AccountFactory(tenant=tenant_a, csm=csm, segment=segment)
    theirs = AccountFactory(tenant=tenant_a, csm=other_csm)
    starts = q.start - timedelta(days=30)
    renewal(mine, category="commit", stage="engaged", current="10000", close=q.end, starts=starts)  # p 90
    renewal(theirs, category="at_risk", stage="engaged", current="10000", close=q.end, starts=starts)  # p 20
    compute(tenant_a)

    with tenant_context(tenant_a):
        everyone = forecast_summary(day=TODAY, quarter_start=q.start)
        only_mine = forecast_summary(day=TODAY, quarter_start=q.start, csm_ids=[csm.pk])
        smb = forecast_summary(day=TODAY, quarter_start=q.start, segment_ids=[segment.pk])
        nobody = forecast_summary(day=TODAY, quarter_start=q.start, csm_ids=[])
    assert everyone.starting_arr == D("20000") and everyone.grr == D("55.0")  # (20,000 - 1,000 - 8,000) / 20,000
    assert only_mine.starting_arr == D("10000") and only_mine.grr == D("90.0")
    assert only_mine.quarter.at_risk == 0 and only_mine.quarter.committed == D("10000")
    assert smb.grr == D("90.0") and smb.quarter.renewals == 1
    assert nobody.starting_arr == 0 and nobody.grr is None and nobody.nrr is None


def test_a_future_quarter_uses_todays_arr_as_its_start(tenant_a, account):
    q = quarter(tenant_a)
    later = add_months(q.start, 6)
    renewal(account, category="pipeline", stage="engaged", current="8000", close=later + timedelta(days=5),
            starts=TODAY - timedelta(days=300))
    compute(tenant_a)
    with tenant_context(tenant_a):
        summary = forecast_summary(day=TODAY, quarter_start=later)
    assert summary.arr_on == TODAY and summary.starting_arr == D("8000")
    assert summary.quarter.expected_churn == D("4400.00")  # 8,000 x (1 - 45%)


# ---- fiscal quarters in SQL ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("first_month", range(1, 13))
def test_the_sql_fiscal_quarter_start_matches_periods(tenant_a, first_month):
    tenant_a.fiscal_year_start_month = first_month
    days = [date(2024, m, d) for m in range(1, 13) for d in (1, 15, 28)] + [date(2025, 2, 28), date(2024, 12, 31)]
    expr = fiscal_quarter_start_sql("%s", first_month)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT {i}, {expr}" for i in range(len(days))),
                       [d for d in days for _ in range(expr.count("%s"))])
        got = {i: start for i, start in cursor.fetchall()}
    for i, day in enumerate(days):
        start = got[i] if isinstance(got[i], date) else date.fromisoformat(got[i])
        assert start == fiscal_quarter(tenant_a, day).start, (first_month, day)


def test_snapshot_quarters_follow_the_tenants_fiscal_year(tenant_a, account):
    tenant_a.fiscal_year_start_month = 2
    tenant_a.save()
    q = quarter(tenant_a)
    assert (q.start.month - 2) % 3 == 0
    renewal(account, category="commit", current="1000", close=q.end)
    compute(tenant_a)
    assert snapshot(tenant_a, start=q.start)["committed"] == D("1000")
    with tenant_context(tenant_a):
        kinds = set(ForecastSnapshot.objects.values_list("period_kind", "period_start"))
    assert kinds == {("quarter", q.start), ("month", q.end.replace(day=1))}


def test_it_keeps_sixty_days_of_forecast_lines(tenant_a, account):
    contract(account, start=TODAY - timedelta(days=300), end=TODAY + timedelta(days=60))
    with tenant_context(tenant_a):
        services.renewals_open_due(day=TODAY)
    for days_back in (70, 61, 60, 0):
        job_run(job_name="renewals.forecast", tenant=tenant_a, day=TODAY - timedelta(days=days_back))
    with tenant_context(tenant_a):
        assert sorted(set(ForecastLine.objects.values_list("day", flat=True))) == [TODAY - timedelta(days=60), TODAY]
