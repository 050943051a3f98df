"""Browser tests: Playwright driving Debian's chromium against pytest-django's `live_server`.

Playwright cannot download its own browsers here, so we launch /usr/bin/chromium (`make test` installs it
when missing and we are root). Without it every browser test is skipped with the reason.

- `browser` (session): Playwright and one headless chromium.
- `page` (per test): a fresh browser context (cookies, storage) and page, default timeout 10 s. On failure,
  or for every test when BROWSER_SCREENSHOTS=1, it saves var/screenshots/<test name>.png.
- `screenshot` (per test): `screenshot("step")` saves var/screenshots/<test name>-step.png on demand.

Tests use `live_server` (a thread of this process, so the tenant middleware and row level security apply
as in production) and therefore `transactional_db`; mark them `@pytest.mark.browser`.
"""

import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import modify_settings, override_settings

# Playwright's sync API keeps an asyncio event loop running in the main thread from start() to stop(),
# i.e. for the rest of the session once a browser test ran. Django refuses ORM calls while a loop runs
# in the thread (SynchronousOnlyOperation), in these tests and in every test collected after them; the
# loop never runs Django code, so lift the check.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")  # Debian's package
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
# `make screenshots` points this at docs/screenshots, whose pictures the README shows.
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "var" / "screenshots")

_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item, so the `page` fixture knows at teardown whether the test failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


def _screenshot_path(node, suffix: str = "") -> Path:
    name = re.sub(r"[^\w.-]+", "_", node.name).strip("_")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / f"{name}{'-' + suffix if suffix else ''}.png"


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"browser tests need chromium at {CHROMIUM} (apt-get install chromium; `make test` does it as root)"
        print(f"\nSkipping browser tests: {reason}")
        pytest.skip(reason)
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        pytest.skip("browser tests need the playwright package (pip install -e '.[dev]')")

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    reports = request.node.stash.get(_reports, {})
    failed = any(report.failed for report in reports.values())
    try:
        if failed or os.environ.get("BROWSER_SCREENSHOTS") == "1":
            path = _screenshot_path(request.node)
            page.screenshot(path=str(path), full_page=True)
            print(f"\nScreenshot: {path}")
    finally:
        context.close()


@pytest.fixture
def screenshot(page, request):
    """`screenshot("after-login")` saves the page now, as var/screenshots/<test name>-after-login.png;
    `screenshot(name="csm-my-work")` as var/screenshots/csm-my-work.png (the README's tour uses such names)."""

    def take(suffix: str = "", *, name: str = "", full_page: bool = True) -> Path:
        if name:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOT_DIR / f"{name}.png"
        else:
            path = _screenshot_path(request.node, suffix)
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture(scope="module")
def demo_site(browser, django_db_setup, django_db_blocker):
    """The demo tenants (`manage.py seed_demo`) served by a live server thread, shared by a module's tests.

    Seeding takes some 15 s, so a module of day-in-the-life tests seeds once. The rows are committed (the
    server thread has its own connection), tests see each other's writes in file order, and the module's end
    flushes the database as `transactional_db` would. Mark the tests `django_db` (pytest-django creates the test
    database only for tests that ask for one) and do not combine it with `live_server`.
    """
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import DEMO_TEST_PASSWORD, FAST_SETTINGS

    with django_db_blocker.unblock(), override_settings(DEMO_PASSWORD=DEMO_TEST_PASSWORD, **FAST_SETTINGS):
        server = None
        try:
            call_command("seed_demo", stdout=StringIO())
            server = LiveServer("localhost")
            with modify_settings(ALLOWED_HOSTS={"append": "localhost"}):
                yield DemoSite(url=server.url, password=DEMO_TEST_PASSWORD)
        finally:
            if server is not None:
                server.stop()
            call_command("flush", interactive=False, verbosity=0)


class DemoSite:
    def __init__(self, *, url: str, password: str):
        self.url = url
        self.password = password

    def log_in(self, page, email: str) -> None:
        """Logs in through the login page and waits for the role's home to load."""
        page.goto(f"{self.url}/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(self.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
