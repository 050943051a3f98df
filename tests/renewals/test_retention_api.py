"""GET /api/v1/retention/ and /api/v1/churn-analysis/: the worked examples over HTTP, who may read them,
bad parameters, and tenant isolation."""

from datetime import date

import pytest
from django.utils import timezone

from csplatform.tenancy.models import Role
from renewals.periods import fiscal_quarter
from tests.api import Api, member
from tests.factories import AccountFactory, SegmentFactory

from .conftest import contract
from .test_retention import build_example_1, build_example_3

Q1 = {"start": "2026-01-01", "end": "2026-03-31"}


@pytest.fixture
def manager_api(client, tenant_a, manager):
    return Api(client, tenant=tenant_a, user=manager)


def money(row) -> tuple:
    return (row["accounts"], row["starting_arr"], row["churn"], row["contraction"], row["expansion"],
            row["ending_arr"], row["new_arr"], row["grr"], row["nrr"])


# --- who may read ----------------------------------------------------------------------------------------


def test_it_lets_leads_and_executives_read_retention_but_not_csms(csm_api, executive_api, manager_api, ops_api):
    for path in ("/retention/", "/churn-analysis/"):
        assert csm_api.get(path, Q1).status_code == 403
        assert executive_api.get(path, Q1).status_code == 200
        assert manager_api.get(path, Q1).status_code == 200
        assert ops_api.get(path, Q1).status_code == 200


def test_it_answers_401_without_a_token(client):
    assert client.get("/api/v1/retention/").status_code == 401
    assert client.get("/api/v1/churn-analysis/").status_code == 401


# --- the worked examples ---------------------------------------------------------------------------------


def test_it_serves_example_1_for_the_tenant(executive_api, tenant_a, csm, other_csm):
    build_example_1(tenant_a, csm, other_csm)
    response = executive_api.get("/retention/", Q1)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["start"], body["end"], body["opening_day"], body["group_by"], body["currency"]) == (
        "2026-01-01", "2026-03-31", "2025-12-31", None, "USD")
    assert money(body["total"]) == (5, "240000.00", "20000.00", "10000.00", "10000.00", "220000.00", "25000.00",
                                    "87.5", "91.7")
    assert [row["key"] for row in body["rows"]] == ["total"] and body["rows"][0] == body["total"]


def test_it_serves_example_1_by_segment_csm_and_cohort(ops_api, tenant_a, csm, other_csm):
    other_csm.full_name = "Olga Ortiz"
    other_csm.save()
    segments = build_example_1(tenant_a, csm, other_csm)
    by_segment = ops_api.get("/retention/", {**Q1, "group_by": "segment"}).json()
    assert [(row["key"], row["label"], row["grr"], row["nrr"]) for row in by_segment["rows"]] == [
        (str(segments["enterprise"].pk), "Enterprise", "100.0", "105.6"),
        (str(segments["mid_market"].pk), "Mid-Market", "50.0", "50.0")]
    assert money(by_segment["total"])[1:] == ("240000.00", "20000.00", "10000.00", "10000.00", "220000.00",
                                              "25000.00", "87.5", "91.7")
    by_csm = ops_api.get("/retention/", {**Q1, "group_by": "csm"}).json()
    assert [(row["key"], row["starting_arr"], row["grr"], row["nrr"]) for row in by_csm["rows"]] == [
        (str(csm.pk), "140000.00", "92.9", "92.9"), (str(other_csm.pk), "100000.00", "80.0", "90.0")]
    assert [row["label"] for row in by_csm["rows"]] == ["Chris Carter", "Olga Ortiz"]  # by name
    by_cohort = ops_api.get("/retention/", {**Q1, "group_by": "cohort"}).json()
    assert [(row["key"], row["label"], row["grr"]) for row in by_cohort["rows"]] == [
        ("2024-Q2", "FY2024 Q2", "100.0"), ("2025-Q1", "FY2025 Q1", "81.3"), ("2025-Q3", "FY2025 Q3", "100.0"),
        ("2026-Q1", "FY2026 Q1", None)]
    only_chris = ops_api.get("/retention/", {**Q1, "csm": csm.pk, "segment": segments["mid_market"].pk}).json()
    assert money(only_chris["total"])[:4] == (1, "40000.00", "0.00", "10000.00")


