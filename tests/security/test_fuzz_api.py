"""schemathesis against the project's own OpenAPI schema (`/api/schema/`): every operation of `/api/v1/`.

Requests go through the WSGI app as the ops user of a seeded demo tenant (a real bearer token). Each
response must not be a 5xx, and its status code, content type and body must be the ones the schema
declares. CI runs a few examples per operation; `make fuzz` runs the same test with more, and with
schemathesis' coverage phase.
"""

import os
from importlib import import_module
from unittest import mock

import pytest
import schemathesis
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core import signals
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.demo import TENANTS, seed_people
from csplatform.tenancy.models import ApiToken, Tenant
from csplatform.tenancy.services import api_token_create
from csplatform.wsgi import application

# CI: a few generated requests per operation, the same ones every run (about a minute in all). `make fuzz` sets
# FUZZ_FULL=1: new random requests each run, more of them, and schemathesis' coverage phase too (boundary values,
# each field missing or of the wrong type: about 150 more requests per operation). FUZZ_EXAMPLES overrides the
# number of generated requests per operation, FUZZ_PATH (a regular expression) picks operations by path.
FULL = os.environ.get("FUZZ_FULL", "") == "1"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or (25 if FULL else 6))
DEMO_APPS = ["accounts", "success_plans", "health", "renewals", "compensation", "insights"]

# Reading the schema touches no table (no token, no tenant), so it can happen at collection time. The schema
# page is rate limited per client address: counted in a cache of this process, not in the shared Redis.
with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=schemathesis.Config.from_dict({
        # Every check (no 5xx; status code, content type, headers and body as declared; auth enforced) but two
        # that judge which input is valid, where the API follows DRF's documented rules rather than the schema's
        # letter: a well-typed id that names no row of the workspace (?account=0) is a 400 with its reason, and a
        # number sent for a text field is taken as its text ("name": 0 is "0"). test_bad_input_api.py pins the
        # refusals that matter: filters of the wrong type, bodies that are not JSON or too large, NUL characters.
        "checks": {"positive_data_acceptance": {"enabled": False}, "negative_data_rejection": {"enabled": False}},
        "phases": {"coverage": {"enabled": FULL}},
    }))
if os.environ.get("FUZZ_PATH"):
    schema = schema.include(path_regex=os.environ["FUZZ_PATH"])

pytestmark = pytest.mark.postgres

# The seeded ops user's token. schemathesis builds its coverage-phase requests at collection time, before any
# database, so the raw value is drawn here and the `ops_token` fixture stores a token with this very value.
KEY_ID, RAW_TOKEN = ApiToken.new_secret()


@schema.auth(refresh_interval=None)
class OpsToken:
    """The bearer token on every request, except those where schemathesis leaves it out on purpose (401)."""

    def get(self, case, context):
        return RAW_TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _seed_demo_tenant():
    """One demo tenant with every app's demo data (`seed_demo` for acme, without globex)."""
    tenant, _ = Tenant.objects.update_or_create(slug=TENANTS[0]["slug"], defaults=TENANTS[0])
    people = seed_people(tenant, make_password("fuzz-not-a-login"))
    for label in DEMO_APPS:
        with tenant_context(tenant):
            import_module(f"{apps.get_app_config(label).name}.demo").seed(tenant=tenant, people=people)
    return tenant, people.by_key["ops"]


@pytest.fixture(scope="module")
def ops_token(django_db_setup, django_db_blocker):
    """A seeded demo tenant and its ops user's token, once for the module.

    Seeded inside a transaction that is rolled back at the end; each operation's test runs in its own
    savepoint inside it (the `db` fixture), so every operation starts from the same data.
    """
    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEMO_SCORE_HISTORY_DAYS=7):
        tenant, ops = _seed_demo_tenant()
        with mock.patch.object(ApiToken, "new_secret", return_value=(KEY_ID, RAW_TOKEN)):
            api_token_create(tenant=tenant, user=ops, name="fuzz")
        # Checks the seeded rows' deferred foreign keys now, once; left pending, they would be checked again at
        # the end of every operation's test (Django's TestCase teardown), a second each.
        connection.check_constraints()
        # Django's test client does the same: closing "old" connections at the end of a request would
        # end this transaction, and with it the seeded data.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            yield RAW_TOKEN
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            transaction.set_rollback(True)


@schema.parametrize()
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None, derandomize=not FULL)
def test_it_answers_every_operation_within_its_schema(case, ops_token, db):
    case.call_and_validate()
