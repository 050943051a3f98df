"""Role x action on every page and API operation, both ways: a role the action allows gets in, any other gets 403.

The routes come from Django's resolver and the OpenAPI schema; each page says its action through `tenant_page`
(`required_actions`, `write_action`), each viewset through `required_actions`; csplatform.tenancy.permissions.ACTIONS
says which roles have the action. Every member asks for objects of their own tenant (tests/security/world.py),
on accounts their role may write (the CSM owns them, the manager leads the CSM, and the tenant lets CSMs edit all
accounts), so the "whose account" rule never decides the answer: tests/accounts/test_permission_matrix.py covers
that rule. Each route is asked once per role with its cheapest request: GET when the page has one, else an empty
POST; for the API the operation's own method with an empty body (a 400 is "allowed": the role got past the
permission check).
"""

import json

import pytest
from django.db import transaction

from csplatform.tenancy.models import Role
from csplatform.tenancy.permissions import role_can
from csplatform.tenancy.routes import api_operations, pages

from .routes import api_path, fill_path
from .world import module_client, module_world

ROLES = tuple(Role.values)
TENANT_PAGES = [p for p in pages() if p.is_tenant_page]
OPERATIONS = list(api_operations())


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    for built in module_world(django_db_blocker, slug="alpha", marker="ALPHA-ROLES"):
        yield built["alpha"]


@pytest.fixture(scope="module")
def browser():
    return module_client()


def cheapest_method(page) -> str:
    return "GET" if "GET" in page.methods else page.methods[0]


def verdict(status: int, allowed: bool) -> str | None:
    """What is wrong with this answer, or None."""
    if allowed and status in (403, 404):
        return f"{status}, but the role has the action"
    if allowed and status >= 500:
        return f"{status} (a crash, not an answer)"
    if not allowed and status != 403:
        return f"{status}, but the role lacks the action (expected 403)"
    return None


def _isolated(send):
    """Each role's request in a savepoint of its own, so one role's write never changes the next one's answer."""
    with transaction.atomic():
        response = send()
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("page", TENANT_PAGES, ids=lambda p: p.name)
def test_each_page_lets_in_exactly_the_roles_its_action_allows(page, world, browser, db):
    method = cheapest_method(page)
    actions = page.actions_for(method)
    assert actions, f"{page.name} declares no action: decorate it with @tenant_page(\"<action>\")"
    wrong = []
    for role in ROLES:
        user = world.people[role]

        def send(user=user, role=role):
            world.log_in(browser, role)
            path = fill_path(page, slug=world.tenant.slug, world=world, user=user)
            return browser.get(path) if method == "GET" else browser.generic(method, path)

        response = _isolated(send)
        problem = verdict(response.status_code, any(role_can(role, action) for action in actions))
        if problem:
            wrong.append(f"{role}: {method} {response.wsgi_request.get_full_path()} -> {problem}")
    assert not wrong, f"{page.name} needs {' or '.join(actions)}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: f"{o.method} {o.path}")
def test_each_api_operation_lets_in_exactly_the_roles_its_action_allows(operation, world, browser, db):
    action = operation.required_action
    wrong = []
    for role in ROLES:
        user = world.people[role]
        auth = {"HTTP_AUTHORIZATION": f"Bearer {world.api_tokens[role]}"}

        def send(user=user, auth=auth):
            browser.cookies.clear()  # the token alone says who asks
            path = api_path(operation, world=world, user=user)
            if operation.method == "GET":
                return browser.get(path, **auth)
            return browser.generic(operation.method, path, json.dumps({}), content_type="application/json", **auth)

        response = _isolated(send)
        problem = verdict(response.status_code, action is None or role_can(role, action))
        if problem:
            wrong.append(f"{role}: {problem}")
    assert not wrong, f"{operation.method} {operation.path} needs {action or 'membership'}:\n" + "\n".join(wrong)


def test_every_action_a_route_names_is_in_the_table():
    """A page or viewset naming an action that ACTIONS lacks would answer 500 (role_can raises): catch it here."""
    from csplatform.tenancy.permissions import ACTIONS

    named = {a for p in TENANT_PAGES for a in (*p.read_actions, p.write_action) if a}
    named |= {o.required_action for o in OPERATIONS if o.required_action}
    assert named <= set(ACTIONS), sorted(named - set(ACTIONS))
