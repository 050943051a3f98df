"""The health API: who may send signals and read scores, ticket upserts, survey response validation, and
scores explained measure by measure."""

from datetime import timedelta

import pytest
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from health.models import HealthScore, Measure, SupportTicket, SurveyResponse, UsageDaily
from tests.api import count
from tests.factories import AccountFactory, ContactFactory, SentimentPulseFactory, SupportTicketFactory

from .conftest import TODAY, compute, days_ago, use_measures

K = Measure.Kind
OPENED = (timezone.now() - timedelta(days=3)).replace(microsecond=0)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def ticket(account, external_id="ZD-1", **extra):
    return {"external_id": external_id, "account": account.external_id, "subject": "Login broken",
            "priority": "high", "opened_at": iso(OPENED), **extra}


# --- permissions and tenancy ----------------------------------------------------------------------------


def test_it_lets_only_ops_and_admins_send_signals(csm_api, executive_api, tenant_a, account):
    usage = {"batch_id": "b", "events": [{"account": account.external_id, "occurred_at": iso(timezone.now()),
                                          "event": "login"}]}
    assert csm_api.post("/usage-events/", usage).status_code == 403
    assert executive_api.post("/usage-events/", usage).status_code == 403
    assert csm_api.post("/support-tickets/", ticket(account)).status_code == 403
    assert csm_api.post("/survey-responses/", {}).status_code == 403
    assert count(UsageDaily, tenant_a) == 0 and count(SupportTicket, tenant_a) == 0
    # Reading is for everyone.
    assert csm_api.get("/support-tickets/").status_code == 200
    assert executive_api.get("/health-scores/").status_code == 200


def test_it_answers_401_without_a_token(client):
    assert client.post("/api/v1/usage-events/", {}, content_type="application/json").status_code == 401


def test_it_never_shows_another_tenants_scores_tickets_or_responses(outsider_api, tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4)
    compute(tenant_a)
    secret = SupportTicketFactory(tenant=tenant_a, account=account)
    with tenant_context(tenant_a):
        score = HealthScore.objects.get()
        response = SurveyResponse.objects.create(account=account, kind="nps", score=3, source="api",
                                                 responded_at=timezone.now())

    assert outsider_api.get("/health-scores/").json()["results"] == []
    assert outsider_api.get(f"/health-scores/{score.pk}/").status_code == 404
    assert outsider_api.get("/support-tickets/").json()["results"] == []
    assert outsider_api.get(f"/support-tickets/{secret.pk}/").status_code == 404
    assert outsider_api.get(f"/survey-responses/{response.pk}/").status_code == 404
    # Naming tenant A's account from tenant B is naming no account at all.
    sent = outsider_api.post("/support-tickets/", ticket(account))
    assert sent.status_code == 400 and "No account with external id" in sent.json()["account"][0]
    assert outsider_api.get("/health-scores/", {"account": account.pk}).status_code == 400


# --- support tickets ------------------------------------------------------------------------------------


def test_it_creates_a_ticket_then_closes_it_by_sending_it_again(ops_api, tenant_a, account):
    created = ops_api.post("/support-tickets/", ticket(account))
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["account"] == account.external_id and body["account_id"] == account.pk
    assert body["priority"] == "high" and body["closed_at"] is None

    closed_at = timezone.now().replace(microsecond=0)
    closed = ops_api.post("/support-tickets/", {"external_id": "ZD-1", "closed_at": iso(closed_at)})
    assert closed.status_code == 200, closed.json()
    # The fields left out kept their value.
    assert closed.json()["subject"] == "Login broken" and closed.json()["priority"] == "high"
    assert closed.json()["id"] == body["id"] and closed.json()["closed_at"] == iso(closed_at)
    assert count(SupportTicket, tenant_a) == 1

    assert ops_api.get("/support-tickets/", {"open": "true"}).json()["results"] == []
    assert [t["external_id"] for t in ops_api.get("/support-tickets/", {"open": "false"}).json()["results"]] == [
        "ZD-1"]
    assert ops_api.get(f"/support-tickets/{body['id']}/").json()["closed_at"] == iso(closed_at)


