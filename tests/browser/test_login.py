import pytest
from playwright.sync_api import expect

from csplatform.tenancy.models import Role
from tests.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory


def test_an_ops_user_logs_in_and_opens_the_jobs_page(live_server, transactional_db, page):
    tenant = TenantFactory(slug="browserco", name="Browser Co")
    MembershipFactory(tenant=tenant, role=Role.OPS, user__email="ops@browserco.test", user__full_name="Oscar Ops")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("ops@browserco.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # One workspace: straight into it, on the ops home.
    page.wait_for_url(f"{live_server.url}/t/browserco/ops/")
    expect(page.get_by_role("heading", level=1)).to_have_text("What to fix today")
    expect(page.locator(".brand")).to_have_text("Browser Co")
    jobs_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs")
    expect(jobs_link).to_be_visible()

    jobs_link.click()
    page.wait_for_url(f"{live_server.url}/t/browserco/ops/jobs/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nightly jobs")
    expect(page.get_by_role("button", name="Run nightly jobs now")).to_be_visible()


def test_a_locked_out_user_sees_why_and_whom_to_ask_on_the_login_page(live_server, transactional_db, page):
    tenant = TenantFactory(slug="browserco", name="Browser Co")
    MembershipFactory(tenant=tenant, role=Role.CSM, user__email="csm@browserco.test")

    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.get_by_label("Email").fill("csm@browserco.test")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed logins")
    expect(alert).to_contain_text("Try again in 15 minutes")
    expect(alert).to_contain_text("ops or admin person of your workspace")

    # The right password now gets the same page, not the workspace.
    page.get_by_label("Email").fill("csm@browserco.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed logins")
    assert page.url.startswith(f"{live_server.url}/login/")
