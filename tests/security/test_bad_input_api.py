"""Bad input to the API: a body that is not JSON, not JSON at all, too large, of the wrong types, with NUL
characters; filters of the wrong type; a path no route matches. Each answers a 4xx that says why, as JSON, and
writes nothing. (tests/security/test_fuzz_api.py throws generated input at every operation; these are the
cases worth naming.)"""

import json

import pytest

from accounts.models import Account, Contact
from health.models import SupportTicket, SurveyResponse, UsageDaily
from renewals.models import Contract
from tests.api import API, count
from tests.factories import AccountFactory

# (path, a valid body's shape, the model a write would add rows to)
WRITES = [
    ("/accounts/", {"name": "Acme"}, Account),
    ("/accounts/bulk-upsert/", [{"external_id": "A-1", "name": "Acme"}], Account),
    ("/contacts/", {"name": "Ann"}, Contact),
    ("/contracts/", [{"external_id": "C-1"}], Contract),
    ("/support-tickets/", [{"external_id": "T-1"}], SupportTicket),
    ("/survey-responses/", [{"external_id": "S-1"}], SurveyResponse),
    ("/usage-events/", {"batch_id": "b-1", "events": []}, UsageDaily),
]


@pytest.fixture
def account(tenant_a):
    return AccountFactory(tenant=tenant_a, external_id="ACC-1", name="Acme")


def raw_post(api, path, body, content_type="application/json"):
    return api.client.post(f"{API}{path}", body, content_type=content_type, **api.auth)


@pytest.mark.parametrize(("path", "shape", "model"), WRITES)
def test_it_answers_400_with_the_reason_to_a_body_that_is_not_json(ops_api, tenant_a, account, path, shape, model):
    before = count(model, tenant_a)
    response = raw_post(ops_api, path, '{"name": "Acme",')
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "JSON" in response.json()["detail"]
    assert count(model, tenant_a) == before


@pytest.mark.parametrize(("path", "shape", "model"), WRITES)
def test_it_refuses_a_form_or_multipart_body(ops_api, tenant_a, account, path, shape, model):
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/csv"):
        response = raw_post(ops_api, path, "name=Acme", content_type=content_type)
        if path == "/usage-events/":  # reads the body as JSON whatever its declared type (curl -d sends a form)
            assert response.status_code == 400 and "not JSON" in response.json()["detail"]
        else:
            assert response.status_code == 415, (content_type, response.content)
            assert "Unsupported media type" in response.json()["detail"]
    assert count(Account, tenant_a) == 1 and count(model, tenant_a) == (1 if model is Account else 0)


@pytest.mark.parametrize(("path", "shape", "model"), [w for w in WRITES if w[0] != "/usage-events/"])
def test_it_answers_413_to_a_body_over_the_upload_limit(
        ops_api, tenant_a, account, settings, path, shape, model):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = count(model, tenant_a)
    body = json.dumps([{**item, "name": "x" * 2000} for item in shape] if isinstance(shape, list)
                      else {**shape, "name": "x" * 2000})
    response = raw_post(ops_api, path, body)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request body is over 1,000 bytes, the limit.")
    assert count(model, tenant_a) == before
    assert raw_post(ops_api, path, json.dumps(shape)).status_code != 413  # a small body is read as usual


def test_it_names_every_field_of_the_wrong_type(ops_api, tenant_a):
    response = ops_api.post("/accounts/", {"name": ["Acme"], "licensed_seats": "many", "status": 7,
                                           "churn_date": "yesterday", "segment": "Enterprise"})
    assert response.status_code == 400
    assert set(response.json()) == {"name", "licensed_seats", "status", "churn_date", "segment"}
    assert count(Account, tenant_a) == 0


@pytest.mark.parametrize(("path", "item"), [
    ("/accounts/bulk-upsert/", {"external_id": "A\x00", "name": "Acme"}),
    ("/contracts/", {"external_id": "C\x00", "account": "ACC\x00"}),
    ("/support-tickets/", {"external_id": "T\x00", "account": "ACC\x00"}),
    ("/survey-responses/", {"external_id": "S\x00", "account": "ACC-1", "contact_email": "a\x00@x.test"}),
])
def test_it_answers_400_not_500_to_nul_characters_in_the_keys_of_a_batch(ops_api, tenant_a, account, path, item):
    response = ops_api.post(path, [item])
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Nothing was written." and body["errors"][0]["index"] == 0
    assert "Null characters are not allowed." in json.dumps(body["errors"][0]["fields"])
    assert count(Account, tenant_a) == 1


