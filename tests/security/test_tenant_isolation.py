"""Tenant isolation on every route: a member of tenant B asks for tenant A's objects everywhere and gets nothing.

Every page comes from Django's URL resolver and every API operation from the OpenAPI schema (tests/security/
routes.py), so a new route is probed without anyone remembering. Tenant A (alpha) holds one row of every
tenant-owned model, its text marked ALPHA-SECRET-<n> (tests/security/world.py). As an admin of tenant B (bravo),
whose role passes every permission check so roles never hide the answer, each route is requested under B's own
slug and with B's API token, every URL keyword filled with A's ids, for every method the route accepts:

- a route that names an object answers 404;
- a route that names none answers (200 for a page or a list; 400/404 when its body names A's objects);
- no response contains an ALPHA-SECRET marker, tenant A's rows are unchanged afterwards, and no row of B points
  at a row of A.
"""

import json as json_module
from urllib.parse import urlencode

import pytest
from django.contrib import admin

from csplatform.tenancy.models import Role
from csplatform.tenancy.registry import tenant_owned_models
from csplatform.tenancy.routes import api_operations, api_url_name, api_url_names, pages

from .routes import (
    NOT_PROBED,
    api_foreign_body,
    api_id_params,
    api_path,
    fill_path,
    foreign_form,
    kwarg_target,
    names_object,
    object_kwargs,
    page_id_params,
)
from .world import (
    foreign_references,
    models_without_rows,
    module_client,
    module_world,
    tenant_fingerprint,
    tenant_ids,
    tenant_rows,
)

MARKER = "ALPHA-SECRET"
PROBE_ROLE = Role.ADMIN  # passes every permission check but comp.totals (an executive's view of the same data)
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")

PROBED_PAGES = [p for p in pages() if p.name not in NOT_PROBED]
PROBED_OPERATIONS = list(api_operations())


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker):
    for built in module_world(django_db_blocker, slug="alpha", marker=MARKER, also=(("bravo", "BRAVO-OWN"),)):
        alpha = built["alpha"]
        built["alpha_rows"] = tenant_rows(alpha.tenant)
        built["alpha_fingerprint"] = tenant_fingerprint(alpha.tenant)
        built["alpha_ids"] = tenant_ids(alpha.tenant)
        built["bravo_token"] = built["bravo"].api_tokens[PROBE_ROLE]
        yield built


@pytest.fixture(scope="module")
def browser():
    return module_client()


class Probe:
    """Sends the requests of one route as B and collects what went wrong."""

    def __init__(self, client, worlds):
        self.client, self.worlds, self.problems = client, worlds, []
        self.methods_sent = set()
        self.alpha, self.bravo = worlds["alpha"], worlds["bravo"]

    def send(self, method, path, *, data=None, json=None, headers=None, query=None):
        if query:
            path = f"{path}{'&' if '?' in path else '?'}{urlencode(query)}"
        extra = headers or {}
        self.methods_sent.add(method)
        if method == "GET":
            response = self.client.get(path, **extra)
        elif json is not None:
            response = self.client.generic(method, path, json_module.dumps(json), content_type="application/json",
                                           **extra)
        else:
            response = self.client.generic(method, path, urlencode(data or {}, doseq=True),
                                           content_type="application/x-www-form-urlencoded", **extra)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if MARKER.lower().encode() in body.lower():
            self.problems.append(f"{method} {path}: the answer ({response.status_code}) shows tenant A's data")
        return response

    def expect(self, response, allowed, what):
        if response.status_code not in allowed:
            request = response.wsgi_request
            self.problems.append(f"{request.method} {request.get_full_path()}: {response.status_code}, expected "
                                 f"{' or '.join(map(str, sorted(allowed)))} ({what})")

    def finish(self):
        alpha = self.alpha.tenant
        if tenant_fingerprint(alpha) != self.worlds["alpha_fingerprint"]:
            now, before = tenant_rows(alpha), self.worlds["alpha_rows"]
            changed = sorted(label for label in before if now.get(label) != before[label])
            self.problems.append(f"tenant A's rows changed: {', '.join(changed)}")
        wrote = self.methods_sent - {"GET"}
        linked = foreign_references(self.bravo.tenant, self.worlds["alpha_ids"]) if wrote else []
        if linked:
            self.problems.append(f"rows of B now point at rows of A: {', '.join(linked)}")
        assert not self.problems, "\n".join(self.problems)


