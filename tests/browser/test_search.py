import pytest
from playwright.sync_api import expect

from csplatform.tenancy.models import Role
from tests.factories import AccountFactory, ContactFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory


def test_a_csm_presses_slash_types_sees_suggestions_and_lands_on_the_results(live_server, transactional_db, page):
    tenant = TenantFactory(slug="browserco", name="Browser Co")
    csm = MembershipFactory(tenant=tenant, role=Role.CSM, user__email="csm@browserco.test").user
    account = AccountFactory(tenant=tenant, csm=csm, name="Initech", domain="initech.example")
    ContactFactory(tenant=tenant, account=account, name="Peter Gibbons", email="peter@initech.example")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("csm@browserco.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/t/browserco/**")

    box = page.get_by_role("combobox", name="Search accounts, contacts, goals and tasks")
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the "/" focused the box and typed nothing
    page.keyboard.type("initech")
    suggestions = page.locator("#search-suggestions")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("link", name="Initech", exact=True)).to_be_visible()
    expect(suggestions).to_contain_text("Peter Gibbons")

    page.keyboard.press("ArrowDown")  # into the suggestions, and back out with Escape
    expect(suggestions.get_by_role("link", name="Initech", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_be_focused()
    expect(suggestions).to_be_hidden()

    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/t/browserco/search/?q=initech")
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “initech”")
    expect(page.locator("#results-accounts")).to_contain_text("Initech")
    expect(page.locator("#results-contacts")).to_contain_text("Peter Gibbons")

    page.keyboard.press("Control+k")  # from any page
    expect(box).to_be_focused()
