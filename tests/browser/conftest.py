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
from pathlib import Path

import pytest

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
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "var" / "screenshots"

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
    """`screenshot("after-login")` saves the page now, as var/screenshots/<test name>-after-login.png."""

    def take(suffix: str = "") -> Path:
        path = _screenshot_path(request.node, suffix)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
