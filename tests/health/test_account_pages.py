"""The Health section of the Account 360 page: score, explanation, trend, at-risk banner, surveys and pulse."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.alerts import alerts_update
from health.models import HealthScore, Measure, SentimentPulse, SurveyInvite
from tests.factories import ContactFactory, MembershipFactory, SentimentPulseFactory, SurveyResponseFactory

from .conftest import TODAY, compute, days_ago, use_measures

K = Measure.Kind
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def other_csm(tenant_a):
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="other-csm@alpha.test").user


@pytest.fixture
def executive(tenant_a):
    return MembershipFactory(tenant=tenant_a, role=Role.EXECUTIVE, user__email="exec@alpha.test").user


def page(client, account):
    response = client.get(f"/t/alpha/accounts/{account.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def pulse_url(account, slug="alpha"):
    return f"/t/{slug}/health/account/{account.pk}/pulse/"


def pulses(tenant):
    with tenant_context(tenant):
        return list(SentimentPulse.objects.order_by("pk"))


def test_it_shows_the_score_band_and_each_measures_contribution(client, tenant_a, account, csm):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 3, 1, 5, 90), (K.NPS, 1, -20, 40, 180))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4, comment="Steady", set_by=csm)
    compute(tenant_a)
    client.force_login(csm)
    html = page(client, account)
    assert 'class="headline">75<' in html and "Green</span>" in html
    assert "Standard health" in html  # the scorecard
    assert "CSM sentiment pulse (1-5)" in html and "4 of 5" in html
    assert "100.0%" in html  # the only measure with data carries all the weight used
    # NPS has no response: left out and said so.
    assert "NPS (-100 to 100)" in html and "no data - left out, weights renormalised" in html
    assert "the score uses 3 of 4 weight points" in html


def test_it_says_no_data_when_the_account_has_no_score_yet(client, tenant_a, account, csm):
    client.force_login(csm)
    html = page(client, account)
    assert "No health score yet" in html and "No data" in html


def test_it_shows_the_change_over_7_and_30_days_and_the_trend(client, tenant_a, account, csm):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5, 90))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=2, as_of=days_ago(40))
    compute(tenant_a, days_ago(30))  # 25
    SentimentPulseFactory(tenant=tenant_a, account=account, score=3, as_of=days_ago(8))
    compute(tenant_a, days_ago(7))  # 50
    SentimentPulseFactory(tenant=tenant_a, account=account, score=5, as_of=TODAY)
    compute(tenant_a)  # 100
    client.force_login(csm)
    html = page(client, account)
    assert "up 50.0 points" in html and "up 75.0 points" in html
    assert 'type="application/json"' in html and "health_charts.js" in html and "vendor/chart.umd.js" in html
    # Readable without the chart: a summary and a table.
    assert f"From 25 (Red) on {days_ago(30).isoformat()} to 100 (Green) on {TODAY.isoformat()}" in html
    assert "Scores as a table" in html


def test_it_shows_the_at_risk_banner_with_reason_fallen_measures_and_recovery_task(client, tenant_a, account, csm):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=1)
    compute(tenant_a)
    with tenant_context(tenant_a):
        alerts_update(tenant=tenant_a, day=TODAY)
    client.force_login(csm)
    html = page(client, account)
    assert "At risk</strong>" in html and "fell to red" in html
    assert "CSM sentiment pulse (1-5): no score → 0" in html
    assert "Recovery task:" in html and "Chris Carter" in html and "open" in html
    assert 'href="#task-' in html  # the open task is listed in the success plan section


def test_it_shows_no_banner_when_the_account_is_not_at_risk(client, tenant_a, account, csm):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=5)
    compute(tenant_a)
    client.force_login(csm)
    assert "At risk</strong>" not in page(client, account)


def test_the_accounts_csm_sets_a_pulse_and_sees_it(client, tenant_a, account, csm):
    client.force_login(csm)
    assert "Set pulse" in page(client, account)
    response = client.post(pulse_url(account), {"score": "4", "comment": "  Good QBR  "}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sentiment pulse saved." in html and "4 of 5" in html and "Good QBR" in html
    [pulse] = pulses(tenant_a)
    assert (pulse.score, pulse.comment, pulse.set_by_id, pulse.as_of) == (4, "Good QBR", csm.pk, TODAY)

    response = client.post(pulse_url(account), {"score": "2"})  # without HTMX: back to the account
    assert response.status_code == 302 and response["Location"] == f"/t/alpha/accounts/{account.pk}/"
    assert len(pulses(tenant_a)) == 2


def test_a_bad_pulse_answers_400_with_the_field_error_and_writes_nothing(client, tenant_a, account, csm):
    client.force_login(csm)
    response = client.post(pulse_url(account), {"score": "9"}, **HTMX)
    assert response.status_code == 400 and "Pick a score from 1 to 5." in response.content.decode()
    response = client.post(pulse_url(account), {"comment": "x" * 501})  # full page without HTMX
    assert response.status_code == 400
    html = response.content.decode()
    assert "Pick a score from 1 to 5." in html and "Ensure this value has at most 500 characters" in html
    assert "Initech" in html
    assert pulses(tenant_a) == []


def test_a_csm_who_does_not_own_the_account_may_not_set_its_pulse(client, tenant_a, account, other_csm):
    client.force_login(other_csm)
    assert "Set pulse" not in page(client, account)
    assert client.post(pulse_url(account), {"score": "5"}, **HTMX).status_code == 403
    assert pulses(tenant_a) == []


def test_an_executive_may_not_set_a_pulse(client, tenant_a, account, executive):
    client.force_login(executive)
    assert "Set pulse" not in page(client, account)
    assert client.post(pulse_url(account), {"score": "5"}).status_code == 403


def test_the_csms_manager_may_set_the_pulse(client, tenant_a, account, manager):
    client.force_login(manager)
    assert client.post(pulse_url(account), {"score": "3"}, **HTMX).status_code == 200
    assert [p.set_by_id for p in pulses(tenant_a)] == [manager.pk]


def test_an_outsider_gets_404_on_another_tenants_account(client, tenant_a, account, outsider):
    client.force_login(outsider)
    assert client.get(f"/t/alpha/accounts/{account.pk}/").status_code == 404
    assert client.post(pulse_url(account), {"score": "5"}).status_code == 404
    assert client.post(pulse_url(account, slug="bravo"), {"score": "5"}).status_code == 404
    assert client.post(f"/t/bravo/health/account/{account.pk}/surveys/send/").status_code == 404
    assert pulses(tenant_a) == []


def test_it_lists_survey_history_and_invites_to_leads_only(client, tenant_a, account, csm, manager):
    jane = ContactFactory(tenant=tenant_a, account=account, name="Jane Buyer", receives_surveys=True)
    SurveyResponseFactory(tenant=tenant_a, account=account, contact=jane, score=10, comment="Love the reports")
    with tenant_context(tenant_a):
        SurveyInvite.objects.create(account=account, contact=jane, token_hash="x" * 64, sent_at=timezone.now(),
                                    expires_at=timezone.now() - timedelta(days=1))
    client.force_login(csm)
    html = page(client, account)
    assert "Jane Buyer" in html and "Love the reports" in html and "+100</strong> from 1 response" in html
    assert "Recent survey invites" not in html and "Send NPS survey" not in html
    client.force_login(manager)
    html = page(client, account)
    assert "Recent survey invites" in html and "expired" in html and "Send NPS survey" in html


def _history(tenant, account, days):
    with tenant_context(tenant):
        HealthScore.objects.filter(account=account).delete()
        HealthScore.objects.bulk_create([
            HealthScore(account=account, day=days_ago(n), score=Decimal(50 + n % 30), band="yellow",
                        components=[], computed_at=timezone.now())
            for n in range(days)
        ])


def test_the_panel_query_count_does_not_grow_with_history(client, tenant_a, account, csm, manager):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5, 90))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=3)
    contact = ContactFactory(tenant=tenant_a, account=account, receives_surveys=True)
    _history(tenant_a, account, 5)
    compute(tenant_a)  # today's row with real components
    SurveyResponseFactory(tenant=tenant_a, account=account, contact=contact)
    client.force_login(manager)  # a lead also sees the invites
    with CaptureQueriesContext(connection) as few:
        page(client, account)
    _history(tenant_a, account, 60)
    compute(tenant_a)  # today's row with real components
    SurveyResponseFactory.create_batch(12, tenant=tenant_a, account=account, contact=contact)
    SentimentPulseFactory.create_batch(5, tenant=tenant_a, account=account, score=4)
    with tenant_context(tenant_a):
        SurveyInvite.objects.bulk_create([
            SurveyInvite(account=account, contact=contact, token_hash=f"{n:064d}", sent_at=timezone.now(),
                         expires_at=timezone.now() + timedelta(days=3)) for n in range(6)])
    with CaptureQueriesContext(connection) as many:
        html = page(client, account)
    assert "Scores as a table" in html
    assert len(many) == len(few)
