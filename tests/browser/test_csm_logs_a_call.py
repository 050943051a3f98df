import pytest
from playwright.sync_api import expect

from accounts.models import Activity
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from tests.factories import AccountFactory, ContactFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory


def test_a_csm_opens_an_account_logs_a_call_and_sees_it_on_the_timeline(live_server, transactional_db, page):
    tenant = TenantFactory(slug="browserco", name="Browser Co")
    csm = MembershipFactory(tenant=tenant, role=Role.CSM, user__email="csm@browserco.test",
                            user__full_name="Chris Carter").user
    account = AccountFactory(tenant=tenant, csm=csm, name="Initech")
    ContactFactory(tenant=tenant, account=account, name="Carl Champion", persona="champion")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("csm@browserco.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/t/browserco/plans/my-work/")  # a CSM lands on My work

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My accounts")
    page.get_by_role("link", name="Initech").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Initech")
    expect(page.get_by_text("Nothing logged yet.")).to_be_visible()

    url_before = page.url
    page.get_by_text("Log an activity", exact=True).click()
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Subject").fill("Renewal check-in with the champion")
    page.get_by_label("Minutes spent").fill("25")
    page.get_by_label("With").select_option(label="Carl Champion")
    page.get_by_label("Next step", exact=True).fill("Send the renewal quote")
    page.get_by_role("button", name="Log activity").click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Renewal check-in with the champion")
    expect(timeline).to_contain_text("With Carl Champion")
    expect(timeline).to_contain_text("25 min")
    expect(page.locator("main").get_by_role("status")).to_have_text("Activity logged.")
    assert page.url == url_before  # HTMX swapped the panel; no full reload
    with tenant_context(tenant):
        assert Activity.objects.get().subject == "Renewal check-in with the champion"
