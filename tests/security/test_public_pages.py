"""Pages reachable without logging in: each is listed with what protects it, and the protections hold.

Survey links' single use and expiry (410 "This link has expired") are tested in tests/health/test_surveys.py.
"""

import re
import uuid

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.urls import URLResolver, get_resolver

from csplatform.security import ratelimit
from csplatform.tenancy.context import tenant_context
from health import services as health_services
from health.views.surveys import RATE_LIMIT as SURVEY_RATE_LIMIT
from tests.factories import AccountFactory, ContactFactory

# Every route outside /t/<slug>/ (the tenant middleware sends anonymous visitors to the login page),
# /api/v1/ (bearer token or 401) and /admin/ (Django's staff login, locked out by django-axes like /login/).
PUBLIC_ROUTES = {
    "": "login_required: redirects to the login page",
    "login/": "django-axes: 5 failures lock an email, 20 an address, for 15 minutes",
    "logout/": "POST only, with the CSRF token",
    "survey/<slug:tenant_slug>/<str:token>/": "256-bit single-use token that expires; 20 requests per address "
                                              "and tenant per 10 minutes",
    "api/schema/": "no tenant data; 60 requests per address per 10 minutes (building it costs CPU)",
    "api/docs/": "no tenant data; 60 requests per address per 10 minutes",
}
GUARDED_PREFIXES = ("t/<slug:tenant_slug>/", "api/v1/", "admin/")


def routes(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith(GUARDED_PREFIXES):
                yield from routes(pattern.url_patterns, route)
        elif not route.startswith(GUARDED_PREFIXES) and not route.startswith("^static/"):
            yield route


def test_every_public_route_is_listed_with_what_protects_it():
    found = set(routes())
    assert found == set(PUBLIC_ROUTES), (
        f"New public route(s) {sorted(found - set(PUBLIC_ROUTES))}: protect them (login, token, rate limit) and "
        f"list them in PUBLIC_ROUTES; gone: {sorted(set(PUBLIC_ROUTES) - found)}")


@pytest.mark.parametrize("path, status", [
    ("/", 302), ("/login/", 200), ("/logout/", 405), ("/survey/alpha/not-a-real-token/", 404),
    ("/api/schema/", 200), ("/api/docs/", 200), ("/t/alpha/", 302), ("/api/v1/me/", 401), ("/admin/", 302),
])
def test_anonymous_visitors_get_a_login_page_a_401_or_nothing_of_a_tenant(client, tenant_a, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert b"Alpha Inc" not in response.content


@pytest.fixture
def survey_links(tenant_a, manager, django_capture_on_commit_callbacks):
    account = AccountFactory(tenant=tenant_a, name="Initech")
    for n in range(3):
        ContactFactory(tenant=tenant_a, account=account, name=f"C{n}", email=f"c{n}@initech.test",
                       receives_surveys=True)
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=True):
        health_services.survey_send(account=account, by=manager, base_url="http://testserver")
    return [re.search(r"http://testserver(/survey/alpha/([A-Za-z0-9_-]+)/)", m.body).groups() for m in mail.outbox]


def test_survey_links_carry_an_unguessable_token_and_only_its_hash_is_stored(tenant_a, survey_links):
    from health.models import SurveyInvite

    tokens = [token for _, token in survey_links]
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(len(token) >= 43 for token in tokens)  # secrets.token_urlsafe(32): 256 random bits
    with tenant_context(tenant_a):
        stored = set(SurveyInvite.objects.values_list("token_hash", flat=True))
    assert not stored & set(tokens)


def test_the_survey_limit_counts_the_address_the_trusted_proxy_saw(tenant_a, survey_links, settings,
                                                                   rate_limit_clock):
    settings.TRUSTED_PROXY_COUNT = 1
    path = survey_links[0][0]
    proxy = Client(REMOTE_ADDR="10.0.0.2")  # every request arrives from the proxy
    for n in range(SURVEY_RATE_LIMIT):
        # The client may write anything on the left; the proxy appends the address it saw.
        assert proxy.get(path, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.7").status_code == 200
    limited = proxy.get(path, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.7")
    assert limited.status_code == 429 and limited["Retry-After"] == "600"
    # Another client behind the same proxy is counted apart.
    assert proxy.get(path, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


def test_the_limit_opens_again_in_the_next_window(tenant_a, survey_links, rate_limit_clock):
    path = survey_links[0][0]
    visitor = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(SURVEY_RATE_LIMIT):
        visitor.get(path)
    rate_limit_clock.advance(599)
    limited = visitor.get(path)
    assert limited.status_code == 429 and limited["Retry-After"] == "1"
    rate_limit_clock.advance(1)
    assert visitor.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_api_schema_and_docs_are_rate_limited_per_address(client, db, rate_limit_clock, path):
    for _ in range(60):  # the limit, spent without building the schema 60 times
        assert ratelimit.hit("api-schema", "127.0.0.1", limit=60, window_seconds=600) is None
    response = client.get(path)
    assert response.status_code == 429 and response["Retry-After"] == "600"
    assert Client(REMOTE_ADDR="198.51.100.3").get(path).status_code == 200


def _redis_or_skip() -> str:
    url = settings.REDIS_URL or "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as error:  # noqa: BLE001 - any failure means "no Redis here"
        reason = f"needs Redis ({url}: {error}); start redis-server or set REDIS_URL"
        print(f"\nSkipping: {reason}")
        pytest.skip(reason)
    return url


def test_two_web_processes_share_the_counts_through_redis(rate_limit_clock):
    url = _redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex}"  # no clear(): other test runs share this Redis database
    worker_a = RedisCache(url, {"KEY_PREFIX": prefix})
    worker_b = RedisCache(url, {"KEY_PREFIX": prefix})  # its own connection pool, as in another process
    try:
        assert [ratelimit.hit("t", "198.51.100.1", limit=3, window_seconds=600, store=worker_a)
                for _ in range(2)] == [None, None]
        assert ratelimit.hit("t", "198.51.100.1", limit=3, window_seconds=600, store=worker_b) is None
        assert ratelimit.hit("t", "198.51.100.1", limit=3, window_seconds=600, store=worker_a) is not None
        assert ratelimit.hit("t", "198.51.100.2", limit=3, window_seconds=600, store=worker_b) is None
    finally:
        redis_client = worker_a._cache.get_client(write=True)
        for key in redis_client.scan_iter(f"{prefix}:*"):
            redis_client.delete(key)
