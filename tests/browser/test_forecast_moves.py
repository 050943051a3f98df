from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from csplatform.jobs.services import job_run
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals.models import RenewalOpportunity
from renewals.periods import fiscal_quarter
from renewals.services import contract_save, renewal_update, renewals_open_due
from tests.factories import AccountFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory


def test_a_manager_moves_a_renewal_to_at_risk_and_the_forecast_shows_it_after_the_job(
        live_server, transactional_db, page, screenshot):
    today = timezone.localdate()
    tenant = TenantFactory(slug="forecastco", name="Forecast Co")
    manager = MembershipFactory(tenant=tenant, role=Role.MANAGER, user__email="manager@forecastco.test",
                                user__full_name="Mary Manager").user
    csm = MembershipFactory(tenant=tenant, role=Role.CSM, manager=manager, user__email="csm@forecastco.test",
                            user__full_name="Chris Carter").user
    account = AccountFactory(tenant=tenant, csm=csm, name="Initech")
    steady = AccountFactory(tenant=tenant, csm=csm, name="Hooli")
    quarter = fiscal_quarter(tenant, today)
    with tenant_context(tenant):
        for customer, arr in ((account, "24000"), (steady, "10000")):
            contract_save(account=customer, start_date=quarter.end - timedelta(days=364), end_date=quarter.end,
                          lines=[{"product": "Platform", "quantity": 1, "unit_price": Decimal(arr)}])
        renewals_open_due(day=today)
        for renewal in RenewalOpportunity.objects.all():
            renewal_update(renewal=renewal, category="commit", stage="verbal")
    # Last week's and today's forecast, as the nightly job wrote them.
    for day in (today - timedelta(days=7), today):
        assert job_run(job_name="renewals.forecast", tenant=tenant, day=day).status == "succeeded"

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("manager@forecastco.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/t/forecastco/health/")  # a manager lands on the portfolio

    page.goto(f"{live_server.url}/t/forecastco/forecast/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Forecast: {quarter.label}")
    expect(page.locator("#at-risk-total")).to_contain_text("0")
    expect(page.locator("#committed-total")).to_contain_text("34,000")
    expect(page.locator("#movement")).to_contain_text("Nothing moved")
    screenshot("before")

    # The renewals board: the inline category select of the Initech row (saved with HTMX).
    page.goto(f"{live_server.url}/t/forecastco/renewals/")
    page.get_by_label("Forecast category of Initech").select_option(label="At risk")
    page.get_by_role("button", name="Save the renewal of Initech").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Renewal of Initech saved.")
    with tenant_context(tenant):
        assert RenewalOpportunity.objects.get(account=account).category == "at_risk"

    # Nothing changes on the forecast until the nightly job runs again.
    page.goto(f"{live_server.url}/t/forecastco/forecast/")
    expect(page.locator("#at-risk-total")).not_to_contain_text("24,000")
    assert job_run(job_name="renewals.forecast", tenant=tenant, day=today, trigger="manual").status == "succeeded"

    page.reload()
    expect(page.locator("#at-risk-total")).to_contain_text("24,000")
    expect(page.locator("#committed-total")).to_contain_text("10,000")
    expect(page.locator("#movement-new_risk")).to_contain_text("Initech")
    expect(page.locator("#movement-new_risk")).to_contain_text("Commit → At risk")
    expect(page.locator("#movement-category")).to_contain_text("Commit → At risk")
    expect(page.locator("#movement")).not_to_contain_text("Hooli")
    # The categories chart was drawn from the page's data.
    assert page.evaluate("() => !!window.Chart && !!window.Chart.getChart('categories-chart')")
    screenshot("after")
