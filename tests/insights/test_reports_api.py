"""GET /api/v1/monthly-reports/: read-only, filtered, the token's tenant only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csplatform.tenancy.context import tenant_context
from insights.models import MonthlyReport
from insights.reports.services import report_deliver

from .reports_support import MONTH, account_for, draft_all

pytest_plugins = ["tests.insights.reports_fixtures"]  # its fixtures: account, contacts, report, executive

pytestmark = pytest.mark.postgres


@pytest.fixture
def delivered(tenant_a, report, contacts, csm, other_csm):
    account_for(tenant_a, other_csm, name="Globex")
    draft_all(tenant_a)
    with tenant_context(tenant_a):
        MonthlyReport.objects.filter(pk=report.pk).update(recommendation="Train the admins.")
        report_deliver(report=report, by=csm, contacts=[contacts["sponsor"]])
    return report


def test_it_lists_and_filters_the_reports(csm_api, delivered, other_csm):
    response = csm_api.get("/monthly-reports/")
    assert response.status_code == 200
    rows = response.json()["results"] if "results" in response.json() else response.json()
    assert sorted(r["account_name"] for r in rows) == ["Globex", "Initech"]
    for params, expected in [({"status": "delivered"}, ["Initech"]), ({"csm": other_csm.pk}, ["Globex"]),
                             ({"account": delivered.account_id}, ["Initech"]),
                             ({"month": f"{MONTH:%Y-%m}"}, ["Globex", "Initech"]), ({"month": "2020-01"}, [])]:
        body = csm_api.get("/monthly-reports/", params).json()
        found = body["results"] if "results" in body else body
        assert sorted(r["account_name"] for r in found) == expected, params


def test_it_retrieves_one_report_with_recipients_and_snapshot(csm_api, delivered):
    body = csm_api.get(f"/monthly-reports/{delivered.pk}/").json()
    assert body["status"] == "delivered" and body["month"] == MONTH.isoformat()
    assert body["recommendation"] == "Train the admins."
    assert [r["email"] for r in body["recipients"]] == ["sara@initech.test"]
    assert body["snapshot"]["goals"][0]["title"] == "Goal 0 of Initech"
    assert body["seat_utilisation"] == 0.0 and body["licensed_seats"] == 20


def test_it_is_read_only_and_answers_bad_filters_with_400(csm_api, delivered):
    # No write action is routed (nor allowed by the role table): a write never reaches a serializer.
    assert csm_api.post("/monthly-reports/", {}).status_code in (403, 405)
    assert csm_api.patch(f"/monthly-reports/{delivered.pk}/", {"recommendation": "x"}).status_code in (403, 405)
    with tenant_context(delivered.tenant):
        assert MonthlyReport.objects.get(pk=delivered.pk).recommendation == "Train the admins."
    bad = csm_api.get("/monthly-reports/", {"month": "March"})
    assert bad.status_code == 400 and "month" in bad.json()


def test_executives_read_and_other_tenants_get_404(executive_api, outsider_api, delivered):
    assert executive_api.get(f"/monthly-reports/{delivered.pk}/").status_code == 200
    assert outsider_api.get(f"/monthly-reports/{delivered.pk}/").status_code == 404
    body = outsider_api.get("/monthly-reports/").json()
    assert (body["results"] if "results" in body else body) == []


def test_the_list_runs_the_same_queries_whatever_the_number_of_reports(csm_api, tenant_a, csm, delivered):
    csm_api.get("/monthly-reports/")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        csm_api.get("/monthly-reports/")
    for _ in range(5):
        account_for(tenant_a, csm)
    draft_all(tenant_a)
    with CaptureQueriesContext(connection) as many:
        csm_api.get("/monthly-reports/")
    assert len(few) == len(many)
