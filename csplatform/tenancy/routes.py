"""Every page and API operation of the deployment, with the action each one requires.

Pages come from Django's URL resolver, API operations from the OpenAPI schema (drf-spectacular), so a new route
is listed here without anyone remembering. `manage.py render_permissions` renders them into docs/permissions.md;
tests/security probes each one (tenant isolation, role x action).
"""

import ast
import inspect
import sys
import textwrap
from dataclasses import dataclass, field
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.permissions import SAFE_METHODS

from .permissions import ACTIONS, ActionPermission

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # what the tests send; HEAD and OPTIONS follow GET
HTTP_METHODS = frozenset({*ALL_METHODS, "HEAD", "OPTIONS", "TRACE", "CONNECT"})
TENANT_PREFIX = "t/<slug:tenant_slug>/"
API_PREFIX = "api/v1/"
# Calls that apply the "whose account" rule (accounts.permissions.account_writable) with an action.
OWNERSHIP_CALLS = {"account_writable", "require_writable"}


@dataclass(frozen=True)
class Page:
    """One URL pattern outside the API."""

    name: str  # "namespace:name"
    route: str  # "t/<slug:tenant_slug>/accounts/<int:account_id>/"
    kwargs: tuple[str, ...]  # the URL's keyword arguments, tenant_slug included
    methods: tuple[str, ...]  # what the view accepts (require_http_methods); all five when unrestricted
    view: object = field(compare=False, repr=False)

    @property
    def is_tenant_page(self) -> bool:
        return self.route.startswith(TENANT_PREFIX)

    @property
    def read_actions(self) -> tuple[str, ...]:
        """Any one of these lets a role read the page (tenant_page); empty for pages outside /t/<slug>/."""
        return tuple(getattr(self.view, "required_actions", ()))

    @property
    def write_action(self) -> str | None:
        return getattr(self.view, "write_action", None)

    def actions_for(self, method: str) -> tuple[str, ...]:
        if self.write_action and method not in SAFE_METHODS:
            return (self.write_action,)
        return self.read_actions


@dataclass(frozen=True)
class ApiOperation:
    """One operation of the OpenAPI schema, with the DRF view behind it."""

    path: str  # "/api/v1/accounts/{id}/"
    method: str
    operation_id: str
    view_class: type = field(compare=False, repr=False)
    drf_action: str  # "retrieve", "approve", ... (the HTTP method, lower case, for function views)
    query_parameters: tuple[tuple[str, str], ...] = ()  # (name, schema type)

    @property
    def required_action(self) -> str | None:
        """The action ActionPermission checks; None when the view only needs a member (IsTenantMember)."""
        if ActionPermission not in self._permission_classes():
            return None
        actions = getattr(self.view_class, "required_actions", {})
        return actions.get(self.drf_action) or actions.get("*")

    def _permission_classes(self):
        return list(getattr(self.view_class, "permission_classes", []))

    @property
    def has_object(self) -> bool:
        return "{" in self.path


