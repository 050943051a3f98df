from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from success_plans.models import Decision, Goal
from tests.factories import AccountFactory, ContactFactory, MembershipFactory, SuccessPlanFactory, TenantFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory


def test_a_csm_adds_a_goal_updates_its_progress_and_records_a_decision(live_server, transactional_db, page):
    tenant = TenantFactory(slug="browserco", name="Browser Co")
    csm = MembershipFactory(tenant=tenant, role=Role.CSM, user__email="csm@browserco.test").user
    account = AccountFactory(tenant=tenant, csm=csm, name="Initech")
    ContactFactory(tenant=tenant, account=account, name="Carl Champion", persona="champion")
    plan = SuccessPlanFactory(tenant=tenant, account=account, title="Initech FY plan")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("csm@browserco.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/t/browserco/plans/my-work/")  # a CSM lands on My work

    page.goto(f"{live_server.url}/t/browserco/accounts/{account.pk}/")
    page.get_by_role("link", name="Initech FY plan").first.click()
    page.wait_for_url(f"{live_server.url}/t/browserco/plans/{plan.pk}/")

    page.get_by_role("link", name="Add a goal").click()
    page.get_by_label("Title").fill("Double weekly active users")
    page.get_by_label("Measure").fill("weekly active users")
    page.get_by_label("Baseline").fill("100")
    page.get_by_label("Target").fill("200")
    page.get_by_label("Due date").fill((timezone.localdate() + timedelta(days=90)).isoformat())
    page.get_by_label("Approved by").select_option(label="Carl Champion")
    page.get_by_role("button", name="Add goal").click()
    page.wait_for_url(f"{live_server.url}/t/browserco/plans/{plan.pk}/")
    expect(page.get_by_text("Double weekly active users").first).to_be_visible()

    with tenant_context(tenant):
        goal = Goal.objects.get()
    row = page.locator(f"#goal-{goal.pk}")
    row.get_by_label("New reading").fill("180")
    row.get_by_role("button", name="Record progress").click()
    expect(page.locator(f"#goal-{goal.pk}")).to_contain_text("180")
    with tenant_context(tenant):
        goal.refresh_from_db()
    assert goal.current_value == 180 and goal.approved_by_id is not None

    page.goto(f"{live_server.url}/t/browserco/accounts/{account.pk}/")
    page.get_by_role("link", name="New business review").click()
    page.get_by_label("Date").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Save review").click()
    page.get_by_role("textbox", name="Decision").fill("Roll out SSO to all teams")
    page.get_by_role("button", name="Add decision").click()
    expect(page.locator("#decision-log")).to_contain_text("Roll out SSO to all teams")
    with tenant_context(tenant):
        assert Decision.objects.get().text == "Roll out SSO to all teams"
