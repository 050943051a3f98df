"""Accessibility and phone layout of the main pages, as each role sees them on a tenant with realistic data.

axe-core (npm, `make install` puts it in node_modules) checks every page after its charts are drawn; a violation
of impact "serious" or "critical" fails the test with its rule, help and the elements it found. The phone pass
loads a few main pages at 390x844: the page must not scroll sideways (wide tables scroll inside their own box)
and the main menu must open from the keyboard.

The tenant is the demo's acme (`manage.py seed_demo` for one tenant, with the nightly jobs), so charts, tables
and forms render with data; it is seeded once per test since a browser test's database is flushed after it.
"""

import json
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import Resolver404, resolve
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from csplatform.jobs.services import nightly_run_for_tenant
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.demo import TENANTS, seed_people
from csplatform.tenancy.management.commands.seed_demo import DEMO_APPS, Command
from csplatform.tenancy.models import Tenant

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "demo-pass-for-test"
SLUG = TENANTS[0]["slug"]
FAILING_IMPACTS = ("serious", "critical")
PHONE = {"width": 390, "height": 844}

# Per role, its home ("") and the pages it works from ("{account}" is one of the CSM's accounts); a page the home
# redirected to is not checked twice. Pages of features that may not exist in every checkout (search,
# notifications) are visited only when their route resolves.
ROLE_PAGES = {
    "csm1": [
        "",
        "plans/my-work/",
        "accounts/",
        "accounts/{account}/",
        "health/",
        "renewals/",
        "compensation/",
        "search/?q=a",
        "notifications/",
    ],
    "manager": [
        "",
        "health/?csm=",
        "renewals/?csm=",
        "forecast/",
        "renewals/retention/",
        "compensation/team/",
        "reports/",
        "team/",
    ],
    "exec": ["", "forecast/", "renewals/retention/", "reports/"],
    "ops": ["", "ops/jobs/"],
    "admin": [""],
}
PHONE_PAGES = ["plans/my-work/", "accounts/", "accounts/{account}/", "health/", "renewals/"]  # as the CSM
# What the phone pages need: the apps up to renewals (the rest of the demo costs seconds and shows no page here).
PHONE_DEMO_APPS = ["accounts", "success_plans", "health", "renewals"]

# The focused element opens the main navigation: a button that controls it, or the summary of a <details> around it.
MENU_TOGGLE_FOCUSED = """() => {
    const e = document.activeElement, nav = document.querySelector('nav[aria-label="Main"]');
    if (!e || !nav) return false;
    if (e.tagName === 'SUMMARY') return e.parentElement.contains(nav);
    const controls = (e.getAttribute('aria-controls') || '').split(' ');
    return e.hasAttribute('aria-expanded') && !!nav.id && controls.includes(nav.id);
}"""
# Charts draw after the deferred scripts: wait until every canvas on the page has its chart.
CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('canvas')).every(
    c => !window.Chart || !!window.Chart.getChart(c) || c.closest('[hidden]'))"""


def _seed_one_demo_tenant(demo_apps=DEMO_APPS) -> dict:
    """`seed_demo`, for acme only: half the time of both tenants, the same data."""
    spec = TENANTS[0]
    tenant, _ = Tenant.objects.update_or_create(slug=spec["slug"], defaults=spec)
    people = seed_people(tenant, make_password(PASSWORD))
    for label in demo_apps:
        module = Command._demo_module(label)
        if module is not None:
            with tenant_context(tenant):
                module.seed(tenant=tenant, people=people)
    nightly_run_for_tenant(tenant=tenant, day=timezone.localdate(), trigger="command")
    with tenant_context(tenant):
        account = Account.objects.filter(csm=people.by_key["csm1"]).order_by("name").first()
    return {"account": account.pk}


def _routable(path: str) -> bool:
    try:
        resolve(f"/t/{SLUG}/{path.split('?')[0]}".replace("{account}", "1"))
    except Resolver404:
        return False
    return True


def _log_in(context, live_server, key):
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(f"{key}@{SLUG}.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def _open(page, live_server, path, ids) -> int:
    response = page.goto(f"{live_server.url}/t/{SLUG}/{path.format(**ids)}")
    page.wait_for_function(CHARTS_DRAWN)
    return response.status


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text())
    # Violations only: collecting the passes too doubles axe's time on a long page.
    result = page.evaluate(
        "async () => JSON.stringify((await axe.run(document, {resultTypes: ['violations']})).violations)"
    )
    return [v for v in json.loads(result) if v["impact"] in FAILING_IMPACTS]


def _report(found: list[tuple[str, dict]]) -> str:
    lines = []
    for where, v in found:
        lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            summary = " ".join((node.get("failureSummary") or "").splitlines()[1:])
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


@pytest.fixture
def axe_source():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci installs axe-core from package.json)")


def test_it_finds_no_serious_accessibility_problem_on_the_main_pages_of_each_role(
    live_server, transactional_db, browser, axe_source
):
    ids = _seed_one_demo_tenant()
    found, errors = [], []
    for key, paths in ROLE_PAGES.items():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
        try:
            page = _log_in(context, live_server, key)
            page.on("pageerror", lambda error, page=page, key=key: errors.append(f"{key} {page.url}: {error}"))
            seen = set()
            for path in paths:
                if not _routable(path):
                    continue
                status = _open(page, live_server, path, ids)
                assert status == 200, f"{key} {path}: {status}"
                if page.url in seen:
                    continue
                seen.add(page.url)
                where = f"{key} {page.url.removeprefix(f'{live_server.url}/t/{SLUG}/') or 'home'}"
                found += [(where, v) for v in _axe_violations(page)]
        finally:
            context.close()
    assert not found, "axe found serious or critical problems:\n" + _report(found)
    assert errors == []


def test_it_fits_a_phone_screen_and_the_menu_opens_from_the_keyboard(live_server, transactional_db, browser):
    ids = _seed_one_demo_tenant(PHONE_DEMO_APPS)
    context = browser.new_context(viewport=PHONE, locale="en-US", timezone_id="UTC", has_touch=True, is_mobile=True)
    try:
        page = _log_in(context, live_server, "csm1")
        too_wide = []
        for path in PHONE_PAGES:
            assert _open(page, live_server, path, ids) == 200, path
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if width[0] > width[1]:
                culprits = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
                    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))""")
                too_wide.append(f"{path}: {width[0]}px wide in {width[1]}px ({', '.join(culprits)})")
        assert not too_wide, "pages scroll sideways on a phone:\n" + "\n".join(too_wide)

        _open(page, live_server, "health/", ids)
        nav = page.get_by_role("navigation", name="Main")
        accounts_link = nav.get_by_role("link", name="Accounts", exact=True)
        if not accounts_link.is_visible():
            # The menu is folded: Tab to its toggle and open it with Enter; a button says it is open now.
            for _ in range(20):
                page.keyboard.press("Tab")
                if page.evaluate(MENU_TOGGLE_FOCUSED):
                    break
            else:
                pytest.fail("no menu toggle reachable with Tab on a phone")
            page.keyboard.press("Enter")
            expect(accounts_link).to_be_visible()
            assert page.evaluate("() => document.activeElement.getAttribute('aria-expanded')") in ("true", None)
        # The menu's links are reachable from the keyboard too.
        accounts_link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/t/{SLUG}/accounts/")
    finally:
        context.close()