def _route_text(pattern) -> str:
    return str(pattern.pattern)


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else (
                entry.namespace or namespace)
            yield from _walk(entry.url_patterns, prefix + _route_text(entry), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + _route_text(entry), namespace, entry


def allowed_methods(view) -> tuple[str, ...]:
    """The methods a view accepts: a class-based view's handlers, or a function view's
    django.views.decorators.http.require_http_methods (all five when it has none)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return tuple(m for m in ALL_METHODS if m.lower() in view_class.http_method_names
                     and hasattr(view_class, m.lower()))
    func = view
    while func is not None:
        for cell in getattr(func, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if isinstance(value, list | tuple) and value and all(m in HTTP_METHODS for m in value):
                return tuple(m for m in ALL_METHODS if m in value)
        func = getattr(func, "__wrapped__", None)
    return ALL_METHODS


@cache
def pages() -> tuple[Page, ...]:
    """Every URL pattern outside /api/v1/ and the Django admin, in URLconf order."""
    found = []
    for route, namespace, pattern in _walk(get_resolver().url_patterns):
        if route.startswith((API_PREFIX, "admin/")):
            continue
        kwargs = tuple(_full_regex_groups(route))
        name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or route)
        found.append(Page(name=name, route=route, kwargs=kwargs, methods=allowed_methods(pattern.callback),
                          view=pattern.callback))
    return tuple(found)


def _full_regex_groups(route: str) -> list[str]:
    """The <converter:name> parts of a path() route, in order."""
    names = []
    for part in route.split("<")[1:]:
        inside = part.split(">", 1)[0]
        names.append(inside.split(":")[-1])
    return names


@cache
def api_url_names() -> frozenset[str]:
    """The names of the API's URL patterns in the resolver, to check that the schema shows every one."""
    return frozenset(pattern.name for route, _namespace, pattern in _walk(get_resolver().url_patterns)
                     if route.startswith(API_PREFIX))


def _sample_path(path: str) -> str:
    return path.replace("{id}", "1").replace("{pk}", "1")


@cache
def api_schema() -> dict:
    """The OpenAPI schema as /api/schema/ serves it (built once per process: it takes a second)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@cache
def api_operations() -> tuple[ApiOperation, ...]:
    """Every operation of the OpenAPI schema, each with its view class and DRF action."""
    found = []
    for path, operations in api_schema()["paths"].items():
        match = resolve(_sample_path(path))
        view_class = getattr(match.func, "cls", None)
        actions = getattr(match.func, "actions", None) or {}
        for method, operation in operations.items():
            if method.upper() not in ALL_METHODS:
                continue
            query = tuple((p["name"], p.get("schema", {}).get("type", "")) for p in operation.get("parameters", [])
                          if p["in"] == "query")
            found.append(ApiOperation(path=path, method=method.upper(), operation_id=operation["operationId"],
                                      view_class=view_class, drf_action=actions.get(method, method),
                                      query_parameters=query))
    return tuple(found)


def api_url_name(operation: ApiOperation) -> str:
    return resolve(_sample_path(operation.path)).url_name


# --- what a view checks besides its decorator ----------------------------------------------------------------

PROJECT_PACKAGES = ("accounts", "success_plans", "health", "renewals", "compensation", "insights", "csplatform")


@cache
def _module_tree(module_name: str):
    return ast.parse(textwrap.dedent(inspect.getsource(sys.modules[module_name])))


def _top_level_functions(tree) -> dict[str, ast.AST]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _action_literals(nodes, functions, seen) -> set[str]:
    """ACTIONS names written in these nodes and in the module's functions they call (transitively)."""
    found = set()
    for node in nodes:
        for child in ast.walk(node):
            if isinstance(child, ast.Constant) and isinstance(child.value, str) and child.value in ACTIONS:
                found.add(child.value)
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in functions
                  and child.func.id not in seen):
                seen.add(child.func.id)
                found |= _action_literals(functions[child.func.id].body, functions, seen)
    return found


def inline_actions(view) -> set[str]:
    """Actions a page's view reads itself, beyond its decorator's: finer rules or which buttons to show.

    Read from the source of the view and of the helpers it calls in its own module."""
    func = inspect.unwrap(view)
    functions = _top_level_functions(_module_tree(func.__module__))
    node = functions.get(func.__name__)
    found = _action_literals(node.body, functions, {func.__name__}) if node is not None else set()
    return found - set(getattr(view, "required_actions", ())) - {getattr(view, "write_action", None)}


def api_inline_actions(view_class) -> set[str]:
    """The same for a DRF view: its class body (required_actions left out) and its project bases'."""
    found = set()
    for klass in inspect.getmro(view_class):
        if klass.__module__.split(".")[0] not in PROJECT_PACKAGES:
            continue
        tree = _module_tree(klass.__module__)
        functions = _top_level_functions(tree)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == klass.__name__:
                body = [n for n in node.body if not (isinstance(n, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "required_actions" for t in n.targets))]
                found |= _action_literals(body, functions, set())
    return found


def _project_files():
    from django.conf import settings

    for package in PROJECT_PACKAGES:
        for path in sorted((settings.BASE_DIR / package).rglob("*.py")):
            if not {"migrations", "management", "tests"} & set(path.parts):
                yield path


def _calls_ownership(node) -> bool:
    return any(isinstance(c, ast.Call) and _callee_name(c) in OWNERSHIP_CALLS for c in ast.walk(node))


def _callee_name(call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


@cache
def ownership_actions() -> frozenset[str]:
    """The actions the "whose account" rule (accounts.permissions.account_writable) is applied with.

    Read from the code: the action given to account_writable / require_writable, the actions listed in a
    function that passes a variable to them, and `action="..."` handed to such a function."""
    found = set()
    for path in _project_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        forwarding = {name for name, node in functions.items() if _calls_ownership(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _callee_name(node)
            literals = [a.value for a in [*node.args, *(k.value for k in node.keywords)]
                        if isinstance(a, ast.Constant) and a.value in ACTIONS]
            if name in OWNERSHIP_CALLS:
                found.update(literals)
            elif name in forwarding:
                found.update(k.value.value for k in node.keywords if k.arg == "action"
                             and isinstance(k.value, ast.Constant) and k.value.value in ACTIONS)
        for name in forwarding:
            calls = [c for c in ast.walk(functions[name])
                     if isinstance(c, ast.Call) and _callee_name(c) in OWNERSHIP_CALLS]
            if any(not any(isinstance(a, ast.Constant) for a in c.args[2:3]) for c in calls):
                found |= _action_literals([functions[name]], {}, set())
    return frozenset(found)