@pytest.mark.parametrize("page", PROBED_PAGES, ids=lambda p: p.name)
def test_it_shows_a_member_of_b_nothing_of_tenant_a_on_any_page(page, worlds, browser, db):
    probe = Probe(browser, worlds)
    probe.bravo.log_in(browser, PROBE_ROLE)
    alpha_user = probe.alpha.people[Role.CSM]
    path = fill_path(page, slug="bravo", world=probe.alpha, user=alpha_user)
    for method in page.methods:  # every method the page accepts, a body naming A's objects where one is sent
        response = probe.send(method, path, data=foreign_form(probe.alpha) if method in BODY_METHODS else None)
        if names_object(page):
            probe.expect(response, {404}, "another tenant's object")
        elif method == "GET":
            probe.expect(response, {200, 302}, "a page of B's own")
        else:
            probe.expect(response, {200, 302, 400, 403, 404, 405, 409}, "a form naming A's objects")
    for name, label in page_id_params(page).items():  # ?account=<A's id> and the like
        method = "GET" if "GET" in page.methods else page.methods[0]
        value = str(probe.alpha.owned_by(label, alpha_user).pk)
        if method == "GET":
            response = probe.send(method, path, query={name: value})
        else:
            response = probe.send(method, path, data={**foreign_form(probe.alpha), name: value})
        probe.expect(response, {200, 302, 400, 403, 404}, f"the parameter {name} naming A's object")
    if names_object(page) and "GET" in page.methods:  # a CSM of B too, where the "whose account" rule applies
        probe.bravo.log_in(browser, Role.CSM)
        probe.expect(probe.send("GET", path), {403, 404}, "another tenant's object, asked by a CSM")
    if page.is_tenant_page:  # A's own slug: B is no member there
        a_path = fill_path(page, slug="alpha", world=probe.alpha, user=alpha_user)
        probe.expect(probe.send(page.methods[0], a_path), {404}, "a tenant B is no member of")
    probe.finish()


@pytest.mark.parametrize("operation", PROBED_OPERATIONS, ids=lambda o: f"{o.method} {o.path}")
def test_it_shows_a_token_of_b_nothing_of_tenant_a_in_any_api_operation(operation, worlds, browser, db):
    probe = Probe(browser, worlds)
    browser.cookies.clear()  # the token alone says who asks
    auth = {"HTTP_AUTHORIZATION": f"Bearer {worlds['bravo_token']}"}
    path = api_path(operation, world=probe.alpha, user=probe.alpha.people[Role.CSM])
    body, refs = api_foreign_body(operation, probe.alpha) if operation.method in BODY_METHODS else (None, [])
    response = probe.send(operation.method, path, json=body if body is not None else None,
                          data=None, headers=auth)
    if operation.has_object:
        probe.expect(response, {404}, "another tenant's object")
    elif operation.method == "GET":
        probe.expect(response, {200}, "a list of B's own")
    elif refs:
        probe.expect(response, {400, 404}, f"a body naming A's objects in {', '.join(sorted(set(refs)))}")
    else:
        probe.expect(response, {200, 201, 202, 400}, "a body naming nothing of A")
    if operation.method == "GET" and operation.has_object:  # a CSM's token of B too
        csm_auth = {"HTTP_AUTHORIZATION": f"Bearer {probe.bravo.api_tokens[Role.CSM]}"}
        probe.expect(probe.send("GET", path, headers=csm_auth), {403, 404}, "another tenant's object, asked by a CSM")
    if operation.method == "GET" and not operation.has_object:
        for name, label in api_id_params(operation).items():
            value = probe.alpha.get(label).pk
            response = probe.send("GET", path, headers=auth, query={name: value})
            probe.expect(response, {200, 400, 404}, f"the filter {name} naming A's object")
    probe.finish()


def test_it_probes_every_route_or_says_why_not():
    names = {p.name for p in pages()}
    stale = [name for name in NOT_PROBED if name not in names and name != "admin/"]
    assert not stale, f"NOT_PROBED names routes that no longer exist: {stale}"
    assert len(NOT_PROBED) <= 5, "the list of routes not probed is meant to stay short"
    assert {p.name for p in PROBED_PAGES} | set(NOT_PROBED) >= names
    missing = api_url_names() - {api_url_name(o) for o in PROBED_OPERATIONS}
    assert not missing, f"API routes missing from the OpenAPI schema, so never probed: {sorted(missing)}"
    for page in PROBED_PAGES:  # each fails loudly on a URL keyword or parameter tests/security/routes.py lacks
        for kwarg in object_kwargs(page):
            kwarg_target(page, kwarg)
        page_id_params(page)
    for operation in PROBED_OPERATIONS:
        api_id_params(operation)


def test_it_seeds_tenant_a_with_a_row_of_every_tenant_owned_model(worlds, db):
    assert models_without_rows(worlds["alpha"]) == []


def test_it_keeps_tenant_data_out_of_the_django_admin():
    registered = set(admin.site._registry) & set(tenant_owned_models())
    assert not registered, f"tenant-owned models in the Django admin (outside every tenant): {registered}"