def test_it_upserts_a_list_of_tickets_by_external_id(ops_api, tenant_a, account):
    other = AccountFactory(tenant=tenant_a)
    SupportTicketFactory(tenant=tenant_a, account=account, external_id="ZD-1", priority="low")
    response = ops_api.post("/support-tickets/", [
        ticket(account, "ZD-1", priority="urgent"),
        {"external_id": "ZD-2", "account_id": other.pk, "opened_at": iso(OPENED)},
    ])
    assert response.status_code == 200, response.json()
    assert response.json() == {"received": 2, "created": 1, "updated": 1}
    listed = {t["external_id"]: t for t in ops_api.get("/support-tickets/", {"account": other.pk}).json()["results"]}
    assert list(listed) == ["ZD-2"] and listed["ZD-2"]["priority"] == "normal"
    with tenant_context(tenant_a):
        assert SupportTicket.objects.get(external_id="ZD-1").priority == "urgent"


def test_it_rejects_a_ticket_list_whole_with_the_errors_by_index(ops_api, tenant_a, account):
    response = ops_api.post("/support-tickets/", [
        ticket(account, "ZD-1"),
        ticket(account, "ZD-2", priority="meh"),
        ticket(account, "ZD-3", closed_at=iso(OPENED - timedelta(days=1))),
        {"external_id": "ZD-4", "account": account.external_id},
        ticket(account, "ZD-1"),
    ])
    assert response.status_code == 400
    errors = {e["index"]: e["fields"] for e in response.json()["errors"]}
    assert set(errors) == {1, 2, 3, 4}
    assert "priority" in errors[1]
    assert errors[2] == {"closed_at": ["A ticket cannot close before it opened."]}
    assert errors[3] == {"opened_at": ["A new ticket needs opened_at."]}
    assert "Also at index 0" in errors[4]["external_id"][0]
    assert count(SupportTicket, tenant_a) == 0


def test_it_takes_at_most_1000_tickets_per_request(ops_api, tenant_a, account):
    response = ops_api.post("/support-tickets/", [ticket(account, f"ZD-{i}") for i in range(1001)])
    assert response.status_code == 400 and "At most 1000" in response.json()["detail"]


# --- survey responses -----------------------------------------------------------------------------------


@pytest.fixture
def contact(tenant_a, account):
    return ContactFactory(tenant=tenant_a, account=account, email="Pat.Lee@initech.test")


def test_it_records_a_survey_response_by_contact_email(ops_api, tenant_a, account, contact):
    response = ops_api.post("/survey-responses/", {"account_id": account.pk, "contact_email": "pat.lee@INITECH.test",
                                                   "kind": "nps", "score": 9, "comment": " Great support "})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["contact_id"] == contact.pk and body["source"] == "api" and body["comment"] == "Great support"
    listed = ops_api.get("/survey-responses/", {"account": account.pk, "kind": "nps"}).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert ops_api.get("/survey-responses/", {"kind": "csat"}).json()["results"] == []
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert ops_api.get("/survey-responses/", {"since": tomorrow}).json()["results"] == []


@pytest.mark.parametrize(("kind", "score"), [("csat", 6), ("csat", 0), ("nps", 11), ("nps", -1)])
def test_it_rejects_a_score_outside_the_scale(ops_api, tenant_a, account, contact, kind, score):
    response = ops_api.post("/survey-responses/", {"account": account.external_id, "contact_id": contact.pk,
                                                   "kind": kind, "score": score})
    assert response.status_code == 400
    assert "score" in response.json()
    assert count(SurveyResponse, tenant_a) == 0


