"""A day in the life of each role, on the demo tenants as `manage.py seed_demo` leaves them.

One seeding serves the whole module (`demo_site`), so the tests run in file order on shared, committed data:
each acts on its own rows. They save the screenshots the README's tour shows (`make screenshots` writes them to
docs/screenshots; otherwise they go to var/screenshots).
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account, Activity
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant

from .conftest import SCREENSHOT_DIR

# `django_db` (not transactional): each test reads in a transaction of its own that it rolls back, while the demo
# rows `demo_site` committed stay for the next test; the live server thread writes on its own connection.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}


def _watch_for_errors(page) -> list[str]:
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 500 else None)
    return problems


def test_a_csm_starts_on_my_work_searches_an_account_logs_a_call_and_reads_notifications(
        demo_site, page, screenshot):
    problems = _watch_for_errors(page)
    demo_site.log_in(page, "csm1@acme.example")
    expect(page).to_have_url(re.compile(r"/t/acme/plans/my-work/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    at_risk = page.locator("#mywork-at-risk")
    expect(at_risk.get_by_role("heading", name="At-risk accounts")).to_be_visible()
    expect(page.get_by_role("heading", name="Renewals in the next 90 days")).to_be_visible()
    name = at_risk.locator("tbody th a").first.inner_text()  # the demo gives every CSM red accounts
    acme = Tenant.objects.get(slug="acme")
    with tenant_context(acme):
        account = Account.objects.get(name=name)
    screenshot(name="csm-my-work", full_page=False)

    page.keyboard.press("/")
    search = page.get_by_role("combobox", name=re.compile("Search accounts"))
    expect(search).to_be_focused()
    search.fill(name)
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/t/acme/search/\?q="))
    page.locator("#results-accounts").get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    page.get_by_text("Log an activity", exact=True).click()
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Subject").fill("Recovery call: adoption plan for the next 30 days")
    page.get_by_label("Minutes spent").fill("30")
    page.get_by_role("button", name="Log activity").click()
    expect(page.locator("#timeline")).to_contain_text("Recovery call: adoption plan for the next 30 days")
    screenshot(name="csm-account-360", full_page=False)
    with tenant_context(acme):
        assert Activity.objects.filter(account=account, minutes_spent=30, kind="call").exists()

    page.locator("#bell").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    screenshot(name="csm-notifications", full_page=False)
    assert problems == []


def test_a_manager_starts_on_the_portfolio_then_renewals_forecast_and_team_compensation(
        demo_site, page, screenshot):
    problems = _watch_for_errors(page)
    demo_site.log_in(page, "manager@acme.example")
    expect(page).to_have_url(re.compile(r"/t/acme/health/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio health")
    page.wait_for_function("() => !!window.Chart && !!window.Chart.getChart('band-mix-chart')")
    screenshot(name="manager-portfolio", full_page=False)

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Renewals").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renewals")
    screenshot(name="manager-renewals-board", full_page=False)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Forecast").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Forecast")
    screenshot(name="manager-forecast", full_page=False)

    # Approving a commission statement asks first; dismissing it leaves the statement a draft.
    page.goto(f"{demo_site.url}/t/acme/compensation/team/")
    approve = page.get_by_role("button", name=re.compile(r"Approve .*'s statement")).first
    label = approve.get_attribute("aria-label")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    approve.click()
    expect(page.get_by_role("button", name=label)).to_be_visible()
    assert dialogs and dialogs[0].startswith("Approve and lock")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=label).click()
    expect(page.get_by_role("button", name=label)).to_have_count(0)
    screenshot(name="manager-team-compensation", full_page=False)
    assert problems == []


def test_an_executive_starts_on_the_headlines(demo_site, page, screenshot):
    problems = _watch_for_errors(page)
    demo_site.log_in(page, "exec@acme.example")
    expect(page).to_have_url(re.compile(r"/t/acme/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Headlines")
    expect(page.locator("#headline-nrr .figure")).to_have_text(re.compile(r"\d+(\.\d+)?%"))
    expect(page.locator("#headline-grr .figure")).to_have_text(re.compile(r"\d+(\.\d+)?%"))
    screenshot(name="executive-headlines", full_page=False)
    assert problems == []


def test_ops_start_on_what_to_fix_today_and_follow_accounts_without_a_csm(demo_site, page, screenshot):
    problems = _watch_for_errors(page)
    demo_site.log_in(page, "ops@acme.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("What to fix today")
    expect(page.get_by_role("heading", name="Nightly jobs")).to_be_visible()
    screenshot(name="ops-home", full_page=False)
    unowned = int(page.locator("#unowned-count").inner_text())
    page.get_by_role("link", name="List them and assign a CSM").click()
    expect(page).to_have_url(re.compile(r"/t/acme/accounts/\?csm=none"))
    expect(page.locator("table tbody tr")).to_have_count(unowned)
    assert problems == []


def test_an_admin_starts_on_what_to_fix_today_and_checks_login_security(demo_site, page):
    problems = _watch_for_errors(page)
    demo_site.log_in(page, "admin@acme.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("What to fix today")
    page.get_by_text("More", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Login security").click()
    expect(page).to_have_url(re.compile(r"/t/acme/ops/security/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Login security")
    assert problems == []


def test_a_csm_on_a_phone_opens_the_menu_and_reads_my_work(demo_site, browser):
    context = browser.new_context(viewport=PHONE, locale="en-US", timezone_id="UTC", is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        demo_site.log_in(page, "csm2@acme.example")
        expect(page.get_by_role("heading", level=1)).to_have_text("My work")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the phone"
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / "phone-my-work.png"))
        accounts = page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts")
        expect(accounts).to_be_hidden()  # folded behind the Menu button
        page.get_by_role("button", name="Menu").click()
        accounts.click()
        expect(page).to_have_url(re.compile(r"/t/acme/accounts/$"))
    finally:
        context.close()
