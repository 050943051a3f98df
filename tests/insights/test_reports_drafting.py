"""Drafting the monthly reports: the figures of a worked example, the nightly job (idempotent, never overwrites),
and "Refresh figures" (drafts only, never the recommendation)."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from csplatform.jobs.models import JobRun
from csplatform.jobs.services import job_run
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore, Measure, Scorecard, UsageDaily, UsageKey
from insights.models import MonthlyReport
from insights.reports.drafting import reports_draft
from insights.reports.selectors import report_cycle_month
from renewals.models import Contract, RenewalOpportunity
from success_plans.models import ValueRealised
from tests.factories import AccountFactory, SurveyResponseFactory

pytestmark = pytest.mark.postgres

MARCH = date(2025, 3, 1)
LONG_AGO = timezone.make_aware(datetime(2024, 1, 1))


def at(day: date, hour=12, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def account_in(tenant, **fields):
    account = AccountFactory(tenant=tenant, **fields)
    with tenant_context(tenant):
        type(account).objects.filter(pk=account.pk).update(created_at=LONG_AGO)
    return account


def keys(tenant, account, day, kind, *names):
    with tenant_context(tenant):
        UsageKey.objects.bulk_create([UsageKey(account=account, day=day, kind=kind, key=n) for n in names])


def usage(tenant, account, day, events):
    with tenant_context(tenant):
        UsageDaily.objects.create(account=account, day=day, events=events, active_users=1, features=1)


def score(tenant, account, day, value, band, components=()):
    with tenant_context(tenant):
        HealthScore.objects.create(account=account, day=day, score=Decimal(value), band=band,
                                   components=list(components), computed_at=timezone.now())


def renewal(tenant, account, close_date, stage, n):
    with tenant_context(tenant):
        contract = Contract.objects.create(account=account, external_id=f"C-{n}", start_date=date(2024, 1, 1),
                                           end_date=close_date, arr=Decimal("1000"))
        fields = {}
        if stage == "closed":
            fields = {"outcome": "renewed_flat", "closed_on": close_date, "renewed_arr": Decimal("1000")}
        RenewalOpportunity.objects.create(account=account, contract=contract, stage=stage, close_date=close_date,
                                          current_arr=Decimal("1000"), expected_arr=Decimal("1000"), **fields)


def value(tenant, account, day, amount):
    with tenant_context(tenant):
        ValueRealised.objects.create(account=account, kind="cost_avoidance", amount=Decimal(amount), realised_on=day,
                                     how_measured="Hours saved x rate")


@pytest.fixture
def example(tenant_a, tenant_b, csm):
    """Initech in March 2025, with data in February (the month before) and just outside both months."""
    account = account_in(tenant_a, csm=csm, name="Initech", licensed_seats=10)
    with tenant_context(tenant_a):
        type(account).objects.filter(pk=account.pk).update(arr=Decimal("12000.00"))
        card = Scorecard.objects.get(is_default=True)
        logins = Measure.objects.create(scorecard=card, kind="active_users", weight=1, red_threshold=0,
                                        green_threshold=10, label="Daily logins")
        tickets = Measure.objects.create(scorecard=card, kind="tickets_opened", weight=1, red_threshold=10,
                                         green_threshold=0, direction="lower")
    # Users: u1-u4 in March (u1 twice), u1-u2 in February, u9 in January (outside). Features: 3 vs 1.
    keys(tenant_a, account, date(2025, 3, 3), "u", "u1", "u2", "u3")
    keys(tenant_a, account, date(2025, 3, 31), "u", "u1", "u4")
    keys(tenant_a, account, date(2025, 2, 1), "u", "u1")
    keys(tenant_a, account, date(2025, 2, 28), "u", "u2")
    keys(tenant_a, account, date(2025, 1, 31), "u", "u9")
    keys(tenant_a, account, date(2025, 4, 1), "u", "u8")
    keys(tenant_a, account, date(2025, 3, 3), "f", "export", "search", "login")
    keys(tenant_a, account, date(2025, 2, 14), "f", "login")
    # Events: 150 in March, 40 in February.
    usage(tenant_a, account, date(2025, 3, 1), 100)
    usage(tenant_a, account, date(2025, 3, 31), 50)
    usage(tenant_a, account, date(2025, 2, 20), 40)
    usage(tenant_a, account, date(2025, 4, 1), 999)
    # Health: the month's last scored day is March 30 (72.5 green); February's is the 27th (60 yellow).
    score(tenant_a, account, date(2025, 3, 5), "50", "yellow")
    score(tenant_a, account, date(2025, 3, 30), "72.5", "green",
          [[logins.pk, 8.0, 80.0, "1.00"], [tickets.pk, 6.5, 35.0, "1.00"]])
    score(tenant_a, account, date(2025, 2, 27), "60", "yellow",
          [[logins.pk, 4.0, 40.0, "1.00"], [tickets.pk, 6.0, 40.0, "1.00"]])
    score(tenant_a, account, date(2025, 4, 1), "10", "red")
    # Value: 250.50 in March, 1,250.50 to the end of March.
    value(tenant_a, account, date(2025, 1, 15), "1000")
    value(tenant_a, account, date(2025, 3, 10), "250.50")
    value(tenant_a, account, date(2025, 4, 2), "999")
    # Renewals: the next open one is September 2025 (engaged); the closed one does not count.
    renewal(tenant_a, account, date(2025, 2, 28), "closed", 1)
    renewal(tenant_a, account, date(2026, 9, 30), "not_started", 2)
    renewal(tenant_a, account, date(2025, 9, 30), "engaged", 3)
    # NPS in March: 10, 9, 9 promoters, 7 passive, 3 and 2 detractors -> (3 - 2) / 6 = 16.7% -> 17.
    for n, s in enumerate([10, 9, 9, 7, 3, 2]):
        SurveyResponseFactory(tenant=tenant_a, account=account, score=s, responded_at=at(date(2025, 3, 2 + n)))
    SurveyResponseFactory(tenant=tenant_a, account=account, score=0, responded_at=at(date(2025, 3, 31), 23, 59))
    SurveyResponseFactory(tenant=tenant_a, account=account, score=0, responded_at=at(date(2025, 4, 1), 0, 1))
    SurveyResponseFactory(tenant=tenant_a, account=account, score=0, responded_at=at(date(2025, 2, 28), 23, 59))
    SurveyResponseFactory(tenant=tenant_a, account=account, kind="csat", score=1, responded_at=at(date(2025, 3, 9)))
    return account


def draft(tenant, month=MARCH, **kwargs):
    with tenant_context(tenant):
        return reports_draft(tenant=tenant, month=month, **kwargs)


def report_of(tenant, account, month=MARCH):
    with tenant_context(tenant):
        return MonthlyReport.objects.get(account=account, month=month)


def test_it_drafts_the_figures_of_the_worked_example(tenant_a, example, csm):
    assert draft(tenant_a) == 1
    r = report_of(tenant_a, example)
    assert (r.status, r.csm_id, r.recommendation, r.snapshot) == ("draft", csm.pk, "", {})
    assert (r.monthly_active_users, r.monthly_active_users_prev) == (4, 2)
    assert (r.features_used, r.features_used_prev) == (3, 1)
    assert (r.usage_events, r.usage_events_prev) == (150, 40)
    assert r.licensed_seats == 10
    assert (r.health_score, r.health_band, r.health_score_prev) == (Decimal("72.50"), "green", Decimal("60.00"))
    assert (r.value_realised_month, r.value_realised_total) == (Decimal("250.50"), Decimal("1250.50"))
    assert r.arr == Decimal("12000.00")
    assert (r.renewal_date, r.renewal_stage) == (date(2025, 9, 30), "engaged")
    # Seven NPS answers in March (the one at 23:59 on the 31st too): 3 promoters, 3 detractors -> 0.
    assert (r.nps_responses, r.nps_score) == (7, 0)


def test_it_rounds_the_nps_half_away_from_zero(tenant_a, csm):
    account = account_in(tenant_a, csm=csm)
    for n, s in enumerate([10, 9, 9, 7, 3, 2]):
        SurveyResponseFactory(tenant=tenant_a, account=account, score=s, responded_at=at(date(2025, 3, 2 + n)))
    other = account_in(tenant_a, csm=csm)
    for n, s in enumerate([0, 0, 0, 9, 9, 9, 9, 8]):  # (4 - 3) / 8 = 12.5 -> 13
        SurveyResponseFactory(tenant=tenant_a, account=other, score=s, responded_at=at(date(2025, 3, 2 + n)))
    draft(tenant_a)
    assert report_of(tenant_a, account).nps_score == 17
    assert report_of(tenant_a, other).nps_score == 13


def test_it_drafts_only_active_accounts_that_existed_in_the_month_of_this_tenant(tenant_a, tenant_b, csm):
    kept = account_in(tenant_a, csm=csm)
    churned = account_in(tenant_a, csm=csm)
    with tenant_context(tenant_a):
        type(churned).objects.filter(pk=churned.pk).update(status="churned", churn_date=date(2025, 2, 1))
    AccountFactory(tenant=tenant_a)  # created today, after March 2025
    foreign = account_in(tenant_b)
    assert draft(tenant_a) == 1
    with tenant_context(tenant_a):
        assert list(MonthlyReport.objects.values_list("account_id", flat=True)) == [kept.pk]
    with tenant_context(tenant_b):
        assert not MonthlyReport.objects.filter(account=foreign).exists()


def test_it_leaves_figures_empty_without_data(tenant_a, csm):
    account = account_in(tenant_a, csm=csm, licensed_seats=0)
    draft(tenant_a)
    r = report_of(tenant_a, account)
    assert (r.monthly_active_users, r.usage_events, r.nps_responses) == (0, 0, 0)
    assert (r.health_score, r.health_score_prev, r.health_band, r.nps_score) == (None, None, "", None)
    assert (r.renewal_date, r.renewal_stage, r.value_realised_total) == (None, "", Decimal("0"))


def test_it_counts_at_least_the_busiest_day_when_usage_arrives_as_daily_totals_without_ids(tenant_a, csm):
    account = account_in(tenant_a, csm=csm, licensed_seats=50)
    with tenant_context(tenant_a):
        UsageDaily.objects.bulk_create([
            UsageDaily(account=account, day=date(2025, 3, 4), events=300, active_users=31, features=6),
            UsageDaily(account=account, day=date(2025, 3, 5), events=200, active_users=24, features=9),
            UsageDaily(account=account, day=date(2025, 2, 5), events=100, active_users=12, features=4)])
    draft(tenant_a)
    r = report_of(tenant_a, account)
    assert (r.monthly_active_users, r.monthly_active_users_prev) == (31, 12)
    assert (r.features_used, r.features_used_prev) == (9, 4)
    assert r.usage_events == 500


def test_the_nightly_job_drafts_last_month_and_is_idempotent(tenant_a, example):
    day = date(2025, 4, 1)
    assert report_cycle_month(day) == MARCH
    first = job_run(job_name="insights.reports", tenant=tenant_a, day=day)
    assert (first.status, first.rows) == ("succeeded", 1)
    with tenant_context(tenant_a):
        MonthlyReport.objects.filter(account=example).update(recommendation="Roll out SSO to the sales team.")
        before = list(MonthlyReport.objects.values())
    # Later data and a second run (the same day, then a later day of the month) change nothing.
    usage(tenant_a, example, date(2025, 3, 15), 1000)
    again = job_run(job_name="insights.reports", tenant=tenant_a, day=day)
    later = job_run(job_name="insights.reports", tenant=tenant_a, day=date(2025, 4, 20))
    assert (again.rows, later.rows) == (0, 0)
    with tenant_context(tenant_a):
        assert list(MonthlyReport.objects.values()) == before
        assert before[0]["recommendation"] == "Roll out SSO to the sales team."
        assert JobRun.objects.filter(job="insights.reports").count() == 3


def test_a_later_run_catches_up_an_account_missed(tenant_a, example, csm):
    draft(tenant_a)
    missed = account_in(tenant_a, csm=csm)  # e.g. imported after the 1st, or the first run failed
    assert job_run(job_name="insights.reports", tenant=tenant_a, day=date(2025, 4, 9)).rows == 1
    assert report_of(tenant_a, missed).status == "draft"


def test_once_every_report_exists_a_run_only_checks_that_they_do(tenant_a, example, django_assert_num_queries):
    draft(tenant_a)
    with tenant_context(tenant_a), django_assert_num_queries(1):
        assert reports_draft(tenant=tenant_a, month=MARCH) == 0


def test_refresh_updates_the_figures_of_a_draft_only_and_keeps_the_recommendation(tenant_a, example, csm):
    other = account_in(tenant_a, csm=csm)
    draft(tenant_a)
    with tenant_context(tenant_a):
        MonthlyReport.objects.filter(account=example).update(recommendation="Keep going.")
    usage(tenant_a, example, date(2025, 3, 15), 1000)
    usage(tenant_a, other, date(2025, 3, 15), 7)
    assert draft(tenant_a, account_ids=[example.pk]) == 1
    refreshed = report_of(tenant_a, example)
    assert (refreshed.usage_events, refreshed.recommendation) == (1150, "Keep going.")
    assert report_of(tenant_a, other).usage_events == 0  # not asked for


def test_refresh_never_touches_a_delivered_report(tenant_a, example):
    draft(tenant_a)
    with tenant_context(tenant_a):
        MonthlyReport.objects.filter(account=example).update(status="delivered", delivered_at=timezone.now())
    usage(tenant_a, example, date(2025, 3, 15), 1000)
    assert draft(tenant_a, account_ids=[example.pk]) == 0
    assert report_of(tenant_a, example).usage_events == 150
