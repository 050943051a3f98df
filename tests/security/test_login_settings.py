"""Production settings (DEBUG=False): `check --deploy` is clean, cookies are secure, the secret key is required.

The production checks run `manage.py` in a subprocess with the production environment, as a deployment would.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "cs.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://cs.example.com",
    "DATABASE_URL": "postgres://csplatform:unused@127.0.0.1:5432/csplatform",  # not connected to by these checks
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
PROBE = """
import json
from csplatform import settings as s
print(json.dumps({name: getattr(s, name, None) for name in [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
    "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_AGE", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "CACHES"]}))
"""


def run(args, **overrides):
    # Nothing of the test run's own: no TEST_DATABASE_NAME, and no DJANGO_* such as the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly rejects.
    env = {key: value for key, value in os.environ.items()
           if key not in PRODUCTION and key != "TEST_DATABASE_NAME" and not key.startswith("DJANGO_")}
    env.update({key: value for key, value in {**PRODUCTION, **overrides}.items() if value is not None})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def probe(**overrides) -> dict:
    result = run(["-c", PROBE], **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_under_the_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_a_weak_secret_key():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECRET_KEY="change-me-in-production")
    assert result.returncode != 0 and "security.W009" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run(["-c", "import csplatform.settings"], SECRET_KEY=None)
    assert result.returncode != 0 and "Set the SECRET_KEY environment variable" in result.stderr


def test_production_cookies_and_headers():
    values = probe()
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"] and values["CSRF_COOKIE_HTTPONLY"]
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SESSION_COOKIE_AGE"] == 12 * 3600
    assert (values["X_FRAME_OPTIONS"], values["SECURE_CONTENT_TYPE_NOSNIFF"], values["SECURE_REFERRER_POLICY"]) == (
        "DENY", True, "same-origin")


def test_the_cache_is_redis_when_there_is_one_so_limits_hold_across_web_processes():
    assert issubclass(import_string(probe()["CACHES"]["default"]["BACKEND"]), RedisCache)
    assert probe(REDIS_URL=None)["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    separate = probe(CACHE_REDIS_URL="redis://127.0.0.1:6379/3")["CACHES"]["default"]
    assert separate["LOCATION"] == "redis://127.0.0.1:6379/3"


def test_pages_send_the_security_headers(client, db):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_session_and_csrf_cookies_are_http_only(client, tenant_a, owner):
    client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": "owner@alpha.test", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.cookies["sessionid"]["httponly"] and client.cookies["csrftoken"]["httponly"]
    assert client.cookies["sessionid"]["max-age"] == 12 * 3600


@pytest.mark.parametrize("password, reason", [
    ("Short-pass1", "at least 12 characters"),
    ("123456789012", "entirely numeric"),
    ("password1234", "too common"),
    ("owner.alpha.test", "too similar"),
])
def test_weak_passwords_are_refused(owner, password, reason):
    with pytest.raises(ValidationError, match=reason):
        validate_password(password, user=owner)


def test_a_long_passphrase_is_accepted(owner):
    validate_password("ochre kettle migrates", user=owner)