def test_it_serves_example_3_the_churn_analysis(executive_api, tenant_a, csm, other_csm):
    other_csm.full_name = "Olga Ortiz"
    other_csm.save()
    build_example_3(tenant_a, csm, other_csm)
    response = executive_api.get("/churn-analysis/", Q1)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["churned_renewals"], body["churned_arr"], body["downsell_renewals"], body["downsold_arr"],
            body["lost_arr"], body["currency"], body["warning_days"]) == (
        3, "40000.00", 1, "10000.00", "50000.00", "USD", 90)
    assert [(row["label"], row["lost_arr"]) for row in body["by_reason"]] == [
        ("Budget cuts", "24000.00"), ("Switched to a competitor", "16000.00"), ("Fewer seats needed", "10000.00")]
    assert [(row["label"], row["lost_arr"]) for row in body["by_segment"]] == [
        ("Mid-Market", "30000.00"), ("Enterprise", "16000.00"), ("No segment", "4000.00")]
    assert [(row["key"], row["lost_arr"]) for row in body["by_csm"]] == [
        (str(csm.pk), "26000.00"), (str(other_csm.pk), "20000.00"), (None, "4000.00")]
    assert [(row["key"], row["churned_arr"], row["downsold_arr"]) for row in body["by_month"]] == [
        ("2026-01", "20000.00", "0.00"), ("2026-02", "0.00", "10000.00"), ("2026-03", "20000.00", "0.00")]
    assert [(b["band"], b["renewals"], b["share"]) for b in body["bands"]] == [
        ("red", 1, "50.0"), ("yellow", 0, "0.0"), ("green", 1, "40.0"), ("none", 1, "10.0")]
    assert body["warned_share"] == "50.0"


# --- parameters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"start": "2026-13-01", "end": "2026-03-31"}, "start", "Date has wrong format"),
    ({"start": "2026-01-01", "end": "yesterday"}, "end", "Date has wrong format"),
    ({"start": "2026-03-31", "end": "2026-01-01"}, "end", "The period ends before it starts."),
    ({"start": "2021-01-01", "end": "2026-01-01"}, "end", "A period is at most 5 years."),
    ({**Q1, "group_by": "region"}, "group_by", "is not a valid choice"),
    ({**Q1, "csm": "abc"}, "csm", "A valid integer is required"),
    ({**Q1, "segment": "987654"}, "segment", "No segment with id 987654"),
])
def test_it_explains_bad_parameters_field_by_field(ops_api, params, field, message):
    response = ops_api.get("/retention/", params)
    assert response.status_code == 400
    assert message in str(response.json()[field])


def test_it_checks_the_period_of_the_churn_analysis_too(ops_api):
    response = ops_api.get("/churn-analysis/", {"start": "2026-03-31", "end": "2026-01-01"})
    assert response.status_code == 400 and response.json() == {"end": ["The period ends before it starts."]}


def test_it_accepts_five_years_to_the_day(ops_api):
    assert ops_api.get("/retention/", {"start": "2021-01-01", "end": "2025-12-31"}).status_code == 200


def test_it_defaults_to_the_fiscal_quarter_to_date(ops_api, tenant_a):
    tenant_a.fiscal_year_start_month = 4
    tenant_a.save()
    today = timezone.localdate()
    body = ops_api.get("/retention/").json()
    assert (body["start"], body["end"]) == (fiscal_quarter(tenant_a, today).start.isoformat(), today.isoformat())
    body = ops_api.get("/churn-analysis/", {"end": "2026-02-10"}).json()
    assert (body["start"], body["end"]) == ("2026-01-01", "2026-02-10")
    body = ops_api.get("/retention/", {"start": "2099-05-01"}).json()
    assert (body["start"], body["end"]) == ("2099-05-01", "2099-06-30")


# --- tenancy ---------------------------------------------------------------------------------------------


def test_it_never_counts_or_names_another_tenants_data(outsider_api, ops_api, tenant_a, tenant_b, csm, other_csm):
    build_example_1(tenant_a, csm, other_csm)
    build_example_3(tenant_a, csm, other_csm)
    before = ops_api.get("/retention/", Q1).json()["total"]
    theirs = AccountFactory(tenant=tenant_b, name="Bravo Customer")
    contract(theirs, start=date(2025, 6, 1), end=date(2026, 5, 31), arr="7000")

    body = outsider_api.get("/retention/", Q1).json()
    assert money(body["total"]) == (1, "7000.00", "0.00", "0.00", "0.00", "7000.00", "0.00", "100.0", "100.0")
    churn = outsider_api.get("/churn-analysis/", Q1).json()
    assert churn["lost_arr"] == "0.00" and churn["by_reason"] == [] and churn["by_csm"] == []
    # Tenant A's segment and CSM ids mean nothing in tenant B.
    segment = SegmentFactory(tenant=tenant_a, name="Alpha only")
    assert outsider_api.get("/retention/", {**Q1, "segment": segment.pk}).status_code == 400
    assert outsider_api.get("/retention/", {**Q1, "csm": csm.pk}).status_code == 400
    # And tenant B's contract never shows in tenant A's figures.
    assert ops_api.get("/retention/", Q1).json()["total"] == before


def test_it_refuses_a_csm_filter_naming_someone_outside_the_workspace(ops_api, tenant_b):
    stranger = member(tenant_b, Role.CSM, "stranger@bravo.test")
    response = ops_api.get("/retention/", {**Q1, "csm": stranger.pk})
    assert response.status_code == 400 and "No member with user id" in response.json()["csm"][0]
