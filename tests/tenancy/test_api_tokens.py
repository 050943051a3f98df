from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from csplatform.tenancy.models import ApiToken, Membership, hash_token
from csplatform.tenancy.services import api_token_create, api_token_revoke
from tests.factories import JobRunFactory


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def owner_token(tenant_a, owner):
    return api_token_create(tenant=tenant_a, user=owner, name="test")[1]


@pytest.fixture
def outsider_token(tenant_b, outsider):
    return api_token_create(tenant=tenant_b, user=outsider, name="test")[1]


def test_it_prints_a_new_token_once_and_stores_only_its_hash(tenant_a, owner):
    out = StringIO()
    call_command("create_api_token", "--tenant", "alpha", "--email", "owner@alpha.test", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert raw.startswith("csp_") and token.key_hash == hash_token(raw)
    assert raw not in (token.key_hash, token.key_id, token.name)


def test_it_creates_a_service_account_token(client, tenant_a):
    out = StringIO()
    call_command("create_api_token", "--tenant", "alpha", "--service", "crm-sync", "--role", "ops",
                 stdout=out, stderr=StringIO())
    response = client.get("/api/v1/me/", **bearer(out.getvalue().strip()))
    assert response.status_code == 200
    assert response.json()["role"] == "ops" and "crm-sync" in response.json()["email"]


def test_it_refuses_a_token_for_a_non_member(tenant_a, outsider):
    with pytest.raises(CommandError, match="not a member"):
        call_command("create_api_token", "--tenant", "alpha", "--email", "outsider@bravo.test",
                     stdout=StringIO(), stderr=StringIO())


def test_it_names_the_tenant_and_role_of_a_token(client, owner_token):
    response = client.get("/api/v1/me/", **bearer(owner_token))
    assert response.status_code == 200
    assert response.json()["tenant"] == "alpha" and response.json()["role"] == "ops"


@pytest.mark.parametrize(
    "header, reason",
    [
        ("Bearer not-a-token", "Malformed token."),
        ("Token abc", "Use 'Authorization: Bearer <token>'."),
        ("Bearer csp_0123456789ab_" + "x" * 43, "Invalid token."),
    ],
)
def test_it_answers_401_with_the_reason_for_a_bad_token(client, tenant_a, header, reason):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"detail": reason}


def test_it_answers_401_without_a_token(client, db):
    assert client.get("/api/v1/me/").status_code == 401


def test_it_answers_401_to_a_tampered_secret(client, owner_token):
    assert client.get("/api/v1/me/", **bearer(owner_token[:-2] + "zz")).status_code == 401


def test_it_answers_401_to_a_revoked_or_expired_token(client, tenant_a, owner, owner_token):
    token = ApiToken.objects.get()
    assert api_token_revoke(token=token) is True
    assert api_token_revoke(token=token) is False  # compare-and-set: only the first call revokes
    assert client.get("/api/v1/me/", **bearer(owner_token)).json() == {"detail": "Token revoked or expired."}
    _, expired = api_token_create(tenant=tenant_a, user=owner, name="old", lifetime=timedelta(seconds=1))
    ApiToken.objects.filter(name="old").update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get("/api/v1/me/", **bearer(expired)).status_code == 401


def test_it_answers_401_once_the_user_left_the_tenant(client, tenant_a, owner, owner_token):
    Membership.objects.filter(user=owner, tenant=tenant_a).delete()
    assert client.get("/api/v1/me/", **bearer(owner_token)).status_code == 401


def test_it_answers_404_for_another_tenants_object(client, tenant_a, tenant_b, owner_token, outsider_token):
    alpha_run = JobRunFactory(tenant=tenant_a, error="alpha secret")
    assert client.get(f"/api/v1/job-runs/{alpha_run.pk}/", **bearer(owner_token)).status_code == 200
    response = client.get(f"/api/v1/job-runs/{alpha_run.pk}/", **bearer(outsider_token))
    assert response.status_code == 404
    assert b"alpha secret" not in response.content
    listing = client.get("/api/v1/job-runs/", **bearer(outsider_token)).json()
    assert listing["count"] == 0


def test_it_forbids_job_runs_to_a_csm_token(client, tenant_a, teammate):
    _, raw = api_token_create(tenant=tenant_a, user=teammate, name="csm")
    assert client.get("/api/v1/job-runs/", **bearer(raw)).status_code == 403


def test_it_serves_the_schema_and_docs_without_a_cdn(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/job-runs/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower() and b"/static/drf_spectacular_sidecar/" in docs.content
