from io import StringIO

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from csplatform import celery_app
from csplatform.tenancy.models import Role

from .api import Api, member
from .factories import MembershipFactory, TenantFactory

IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
SQLITE_SKIP_REASON = (
    "needs PostgreSQL (row level security / set-based SQL); this run is on SQLite. "
    "Set DATABASE_URL or start PostgreSQL on 127.0.0.1:5432 to run it."
)


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    if IS_POSTGRES:
        where = f"PostgreSQL {db.get('HOST') or 'socket'}:{db.get('PORT') or 5432} as role {db.get('USER')!r}"
    else:
        where = "SQLite (PostgreSQL-only tests will be skipped, each with its reason)"
    return [f"database: {where}", f"redis: {settings.REDIS_URL or 'none (tasks run in-process)'}"]


def pytest_collection_modifyitems(config, items):
    if IS_POSTGRES:
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=SQLITE_SKIP_REASON))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(f"Tests ran on: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}")


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_in_process():
    # Tests call tasks through `.delay()`; they run in-process unless a test starts its own worker.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


FAST_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    # The demo's 180 days of health history take seconds per seeding; five weeks show the same behaviour.
    "DEMO_SCORE_HISTORY_DAYS": 35,
}
DEMO_TEST_PASSWORD = "demo-pass-for-test"


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    for name, value in FAST_SETTINGS.items():
        setattr(settings, name, value)


@pytest.fixture(scope="module")
def demo_tenants(django_db_setup, django_db_blocker):
    """The demo tenants as `manage.py seed_demo` leaves them, seeded once per test module.

    Seeding takes some 15 s, so a module's tests share one committed seeding; each test still runs in its own
    rolled-back transaction (use it with `db`). The module's end flushes the database, so the next module starts
    empty as every other test expects.
    """
    with django_db_blocker.unblock(), override_settings(DEMO_PASSWORD=DEMO_TEST_PASSWORD, **FAST_SETTINGS):
        try:
            call_command("seed_demo", stdout=StringIO())
            yield
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _process_local_cache(settings):
    """Rate-limit counts stay in this test process and start at zero in each test.

    With REDIS_URL set the app's cache is Redis, whose test database other test runs on this machine (and the
    Celery broker) share. tests/security/test_public_pages.py checks the Redis setup itself.
    """
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    cache.clear()


class RateLimitClock:
    """The clock of csplatform.security.ratelimit, pinned at the start of a window; `advance(seconds)` moves it."""

    def __init__(self, now: float):
        self.now = now

    def advance(self, seconds: float):
        self.now += seconds


@pytest.fixture
def rate_limit_clock(monkeypatch):
    """Counting tests pin the clock so that a window boundary never falls between their requests."""
    from csplatform.security import ratelimit

    clock = RateLimitClock(1_200_000.0)  # a multiple of 600 and 60: the start of a 10-minute and 1-minute window
    monkeypatch.setattr(ratelimit, "_now", lambda: clock.now)
    return clock


@pytest.fixture
def tenant_a(db):
    return TenantFactory(slug="alpha", name="Alpha Inc")


@pytest.fixture
def tenant_b(db):
    return TenantFactory(slug="bravo", name="Bravo Ltd")


@pytest.fixture
def owner(tenant_a):
    """An ops user of tenant A (may see and run jobs)."""
    return MembershipFactory(tenant=tenant_a, role=Role.OPS, user__email="owner@alpha.test").user


@pytest.fixture
def teammate(tenant_a):
    """A CSM of tenant A."""
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="teammate@alpha.test").user


@pytest.fixture
def manager(tenant_a):
    """A CS manager of tenant A."""
    return MembershipFactory(tenant=tenant_a, role=Role.MANAGER, user__email="manager@alpha.test",
                             user__full_name="Maya Manager").user


@pytest.fixture
def csm(tenant_a, manager):
    """A CSM of tenant A who reports to `manager`."""
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=manager, user__email="csm@alpha.test",
                             user__full_name="Chris Carter").user


@pytest.fixture
def outsider(tenant_b):
    """An ops user of tenant B only."""
    return MembershipFactory(tenant=tenant_b, role=Role.OPS, user__email="outsider@bravo.test").user


@pytest.fixture
def pg_cursor(db):
    """A raw cursor, for asserting what PostgreSQL itself lets through."""
    with connection.cursor() as cursor:
        yield cursor


# API clients (tests/api.py): one per kind of member.
@pytest.fixture
def ops_api(client, tenant_a, owner):
    return Api(client, tenant=tenant_a, user=owner)


@pytest.fixture
def csm_api(client, tenant_a, teammate):
    return Api(client, tenant=tenant_a, user=teammate)


@pytest.fixture
def outsider_api(client, tenant_b, outsider):
    return Api(client, tenant=tenant_b, user=outsider)


@pytest.fixture
def executive_api(client, tenant_a):
    return Api(client, tenant=tenant_a, user=member(tenant_a, Role.EXECUTIVE, "exec@alpha.test"))