def test_it_echoes_an_item_key_only_when_it_is_text(ops_api, tenant_a):
    response = ops_api.post("/accounts/bulk-upsert/", [{"external_id": {"$ne": ""}, "name": "Acme"}])
    assert response.status_code == 400 and response.json()["errors"][0]["external_id"] is None


@pytest.mark.parametrize(("path", "params", "field", "reason"), [
    ("/support-tickets/", {"open": "maybe"}, "open", "Use true or false."),
    ("/renewals/", {"open": "null"}, "open", "Use true or false."),
    ("/playbooks/", {"is_active": "yes please"}, "is_active", "Use true or false."),
    ("/comp-plans/", {"year": "2026.5"}, "year", "Enter a whole number."),
    ("/activities/", {"logged_by": "1.5"}, "logged_by", "Enter a whole number."),
    ("/accounts/", {"segment": "0"}, "segment", "Select a valid choice."),
])
def test_it_answers_400_to_a_filter_it_cannot_read(ops_api, path, params, field, reason):
    response = ops_api.get(path, params)
    assert response.status_code == 400
    assert reason in response.json()[field][0]


@pytest.mark.parametrize(("params", "expected"), [({"open": "true"}, {"T-open"}), ({"open": "0"}, {"T-closed"}),
                                                  ({"open": ""}, {"T-open", "T-closed"})])
def test_it_still_reads_true_false_and_an_empty_filter(ops_api, account, params, expected):
    for key, closed in (("T-open", None), ("T-closed", "2026-01-02T00:00:00Z")):
        ticket = {"external_id": key, "account": "ACC-1", "subject": "Login", "opened_at": "2026-01-01T00:00:00Z"}
        assert ops_api.post("/support-tickets/", {**ticket, "closed_at": closed}).status_code == 201
    response = ops_api.get("/support-tickets/", params)
    assert {t["external_id"] for t in response.json()["results"]} == expected


@pytest.mark.parametrize("path", ["/accounts/1.5/", "/accounts/-1/close/", "/no-such-thing/"])
def test_it_answers_json_404_to_a_path_no_route_matches(ops_api, path):
    response = ops_api.get(path)
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_it_keeps_html_404_pages_outside_the_api(client, owner):
    client.force_login(owner)
    response = client.get("/t/alpha/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_it_declares_the_error_answers_in_the_schema(client, db):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    create = paths["/api/v1/accounts/"]["post"]
    assert set(create["responses"]) >= {"201", "400", "401", "403", "413", "415"}
    assert list(create["requestBody"]["content"]) == ["application/json"]
    assert set(paths["/api/v1/accounts/{id}/"]["get"]["responses"]) >= {"200", "401", "403", "404"}
    ticket_filters = {p["name"]: p for p in paths["/api/v1/support-tickets/"]["get"]["parameters"]}
    assert ticket_filters["open"]["schema"]["type"] == "boolean" and ticket_filters["open"]["allowEmptyValue"]
    activity_filters = {p["name"]: p for p in paths["/api/v1/activities/"]["get"]["parameters"]}
    assert activity_filters["logged_by"]["schema"]["type"] == "integer"


def test_it_answers_400_not_500_to_a_nul_character_in_a_usage_batch_id(ops_api, tenant_a, account):
    events = [{"account": "ACC-1", "occurred_at": "2026-01-01T10:00:00Z", "event": "login"}]
    response = ops_api.post("/usage-events/", {"batch_id": "b\x00", "events": events})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "batch_id"
    assert count(UsageDaily, tenant_a) == 0


@pytest.mark.parametrize(("since", "status"), [("2026-01-01T10:00:00+17:47", 200), ("2026-01-01T10:00:00Z", 200),
                                               ("0001-01-01T00:00:00+15:00", 400), ("yesterday", 400)])
def test_it_reads_a_time_filter_with_any_offset_python_reads(ops_api, since, status):
    # PostgreSQL refuses a UTC offset beyond 15:59 (it was a 500); the filter compares the same moment in UTC.
    response = ops_api.get("/survey-responses/", {"since": since})
    assert response.status_code == status, response.content
    assert ops_api.get("/activities/", {"occurred_after": since}).status_code == status
