"""The scoring maths, through the real SQL recompute."""

from decimal import Decimal

import pytest
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from health.models import HealthScore, HealthSettings, Measure, Scorecard, ScorecardSegment, UsageDaily
from tests.factories import (
    AccountFactory,
    SegmentFactory,
    SentimentPulseFactory,
    SupportTicketFactory,
    SurveyResponseFactory,
)

from .conftest import TODAY, compute, days_ago, use_measures

K = Measure.Kind


def score_of(tenant, account, day=TODAY):
    with tenant_context(tenant):
        return HealthScore.objects.get(account=account, day=day)


def test_it_gives_new_tenants_a_default_scorecard_and_bands(tenant_a):
    with tenant_context(tenant_a):
        card = Scorecard.objects.get(is_default=True)
        assert card.measures.count() >= 6
        rules = HealthSettings.objects.get()
    assert (rules.green_from, rules.yellow_from) == (70, 40)


def test_it_maps_raw_values_linearly_between_thresholds_and_clamps(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    for pulse, expected in [(1, Decimal("0")), (2, Decimal("25")), (4, Decimal("75")), (5, Decimal("100"))]:
        SentimentPulseFactory(tenant=tenant_a, account=account, score=pulse)
        compute(tenant_a)
        assert score_of(tenant_a, account).score == expected


def test_it_scores_lower_is_better_measures_downwards(tenant_a, account):
    use_measures(tenant_a, (K.OPEN_PRIORITY_TICKETS, 1, 4, 0))
    SupportTicketFactory(tenant=tenant_a, account=account, priority="urgent")
    SupportTicketFactory(tenant=tenant_a, account=account, priority="low")  # not high priority
    SupportTicketFactory(tenant=tenant_a, account=account, priority="high", closed_at=timezone.now())  # closed
    compute(tenant_a)
    score = score_of(tenant_a, account)
    assert score.score == Decimal("75")  # 1 open high-priority ticket of a red threshold of 4
    assert score.components[0][1] == 1


def test_it_weighs_measures_and_leaves_out_those_without_data(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5), (K.NPS, 3, -100, 100), (K.CSAT, 2, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=5)  # 100, weight 1
    SurveyResponseFactory(tenant=tenant_a, account=account, kind="nps", score=10)
    SurveyResponseFactory(tenant=tenant_a, account=account, kind="nps", score=3)  # NPS 0 -> 50, weight 3
    compute(tenant_a)
    score = score_of(tenant_a, account)
    # CSAT has no answers: left out, weights renormalised over 1 + 3.
    assert score.score == Decimal("62.50")
    by_kind = {c[0]: c for c in score.components}
    assert sorted(c[2] for c in by_kind.values() if c[2] is not None) == [50, 100]
    assert [c[1] for c in by_kind.values()].count(None) == 1


def test_it_bands_by_the_tenant_thresholds(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4)  # 75
    compute(tenant_a)
    assert score_of(tenant_a, account).band == "green"
    with tenant_context(tenant_a):
        HealthSettings.objects.update(green_from=80, yellow_from=75)
    compute(tenant_a)
    assert score_of(tenant_a, account).band == "yellow"
    with tenant_context(tenant_a):
        HealthSettings.objects.update(green_from=90, yellow_from=80)
    compute(tenant_a)
    assert score_of(tenant_a, account).band == "red"


def test_it_records_no_data_when_no_measure_has_any(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5), (K.NPS, 1, -100, 100))
    compute(tenant_a)
    score = score_of(tenant_a, account)
    assert score.score is None and score.band == "none"


def test_it_is_idempotent_for_a_tenant_and_day(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=2)
    assert compute(tenant_a) == 1
    first = score_of(tenant_a, account)
    assert compute(tenant_a) == 1
    with tenant_context(tenant_a):
        assert HealthScore.objects.count() == 1
    again = score_of(tenant_a, account)
    assert (again.score, again.band, again.components) == (first.score, first.band, first.components)


def test_it_records_the_change_against_7_and_30_days_before(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5, 90))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=5, as_of=days_ago(40))
    compute(tenant_a, days_ago(30))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4, as_of=days_ago(10))
    compute(tenant_a, days_ago(7))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=2, as_of=days_ago(1))
    compute(tenant_a)
    score = score_of(tenant_a, account)
    assert score.score == Decimal("25")
    assert score.change_7d == Decimal("-50")
    assert score.change_30d == Decimal("-75")


def test_it_uses_the_scorecard_of_the_accounts_segment(tenant_a, account):
    enterprise = SegmentFactory(tenant=tenant_a, name="Enterprise")
    other = AccountFactory(tenant=tenant_a, segment=enterprise)
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    with tenant_context(tenant_a):
        card = Scorecard.objects.create(name="Enterprise", priority=1)
        ScorecardSegment.objects.create(scorecard=card, segment=enterprise)
        Measure.objects.create(scorecard=card, kind=K.CSM_SENTIMENT, weight=1, red_threshold=0,
                               green_threshold=10, window_days=30)
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4)
    SentimentPulseFactory(tenant=tenant_a, account=other, score=4)
    compute(tenant_a)
    assert score_of(tenant_a, account).score == Decimal("75")
    assert score_of(tenant_a, other).score == Decimal("40")
    assert score_of(tenant_a, other).scorecard_id == card.pk


@pytest.mark.postgres
def test_it_never_scores_another_tenants_accounts(tenant_a, tenant_b, account, foreign_account):
    use_measures(tenant_b, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_b, account=foreign_account, score=5)
    compute(tenant_a)
    with tenant_context(tenant_a):
        assert list(HealthScore.objects.values_list("account_id", flat=True)) == [account.pk]
    with tenant_context(tenant_b):
        assert not HealthScore.objects.exists()


def test_it_reads_usage_as_seat_utilisation_and_a_trend_within_the_window(tenant_a, account):
    use_measures(tenant_a, (K.SEAT_UTILISATION, 1, 0, 100), (K.USAGE_TREND, 1, -100, 300))
    with tenant_context(tenant_a):  # 10 seats; 5 active a day; 20 events a day lately, 10 before
        UsageDaily.objects.bulk_create([
            UsageDaily(account=account, day=days_ago(n), active_users=5, events=20 if n < 15 else 10, features=3)
            for n in range(30)] + [UsageDaily(account=account, day=days_ago(40), active_users=99, events=999)])
    compute(tenant_a)
    components = {c[0]: c for c in score_of(tenant_a, account).components}
    raws = sorted(float(c[1]) for c in components.values())
    assert raws == [50.0, 100.0]  # 50% of seats active; events per day up 100% (second half vs first)
    assert score_of(tenant_a, account).score == Decimal("50")  # (50 + 50) / 2