def test_it_rejects_a_contact_of_another_account(ops_api, tenant_a, account, contact):
    stranger = ContactFactory(tenant=tenant_a, name="Sam Stranger")
    response = ops_api.post("/survey-responses/", {"account": account.external_id, "contact_id": stranger.pk,
                                                   "kind": "nps", "score": 8})
    assert response.status_code == 400
    assert response.json() == {"contact_id": ["Sam Stranger is not a contact of Initech."]}
    by_email = ops_api.post("/survey-responses/", {"account": account.external_id, "contact_email": stranger.email,
                                                   "kind": "nps", "score": 8})
    assert by_email.status_code == 400 and "contact_email" in by_email.json()
    assert count(SurveyResponse, tenant_a) == 0


def test_it_updates_a_survey_response_sent_again_with_its_external_id(ops_api, tenant_a, account, contact):
    answer = {"external_id": "typeform-77", "account": account.external_id, "contact_id": contact.pk,
              "kind": "csat", "score": 2}
    assert ops_api.post("/survey-responses/", answer).status_code == 201
    again = ops_api.post("/survey-responses/", [{**answer, "score": 5}])
    assert again.status_code == 200 and again.json() == {"received": 1, "created": 0, "updated": 1}
    with tenant_context(tenant_a):
        assert list(SurveyResponse.objects.values_list("score", flat=True)) == [5]


# --- health scores --------------------------------------------------------------------------------------


@pytest.fixture
def scored(tenant_a, account):
    """Two days of scores; the latest: Initech yellow (sentiment 3), Globex green (sentiment 5)."""
    use_measures(tenant_a, (K.CSM_SENTIMENT, 2, 1, 5, 90), (K.NPS, 1, -20, 40, 90))
    globex = AccountFactory(tenant=tenant_a, name="Globex")
    SentimentPulseFactory(tenant=tenant_a, account=account, score=3, as_of=days_ago(1))
    SentimentPulseFactory(tenant=tenant_a, account=globex, score=5, as_of=days_ago(1))
    compute(tenant_a, days_ago(1))
    compute(tenant_a, TODAY)
    return globex


def test_it_lists_the_latest_scores_explained_measure_by_measure(csm_api, tenant_a, account, scored):
    response = csm_api.get("/health-scores/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["account_name"], r["day"], r["band"]) for r in rows] == [
        ("Globex", TODAY.isoformat(), "green"), ("Initech", TODAY.isoformat(), "yellow")]
    initech = rows[1]
    assert initech["account"] == account.pk and initech["score"] == "50.00" and initech["change_7d"] is None
    assert [(c["measure"], c["kind"], c["raw"], c["score"], c["weight"]) for c in initech["components"]] == [
        ("CSM sentiment pulse (1-5)", "csm_sentiment", 3, 50, 2),
        ("NPS (-100 to 100)", "nps", None, None, 1),  # no survey: left out, the page says so
    ]
    detail = csm_api.get(f"/health-scores/{initech['id']}/").json()
    assert detail["components"] == initech["components"] and detail["scorecard"] == initech["scorecard"]


def test_it_filters_scores_by_band_account_and_day(csm_api, tenant_a, account, scored):
    def days_and_names(params):
        return [(r["day"], r["account_name"]) for r in csm_api.get("/health-scores/", params).json()["results"]]

    assert days_and_names({"band": "green"}) == [(TODAY.isoformat(), "Globex")]
    assert days_and_names({"account": account.pk, "since": days_ago(7).isoformat()}) == [
        (TODAY.isoformat(), "Initech"), (days_ago(1).isoformat(), "Initech")]
    assert days_and_names({"day": days_ago(1).isoformat(), "band": "yellow"}) == [(days_ago(1).isoformat(), "Initech")]
    assert days_and_names({"day": days_ago(30).isoformat()}) == []


def test_it_lists_scores_in_the_same_number_of_queries_for_more_accounts(csm_api, tenant_a, scored,
                                                                         django_assert_max_num_queries):
    csm_api.get("/health-scores/")  # warm the token's last-used stamp
    with django_assert_max_num_queries(12) as few:
        assert len(csm_api.get("/health-scores/").json()["results"]) == 2
    AccountFactory.create_batch(30, tenant=tenant_a)
    compute(tenant_a, TODAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(csm_api.get("/health-scores/").json()["results"]) == 32
