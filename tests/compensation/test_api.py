"""The compensation API: plans with rules, statements with lines (a CSM sees only their own; approve once for
managers), attainment per CSM; executives get totals-level attainment, not others' statements; another
tenant's ids are not found."""

import pytest

from csplatform.tenancy.models import Role
from tests.api import Api, member, reload

from . import test_pages as pages
from .test_pages import THIS_MONTH

# The pages' fixtures, shared (the people and the plan come from conftest.py).
executive, statements = pages.executive, pages.statements


@pytest.fixture
def csm_client(client, tenant_a, csm):
    return Api(client, tenant=tenant_a, user=csm)


@pytest.fixture
def manager_client(client, tenant_a, manager):
    return Api(client, tenant=tenant_a, user=manager)


def test_it_lists_plans_with_their_rules(csm_client, plan):
    [body] = csm_client.get("/comp-plans/").json()["results"]
    rules = {r["kind"]: r for r in body["rules"]}
    assert body["id"] == plan.pk and body["base_min"] == "40000.00"
    assert rules["quota_bonus"]["threshold"] == 36 and rules["new_business"]["rate"] == "0.0250"


def test_it_shows_a_csm_only_their_own_statements_with_lines(csm_client, csm, statements):
    body = csm_client.get("/comp-statements/").json()["results"]
    assert [s["id"] for s in body] == [statements["mine"].pk]
    assert [(line["rule_kind"], line["amount"]) for line in body[0]["lines"]] == [
        ("base_salary", "4000.00"), ("new_business", "250.00")]
    assert body[0]["lines"][1]["source_id"] == statements["expansion"].pk and body[0]["total"] == "4250.00"
    assert csm_client.get(f"/comp-statements/{statements['theirs'].pk}/").status_code == 404
    assert csm_client.get("/comp-statements/999999/").status_code == 404


def test_it_shows_a_manager_the_team_and_approves_once(manager_client, manager, tenant_a, statements):
    assert len(manager_client.get("/comp-statements/", {"period_start": str(THIS_MONTH)}).json()["results"]) == 2
    url = f"/comp-statements/{statements['theirs'].pk}/approve/"
    first = manager_client.post(url, {})
    assert first.status_code == 200 and first.json()["status"] == "approved"
    assert first.json()["approved_by"] == manager.pk and first.json()["approved_by_name"]
    approved_at = reload(statements["theirs"], tenant_a).approved_at
    again = manager_client.post(url, {})
    assert again.status_code == 409
    assert reload(statements["theirs"], tenant_a).approved_at == approved_at


def test_it_refuses_approval_to_csms_ops_and_executives(client, tenant_a, csm_client, ops_api, executive_api,
                                                        statements):
    url = f"/comp-statements/{statements['mine'].pk}/approve/"
    for api in (csm_client, ops_api, executive_api):
        assert api.post(url, {}).status_code == 403
    assert reload(statements["mine"], tenant_a).status == "draft"


def test_it_gives_executives_no_ones_statement_lines(executive_api, statements):
    assert executive_api.get("/comp-statements/").json()["results"] == []
    assert executive_api.get(f"/comp-statements/{statements['mine'].pk}/").status_code == 404


def test_it_reports_attainment_per_csm(manager_client, csm_client, executive_api, csm, other_csm, statements):
    rows = {r["csm"]: r for r in manager_client.get("/comp-attainment/").json()}
    assert set(rows) == {csm.pk, other_csm.pk}
    mine = rows[csm.pk]
    assert (mine["opportunities"], mine["quota"], mine["quota_reached"]) == (1, 36, False)
    assert (mine["approved_docs"], mine["docs_toward_next"], mine["ytd_total"]) == (0, 0, "4250.00")
    assert [r["csm"] for r in csm_client.get("/comp-attainment/").json()] == [csm.pk]
    assert len(executive_api.get("/comp-attainment/").json()) == 2
    assert manager_client.get("/comp-attainment/", {"plan": "x"}).status_code == 400


def test_it_answers_404_for_another_tenants_ids(outsider_api, tenant_b, statements, plan):
    assert outsider_api.get(f"/comp-statements/{statements['mine'].pk}/").status_code == 404
    assert outsider_api.get(f"/comp-plans/{plan.pk}/").status_code == 404
    assert outsider_api.get("/comp-attainment/").json() == []
    admin = Api(outsider_api.client, tenant=tenant_b, user=member(tenant_b, Role.ADMIN, "admin@bravo.test"))
    assert admin.post(f"/comp-statements/{statements['mine'].pk}/approve/", {}).status_code == 404
