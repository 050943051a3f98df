"""The renewals API: contracts (bulk upsert for CRM sync, all or nothing), renewals, expansions, forecast snapshots;
permissions both ways and other tenants' ids."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from renewals.models import (
    ChurnReason,
    Contract,
    ContractLine,
    ExpansionOpportunity,
    ForecastSnapshot,
    RenewalOpportunity,
)
from renewals.services import expansion_flag, renewals_open_due
from tests.api import count, reload
from tests.factories import AccountFactory

from .conftest import TODAY, contract


def item(external_id="K-1", account="ACC-1", **fields):
    data = {"external_id": external_id, "account": account, "name": "Subscription", "start_date": "2026-01-01",
            "end_date": "2026-12-31", "lines": [{"product": "Platform", "quantity": "10", "unit_price": "1200"},
                                                {"product": "Support", "arr": "3000"}]}
    return {**data, **fields}


@pytest.fixture
def crm_account(tenant_a, teammate):
    return AccountFactory(tenant=tenant_a, external_id="ACC-1", name="Initech", csm=teammate)


@pytest.fixture
def own_renewal(tenant_a, crm_account):
    signed = contract(crm_account, start=TODAY - timedelta(days=335), end=TODAY + timedelta(days=30))
    with tenant_context(tenant_a):
        renewals_open_due(day=TODAY)
        return RenewalOpportunity.objects.get(contract=signed)


@pytest.fixture
def their_renewal(tenant_a, other_csm):
    theirs = AccountFactory(tenant=tenant_a, name="Globex", csm=other_csm)
    signed = contract(theirs, start=TODAY - timedelta(days=335), end=TODAY + timedelta(days=30))
    with tenant_context(tenant_a):
        renewals_open_due(day=TODAY)
        return RenewalOpportunity.objects.get(contract=signed)


def contracts_state(tenant):
    with tenant_context(tenant):
        return sorted((c.external_id, c.account_id, str(c.arr), c.status,
                       tuple((line.product, str(line.quantity), str(line.unit_price), str(line.arr))
                             for line in c.lines.all()))
                      for c in Contract.objects.prefetch_related("lines"))


# --- contracts ------------------------------------------------------------------------------------


def test_ops_bulk_upsert_contracts_by_external_id_and_it_is_idempotent(ops_api, tenant_a, crm_account):
    response = ops_api.post("/contracts/", [item(), item("K-2", auto_renew=True)])
    assert response.status_code == 200 and response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    state = contracts_state(tenant_a)
    assert state[0] == ("K-1", crm_account.pk, "15000.00", "active",
                        (("Platform", "10.00", "1200.00", "12000.00"), ("Support", "1.00", "0.00", "3000.00")))
    response = ops_api.post("/contracts/", [item(), item("K-2", auto_renew=True)])
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 2}
    response = ops_api.post("/contracts/", [item(), item("K-2", auto_renew=False)])
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 1}
    ops_api.post("/contracts/", [item(), item("K-2", auto_renew=True)])
    assert contracts_state(tenant_a) == state  # the same rows, no second set of lines
    with tenant_context(tenant_a):
        assert ContractLine.objects.count() == 4


def test_an_upsert_replaces_the_lines_and_refreshes_arr_and_the_open_renewal(ops_api, tenant_a, crm_account):
    this_term = item(start_date=(TODAY - timedelta(days=300)).isoformat(),
                     end_date=(TODAY + timedelta(days=64)).isoformat())
    ops_api.post("/contracts/", [this_term])
    assert reload(crm_account, tenant_a).arr == Decimal("15000.00")
    with tenant_context(tenant_a):
        renewals_open_due(day=TODAY)
    response = ops_api.post("/contracts/", [{**this_term, "lines": [{"product": "Platform", "quantity": 5,
                                                                      "unit_price": "1200"}]}])
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0}
    assert reload(crm_account, tenant_a).arr == Decimal("6000.00")
    with tenant_context(tenant_a):
        renewal = RenewalOpportunity.objects.get()
        assert renewal.current_arr == Decimal("6000.00")
        assert Contract.objects.get().name == "Subscription"  # name left out of an update would keep it


def test_a_bulk_upsert_is_all_or_nothing_with_errors_by_index(ops_api, tenant_a, crm_account):
    ops_api.post("/contracts/", [item()])
    before = contracts_state(tenant_a)
    batch = [
        item("K-2"),  # valid, but the batch fails
        item("K-3", account="NOPE"),
        item("K-4", end_date="2025-01-01"),
        item("K-5", lines=[]),
        item("K-6", status="cancelled"),
        item("K-2"),
        item("K-7", lines=[{"product": "Seats", "quantity": "-1", "unit_price": "10"}, {"product": "X"}]),
        "not an object",
    ]
    response = ops_api.post("/contracts/", batch)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Nothing was written."
    errors = {e["index"]: e["fields"] for e in body["errors"]}
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7}
    assert errors[1] == {"account": ["No account with external id 'NOPE' in this workspace."]}
    assert errors[2] == {"end_date": ["The contract ends before it starts."]}
    assert "lines" in errors[3]
    assert errors[4] == {"cancelled_on": ["A cancelled contract needs the day it stops."]}
    assert "Also at index 0" in errors[5]["external_id"][0]
    assert errors[6]["lines"] == {"0": {"quantity": ["Ensure this value is greater than or equal to 0."]},
                                  "1": {"arr": ["Give the line's arr or its unit_price."]}}
    assert errors[7] == {"non_field_errors": ["Send each contract as a JSON object."]}
    assert contracts_state(tenant_a) == before


def test_a_contract_cannot_move_to_another_account(ops_api, tenant_a, crm_account):
    AccountFactory(tenant=tenant_a, external_id="ACC-2")
    ops_api.post("/contracts/", [item()])
    response = ops_api.post("/contracts/", [item(account="ACC-2")])
    assert response.status_code == 400
    assert "cannot move" in response.json()["errors"][0]["fields"]["account"][0]


def test_bulk_upsert_limits_and_shape(ops_api, crm_account):
    assert ops_api.post("/contracts/", item()).json() == {"detail": "Send a JSON list of contracts."}
    assert ops_api.post("/contracts/", []).status_code == 400
    response = ops_api.post("/contracts/", [item(f"K-{i}") for i in range(1001)])
    assert response.status_code == 400 and "At most 1000" in response.json()["detail"]


def test_only_ops_upsert_contracts_and_everyone_reads_them(csm_api, executive_api, ops_api, tenant_a, crm_account):
    for api in (csm_api, executive_api):
        assert api.post("/contracts/", [item()]).status_code == 403
    assert count(Contract, tenant_a) == 0
    ops_api.post("/contracts/", [item()])
    listed = executive_api.get("/contracts/").json()["results"]
    assert [c["external_id"] for c in listed] == ["K-1"]
    assert listed[0]["account_external_id"] == "ACC-1" and listed[0]["arr"] == "15000.00"
    assert [line["product"] for line in listed[0]["lines"]] == ["Platform", "Support"]
    one = csm_api.get(f"/contracts/{listed[0]['id']}/").json()
    assert one["external_id"] == "K-1"
    assert csm_api.get("/contracts/", {"account": crm_account.pk}).json()["count"] == 1
    assert csm_api.get("/contracts/", {"ends_before": "2026-06-30"}).json()["count"] == 0


def test_another_tenants_contracts_are_not_found_and_not_touched(ops_api, outsider_api, tenant_a, tenant_b,
                                                                  crm_account):
    ops_api.post("/contracts/", [item()])
    with tenant_context(tenant_a):
        signed = Contract.objects.get()
    assert outsider_api.get(f"/contracts/{signed.pk}/").status_code == 404
    assert outsider_api.get("/contracts/").json()["count"] == 0
    response = outsider_api.post("/contracts/", [item()])  # the same ids, from tenant B
    assert response.status_code == 400 and "No account with external id 'ACC-1'" in str(response.json())
    AccountFactory(tenant=tenant_b, external_id="ACC-1")
    assert outsider_api.post("/contracts/", [item(lines=[{"product": "B", "arr": "1"}])]).json() == {
        "created": 1, "updated": 0, "unchanged": 0}
    assert contracts_state(tenant_a)[0][2] == "15000.00"


def test_the_bulk_upsert_query_count_is_per_contract_not_per_lookup(ops_api, tenant_a, crm_account):
    def queries(n):
        batch = [item(f"Q-{n}-{i}") for i in range(n)]
        with CaptureQueriesContext(connection) as captured:
            assert ops_api.post("/contracts/", batch).status_code == 200
        return len(captured)

    small, large = queries(5), queries(25)
    # contract_save's own cost (validation, lines, the renewal, the account's ARR): accounts and existing
    # contracts are loaded once per request, whatever the batch.
    assert (large - small) / 20 <= 25


# --- renewals -------------------------------------------------------------------------------------


def test_a_csm_edits_their_own_renewal_and_not_another_csms(csm_api, tenant_a, own_renewal, their_renewal):
    response = csm_api.patch(f"/renewals/{own_renewal.pk}/", {"stage": "verbal", "category": "commit",
                                                               "expected_arr": "12500"})
    assert response.status_code == 200
    assert (response.json()["stage"], response.json()["category"], response.json()["expected_arr"]) == (
        "verbal", "commit", "12500.00")
    response = csm_api.patch(f"/renewals/{their_renewal.pk}/", {"category": "commit"})
    assert response.status_code == 403
    assert reload(their_renewal, tenant_a).category == "pipeline"
    assert csm_api.get(f"/renewals/{their_renewal.pk}/").status_code == 200  # everyone reads


def test_bad_renewal_edits_answer_400_and_write_nothing(csm_api, tenant_a, own_renewal):
    for data, field in (({"expected_arr": "-1", "category": "commit"}, "expected_arr"),
                        ({"stage": "closed"}, "stage"), ({"category": "maybe"}, "category"),
                        ({"close_date": "soon"}, "close_date")):
        response = csm_api.patch(f"/renewals/{own_renewal.pk}/", data)
        assert response.status_code == 400 and field in response.json(), data
    fresh = reload(own_renewal, tenant_a)
    assert (fresh.stage, fresh.category, fresh.expected_arr) == ("not_started", "pipeline", Decimal("12000.00"))
    assert csm_api.put(f"/renewals/{own_renewal.pk}/", {"stage": "engaged"}).status_code == 405


def test_closing_a_renewal_through_the_api(csm_api, tenant_a, own_renewal):
    with tenant_context(tenant_a):
        churn = ChurnReason.objects.get(name="Switched to a competitor")
    url = f"/renewals/{own_renewal.pk}/close/"
    response = csm_api.post(url, {"outcome": "churned"})
    assert response.status_code == 400 and response.json() == {"reason": ["Pick the churn reason."]}
    assert reload(own_renewal, tenant_a).is_open
    response = csm_api.post(url, {"outcome": "churned", "reason": churn.pk, "reason_comment": "Went to Acme"})
    assert response.status_code == 200
    body = response.json()
    assert (body["stage"], body["outcome"], body["renewed_arr"], body["reason"]) == (
        "closed", "churned", "0.00", churn.pk)
    assert csm_api.post(url, {"outcome": "renewed_flat"}).status_code == 400  # closed already
    assert count(Contract, tenant_a) == 1  # a churn starts no next term


def test_who_may_close_and_list_renewals(csm_api, executive_api, ops_api, tenant_a, own_renewal, their_renewal):
    assert csm_api.post(f"/renewals/{their_renewal.pk}/close/", {"outcome": "renewed_flat"}).status_code == 403
    assert executive_api.post(f"/renewals/{own_renewal.pk}/close/", {"outcome": "renewed_flat"}).status_code == 403
    assert executive_api.patch(f"/renewals/{own_renewal.pk}/", {"category": "commit"}).status_code == 403
    assert reload(own_renewal, tenant_a).is_open and reload(their_renewal, tenant_a).is_open
    assert executive_api.get("/renewals/").json()["count"] == 2
    assert ops_api.post(f"/renewals/{their_renewal.pk}/close/", {"outcome": "renewed_flat"}).status_code == 200
    assert csm_api.get("/renewals/", {"open": "true"}).json()["count"] == 1
    assert csm_api.get("/renewals/", {"outcome": "renewed_flat"}).json()["count"] == 1


def test_another_tenants_renewals_are_not_found(outsider_api, tenant_a, own_renewal):
    assert outsider_api.get(f"/renewals/{own_renewal.pk}/").status_code == 404
    assert outsider_api.patch(f"/renewals/{own_renewal.pk}/", {"category": "commit"}).status_code == 404
    assert outsider_api.post(f"/renewals/{own_renewal.pk}/close/", {"outcome": "renewed_flat"}).status_code == 404
    assert outsider_api.get("/renewals/").json()["count"] == 0
    assert reload(own_renewal, tenant_a).is_open


# --- expansions -----------------------------------------------------------------------------------


def test_a_csm_flags_and_wins_an_expansion_on_their_account(csm_api, tenant_a, teammate, crm_account):
    contract(crm_account, start=TODAY - timedelta(days=10), end=TODAY + timedelta(days=355), arr="10000")
    response = csm_api.post("/expansions/", {"account": crm_account.pk, "kind": "upsell", "product": "Seats",
                                             "amount": "2500",
                                             "expected_close": (TODAY + timedelta(days=30)).isoformat()})
    assert response.status_code == 201
    body = response.json()
    assert (body["stage"], body["lead_source"], body["owner"]) == ("identified", teammate.pk, teammate.pk)
    response = csm_api.patch(f"/expansions/{body['id']}/", {"stage": "won"})
    assert response.status_code == 200 and response.json()["closed_on"] == TODAY.isoformat()
    assert reload(crm_account, tenant_a).arr == Decimal("12500.00")
    response = csm_api.patch(f"/expansions/{body['id']}/", {"stage": "lost"})
    assert response.status_code == 400 and response.json() == {"stage": ["This expansion is closed."]}
    assert csm_api.get("/expansions/", {"open": "false"}).json()["count"] == 1


def test_bad_expansions_answer_400_and_write_nothing(csm_api, tenant_a, crm_account):
    response = csm_api.post("/expansions/", {"account": crm_account.pk, "product": "", "amount": "-1",
                                             "kind": "gift"})
    assert response.status_code == 400
    assert set(response.json()) == {"product", "amount", "kind", "expected_close"}
    assert count(ExpansionOpportunity, tenant_a) == 0


def test_who_may_flag_and_move_expansions(csm_api, executive_api, tenant_a, other_csm):
    theirs = AccountFactory(tenant=tenant_a, csm=other_csm)
    data = {"account": theirs.pk, "product": "Seats", "amount": "1", "expected_close": TODAY.isoformat()}
    assert csm_api.post("/expansions/", data).status_code == 403
    assert executive_api.post("/expansions/", data).status_code == 403
    with tenant_context(tenant_a):
        found = expansion_flag(account=theirs, by=other_csm, product="Seats", amount=Decimal("1"),
                               expected_close=TODAY)
    assert csm_api.patch(f"/expansions/{found.pk}/", {"stage": "won"}).status_code == 403
    assert reload(found, tenant_a).stage == "identified"
    assert executive_api.get("/expansions/").json()["count"] == 1


def test_another_tenants_expansions_and_accounts_are_not_found(outsider_api, tenant_a, crm_account, teammate):
    with tenant_context(tenant_a):
        found = expansion_flag(account=crm_account, by=teammate, product="Seats", amount=Decimal("1"),
                               expected_close=TODAY)
    assert outsider_api.get(f"/expansions/{found.pk}/").status_code == 404
    assert outsider_api.patch(f"/expansions/{found.pk}/", {"stage": "won"}).status_code == 404
    response = outsider_api.post("/expansions/", {"account": crm_account.pk, "product": "X", "amount": "1",
                                                  "expected_close": TODAY.isoformat()})
    assert response.status_code == 400 and "account" in response.json()
    assert reload(found, tenant_a).stage == "identified"


# --- forecast snapshots ---------------------------------------------------------------------------


@pytest.fixture
def snapshots(tenant_a, teammate):
    with tenant_context(tenant_a):
        for day in (TODAY - timedelta(days=1), TODAY):
            for kind, start in (("month", date(2026, 1, 1)), ("quarter", date(2026, 1, 1))):
                ForecastSnapshot.objects.create(day=day, period_kind=kind, period_start=start, csm=teammate,
                                                renewals=2, arr_up=Decimal("20000"), committed=Decimal("5000"))


def test_leads_and_executives_read_the_latest_forecast_snapshots(executive_api, ops_api, snapshots):
    rows = executive_api.get("/forecast-snapshots/").json()["results"]
    assert {r["day"] for r in rows} == {TODAY.isoformat()} and len(rows) == 2
    assert rows[0]["arr_up"] == "20000.00" and rows[0]["committed"] == "5000.00"
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    rows = ops_api.get("/forecast-snapshots/", {"day": yesterday, "period_kind": "quarter"}).json()["results"]
    assert [(r["day"], r["period_kind"]) for r in rows] == [(yesterday, "quarter")]
    assert ops_api.get("/forecast-snapshots/", {"period_start": "2026-04-01"}).json()["count"] == 0


def test_csms_and_other_tenants_do_not_read_forecast_snapshots(csm_api, outsider_api, snapshots):
    assert csm_api.get("/forecast-snapshots/").status_code == 403
    assert outsider_api.get("/forecast-snapshots/").json()["count"] == 0


def test_accounts_arr_comes_from_the_upserted_contracts(ops_api, tenant_a, crm_account):
    ops_api.post("/contracts/", [item(start_date=(TODAY - timedelta(days=5)).isoformat(),
                                      end_date=(TODAY + timedelta(days=360)).isoformat())])
    with tenant_context(tenant_a):
        assert Account.objects.get(pk=crm_account.pk).arr == Decimal("15000.00")
