"""Helpers for API tests: a JSON client with one member's bearer token, and tenant-aware reads."""

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.services import api_token_create
from tests.factories import MembershipFactory

API = "/api/v1"


class Api:
    """A test client that speaks JSON with one member's bearer token."""

    def __init__(self, client, *, tenant, user):
        self.client = client
        self.user = user
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(tenant=tenant, user=user, name='test')[1]}"}

    def get(self, path, params=None):
        return self.client.get(f"{API}{path}", params or {}, **self.auth)

    def post(self, path, data):
        return self.client.post(f"{API}{path}", data, content_type="application/json", **self.auth)

    def patch(self, path, data):
        return self.client.patch(f"{API}{path}", data, content_type="application/json", **self.auth)

    def put(self, path, data):
        return self.client.put(f"{API}{path}", data, content_type="application/json", **self.auth)


def member(tenant, role, email, **kwargs):
    return MembershipFactory(tenant=tenant, role=role, user__email=email, **kwargs).user


def count(model, tenant):
    with tenant_context(tenant):
        return model.objects.count()


def reload(obj, tenant):
    with tenant_context(tenant):
        obj.refresh_from_db()
    return obj
