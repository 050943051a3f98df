"""API tokens: every member lists, creates and revokes their own; ops and admins see and revoke the tenant's."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from csplatform.security.services import MAX_ACTIVE_TOKENS_PER_MEMBER
from csplatform.tenancy.models import ApiToken, Role, hash_token
from csplatform.tenancy.services import api_token_create
from tests.api import member

MINE = "/t/alpha/settings/tokens/"
ALL = "/t/alpha/ops/tokens/"


def revoke_url(token, slug="alpha"):
    return f"/t/{slug}/settings/tokens/{token.pk}/revoke/"


def api_status(raw) -> int:
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


@pytest.fixture
def as_teammate(client, teammate):
    client.force_login(teammate)
    return client


@pytest.fixture
def as_ops(client, owner):
    client.force_login(owner)
    return client


def test_a_member_sees_their_own_tokens_with_dates_and_status(as_teammate, tenant_a, teammate, owner):
    api_token_create(tenant=tenant_a, user=teammate, name="laptop script")
    old, _ = api_token_create(tenant=tenant_a, user=teammate, name="old sync", lifetime=timedelta(days=1))
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    api_token_create(tenant=tenant_a, user=owner, name="ops only")
    html = as_teammate.get(MINE).content.decode()
    assert "laptop script" in html and "old sync" in html and "ops only" not in html
    assert "Active" in html and "Expired" in html and "never" in html  # last used: never
    assert html.count("Revoke…") == 1  # an expired token has nothing left to revoke


def test_creating_shows_the_token_once_and_stores_only_its_hash(as_teammate, tenant_a, teammate):
    response = as_teammate.post(MINE, {"name": "CRM sync", "lifetime_days": "30"})
    assert response.status_code == 201 and response["Cache-Control"].startswith("max-age=0")
    token = ApiToken.objects.get(user=teammate)
    raw = response.context["raw"]
    assert raw in response.content.decode() and token.key_hash == hash_token(raw)
    assert token.name == "CRM sync" and token.tenant == tenant_a
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert raw not in as_teammate.get(MINE).content.decode()
    assert api_status(raw) == 200


@pytest.mark.parametrize("data, field", [
    ({"name": "", "lifetime_days": "30"}, "name"),
    ({"name": "   ", "lifetime_days": "30"}, "name"),
    ({"name": "x" * 101, "lifetime_days": "30"}, "name"),
    ({"name": "ok", "lifetime_days": "0"}, "lifetime_days"),
    ({"name": "ok", "lifetime_days": "9999"}, "lifetime_days"),
    ({"name": "ok"}, "lifetime_days"),
])
def test_bad_input_answers_400_with_the_field_and_creates_nothing(as_teammate, tenant_a, data, field):
    response = as_teammate.post(MINE, data)
    assert response.status_code == 400 and response.context["form"].errors[field]
    assert not ApiToken.objects.exists()


def test_a_member_holds_at_most_twenty_active_tokens(as_teammate, tenant_a, teammate):
    for n in range(MAX_ACTIVE_TOKENS_PER_MEMBER):
        api_token_create(tenant=tenant_a, user=teammate, name=f"t{n}")
    response = as_teammate.post(MINE, {"name": "one more", "lifetime_days": "7"})
    assert response.status_code == 400 and "revoke one you no longer use" in response.content.decode()
    assert ApiToken.objects.count() == MAX_ACTIVE_TOKENS_PER_MEMBER


def test_revoking_asks_first_then_the_token_gets_401(as_teammate, tenant_a, teammate):
    token, raw = api_token_create(tenant=tenant_a, user=teammate, name="laptop")
    confirm = as_teammate.get(revoke_url(token))
    assert confirm.status_code == 200 and "Revoke token “laptop”?" in confirm.content.decode()
    assert api_status(raw) == 200  # the GET changed nothing
    response = as_teammate.post(revoke_url(token))
    assert response.status_code == 302 and response["Location"] == MINE
    assert api_status(raw) == 401
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").json() == {
        "detail": "Token revoked or expired."}


def test_revoking_twice_keeps_the_first_revocation(as_teammate, tenant_a, teammate):
    token, _ = api_token_create(tenant=tenant_a, user=teammate, name="laptop")
    as_teammate.post(revoke_url(token))
    first = ApiToken.objects.get().revoked_at
    response = as_teammate.post(revoke_url(token), follow=True)
    assert "was already revoked" in response.content.decode()
    assert ApiToken.objects.get().revoked_at == first


def test_revoking_needs_the_csrf_token(tenant_a, teammate):
    token, raw = api_token_create(tenant=tenant_a, user=teammate, name="laptop")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(teammate)
    assert strict.post(revoke_url(token)).status_code == 403
    assert api_status(raw) == 200


def test_a_member_cannot_reach_a_colleagues_token(as_teammate, tenant_a, owner):
    token, raw = api_token_create(tenant=tenant_a, user=owner, name="ops sync")
    assert as_teammate.get(revoke_url(token)).status_code == 404
    assert as_teammate.post(revoke_url(token)).status_code == 404
    assert api_status(raw) == 200


def test_ops_list_every_token_of_the_tenant_with_its_owner_and_revoke_any(as_ops, tenant_a, teammate, tenant_b,
                                                                          outsider):
    token, raw = api_token_create(tenant=tenant_a, user=teammate, name="csm script")
    api_token_create(tenant=tenant_b, user=outsider, name="bravo secret sync")
    html = as_ops.get(ALL).content.decode()
    assert "csm script" in html and teammate.display_name in html
    assert "bravo secret sync" not in html
    response = as_ops.post(revoke_url(token))
    assert response.status_code == 302 and response["Location"] == ALL
    assert api_status(raw) == 401


def test_service_account_tokens_are_listed_for_ops(as_ops, tenant_a):
    from csplatform.tenancy.services import service_account_create

    robot = service_account_create(tenant=tenant_a, name="crm-sync")
    api_token_create(tenant=tenant_a, user=robot, name="nightly CRM")
    html = as_ops.get(ALL).content.decode()
    assert "nightly CRM" in html and "service account" in html


@pytest.mark.parametrize("role, status", [(Role.CSM, 403), (Role.MANAGER, 403), (Role.EXECUTIVE, 403),
                                          (Role.OPS, 200), (Role.ADMIN, 200)])
def test_only_ops_and_admins_see_every_token(client, tenant_a, role, status):
    client.force_login(member(tenant_a, role, f"{role}@alpha.test"))
    assert client.get(ALL).status_code == status
    assert client.get(MINE).status_code == 200  # everyone has their own page


def test_another_tenants_token_answers_404_even_to_its_ops(client, tenant_a, tenant_b, teammate, outsider):
    token, raw = api_token_create(tenant=tenant_a, user=teammate, name="alpha")
    client.force_login(outsider)  # ops of bravo
    assert client.get(MINE).status_code == 404  # not a member of alpha
    assert client.post(revoke_url(token, slug="bravo")).status_code == 404
    assert client.get(revoke_url(token, slug="bravo")).status_code == 404
    assert api_status(raw) == 200


def test_a_token_of_mine_in_another_workspace_is_not_listed_here(client, tenant_a, tenant_b, owner):
    from csplatform.tenancy.services import membership_set

    membership_set(tenant=tenant_b, user=owner, role=Role.CSM)
    token, _ = api_token_create(tenant=tenant_b, user=owner, name="bravo token")
    client.force_login(owner)
    assert "bravo token" not in client.get(MINE).content.decode()
    assert client.post(revoke_url(token)).status_code == 404
    assert client.get("/t/bravo/settings/tokens/").status_code == 200


def test_the_user_menu_links_my_tokens(as_teammate, tenant_a):
    assert MINE in as_teammate.get("/t/alpha/", follow=True).content.decode()
