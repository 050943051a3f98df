"""The coverage API: GET /api/v1/coverage/ and POST /api/v1/account-reassignments/."""

import pytest

from csplatform.tenancy.models import Role
from insights.models import AccountAssignment
from tests.api import Api, count, member

from .coverage_helpers import accounts, fresh, rule, task, trail


@pytest.fixture
def books(tenant_a, csm, other_csm):
    rule(tenant_a, "Enterprise", 10)
    return {"chris": accounts(tenant_a, 5, csm=csm, segment_name="Enterprise", arr="10000", prefix="Chris"),
            "olive": accounts(tenant_a, 2, csm=other_csm, segment_name="SMB", prefix="Olive"),
            "nobody": accounts(tenant_a, 1, segment_name="SMB", arr="300", prefix="Nobody")}


@pytest.fixture
def manager_api(client, tenant_a, manager):
    return Api(client, tenant=tenant_a, user=manager)


def test_it_gives_ops_the_coverage_per_csm(ops_api, books, csm):
    response = ops_api.get("/coverage/")
    assert response.status_code == 200
    body = response.json()
    chris = next(row for row in body["csms"] if row["user"] == csm.pk)
    assert (chris["accounts"], chris["arr"], chris["load_percent"], chris["over_capacity"]) == (
        5, "50000.00", "50.0", False)
    assert body["unassigned"] == {**body["unassigned"], "accounts": 1, "arr": "300.00"}
    assert body["rules"][0]["label"] == "1 CSM : 10 Enterprise accounts" and body["currency"] == "USD"
    assert body["totals"]["accounts"] == 7


def test_it_gives_a_manager_their_team_and_keeps_csms_out(manager_api, csm_api, tenant_a, books, csm, other_csm):
    member(tenant_a, Role.CSM, "elsewhere@alpha.test")  # not on the manager's team
    rows = manager_api.get("/coverage/").json()["csms"]
    assert {row["user"] for row in rows} == {csm.pk, other_csm.pk}
    assert csm_api.get("/coverage/").status_code == 403


def test_it_never_shows_another_tenants_coverage(outsider_api, books, csm):
    body = outsider_api.get("/coverage/").json()
    assert csm.pk not in {row["user"] for row in body["csms"]} and body["unassigned"]["accounts"] == 0


def test_it_reassigns_through_the_api(ops_api, tenant_a, books, csm, other_csm, owner):
    x = books["chris"][0]
    task(tenant_a, x, owner=csm)
    response = ops_api.post("/account-reassignments/", {"account_ids": [x.pk, books["nobody"][0].pk],
                                                         "to_user": other_csm.pk, "note": "Rebalance"})
    assert response.status_code == 201, response.json()
    assert response.json() == {"accounts": 2, "tasks": 1, "renewals": 0, "expansions": 0, "draft_reports": 0,
                               "unchanged": 0, "to_user": other_csm.pk}
    assert fresh(tenant_a, x).csm_id == other_csm.pk
    assert [(t["from_user_id"], t["by_id"]) for t in trail(tenant_a)] == [(csm.pk, owner.pk), (None, owner.pk)]


@pytest.mark.parametrize("body, field, message", [
    ({"account_ids": [], "to_user": "{olive}"}, "account_ids", "This list may not be empty."),
    ({"account_ids": ["{x}", 999999], "to_user": "{olive}"}, "account_ids", "No such account: 999999."),
    ({"account_ids": ["{x}"]}, "to_user", "This field is required."),
    ({"account_ids": ["{x}"], "to_user": "{ops}"}, "to_user", "No CSM or manager with id"),
    ({"account_ids": ["{x}"], "to_user": "{olive}", "note": "n" * 301}, "note", "no more than 300"),
])
def test_it_answers_bad_requests_with_field_errors_and_writes_nothing(
        ops_api, tenant_a, books, csm, other_csm, owner, body, field, message):
    values = {"{x}": books["chris"][0].pk, "{olive}": other_csm.pk, "{ops}": owner.pk}
    body = {k: ([values.get(i, i) for i in v] if isinstance(v, list) else values.get(v, v)) for k, v in body.items()}
    response = ops_api.post("/account-reassignments/", body)
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert fresh(tenant_a, books["chris"][0]).csm_id == csm.pk and count(AccountAssignment, tenant_a) == 0


def test_it_refuses_an_outsider_tenant_as_unknown_accounts_and_a_foreign_target(
        outsider_api, ops_api, tenant_a, tenant_b, books, csm, other_csm, outsider):
    b_csm = member(tenant_b, Role.CSM, "csm@bravo.test")
    answer = outsider_api.post("/account-reassignments/", {"account_ids": [books["chris"][0].pk],
                                                           "to_user": b_csm.pk})
    assert answer.status_code == 400
    assert answer.json()["account_ids"] == [f"No such account: {books['chris'][0].pk}."]
    foreign_target = ops_api.post("/account-reassignments/", {"account_ids": [books["chris"][0].pk],
                                                              "to_user": b_csm.pk})
    assert foreign_target.status_code == 400 and "to_user" in foreign_target.json()
    assert fresh(tenant_a, books["chris"][0]).csm_id == csm.pk
    assert count(AccountAssignment, tenant_a) == count(AccountAssignment, tenant_b) == 0


def test_it_keeps_a_manager_to_their_team_and_forbids_csms_and_executives(
        manager_api, csm_api, executive_api, tenant_a, books, csm, other_csm, teammate):
    (outside,) = accounts(tenant_a, 1, csm=teammate, prefix="Teammate")
    refused = manager_api.post("/account-reassignments/", {"account_ids": [outside.pk], "to_user": other_csm.pk})
    assert refused.status_code == 403 and "outside your team" in refused.json()["detail"]
    not_team = manager_api.post("/account-reassignments/", {"account_ids": [books["chris"][0].pk],
                                                            "to_user": teammate.pk})
    assert not_team.status_code == 403 and "is not on your team" in not_team.json()["detail"]
    for api in (csm_api, executive_api):
        assert api.post("/account-reassignments/", {"account_ids": [books["chris"][0].pk],
                                                    "to_user": other_csm.pk}).status_code == 403
    assert count(AccountAssignment, tenant_a) == 0
    ok = manager_api.post("/account-reassignments/", {"account_ids": [books["chris"][0].pk],
                                                      "to_user": other_csm.pk})
    assert ok.status_code == 201 and count(AccountAssignment, tenant_a) == 1
