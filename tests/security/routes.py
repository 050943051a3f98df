"""How the security tests fill in and call every route: which model each URL keyword takes, which query and body
parameters carry ids, plausible JSON bodies from the OpenAPI schema, and the short list of routes not probed.

The routes themselves come from csplatform.tenancy.routes (Django's resolver and the OpenAPI schema), so a new
route is probed without anyone remembering; a URL keyword or id parameter this file does not know fails loudly.
"""

import ast
import inspect
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone

from accounts.importing.files import Table
from accounts.importing.pending import pending_create
from csplatform.tenancy.routes import ApiOperation, Page, _module_tree, _top_level_functions, api_schema

TENANT_SLUG = "tenant_slug"


@dataclass(frozen=True)
class ImportUpload:
    """A pending upload (accounts.importing.pending) of this kind: the `token` of the import pages."""

    kind: str


@dataclass(frozen=True)
class SurveyLink:
    """The raw token of a survey invite: the `token` of the public survey page."""


# URL keyword -> the model whose id it takes. A dict when the name means different things in different URL
# namespaces (the first part of the route's name). Add a new keyword here and both security tests pick it up.
URL_KWARGS: dict[str, object] = {
    "account_id": "accounts.Account",
    "activity_id": "accounts.Activity",
    "contact_id": "accounts.Contact",
    "escalation_id": "accounts.Escalation",
    "run_id": "jobs.JobRun",
    "plan_id": {"plans": "success_plans.SuccessPlan", "compensation": "compensation.CompPlan"},
    "goal_id": "success_plans.Goal",
    "risk_id": "success_plans.Risk",
    "task_id": "success_plans.Task",
    "review_id": "success_plans.BusinessReview",
    "decision_id": "success_plans.Decision",
    "playbook_id": "success_plans.Playbook",
    "feedback_id": "success_plans.ProductFeedback",
    "doc_id": "success_plans.ProcessDoc",
    "pk": {"health": "health.Scorecard"},
    "renewal_id": "renewals.RenewalOpportunity",
    "reason_id": "renewals.ChurnReason",
    "target_id": "renewals.RetentionTarget",
    "expansion_id": "renewals.ExpansionOpportunity",
    "statement_id": "compensation.CompStatement",
    "assignment_id": "compensation.CompAssignment",
    "rule_id": {"compensation": "compensation.CompRule", "coverage": "insights.CoverageRule"},
    "report_id": "insights.MonthlyReport",
    "notification_id": "notifications.Notification",
    "token_id": "tenancy.ApiToken",
    "user_id": "tenancy.User",
    "token": {"accounts_import": ImportUpload("accounts"), "renewals": ImportUpload("contracts"),
              "": SurveyLink()},
}

# Pages that name their object in the query string instead of the path (a form started from an account).
OBJECT_QUERY = {
    "plans:create": {"account": "accounts.Account"},
    "reviews:new": {"account": "accounts.Account"},
    "programs:advocacy_new": {"account": "accounts.Account"},
}

# Query-string and form parameters that carry an id (pages read them from request.GET / request.POST).
PAGE_ID_PARAMS = {
    "account": "accounts.Account", "plan": "success_plans.SuccessPlan", "plan_id": "success_plans.SuccessPlan",
    "csm": "tenancy.User", "from_csm": "tenancy.User", "user": "tenancy.User",
    "assignment": "compensation.CompAssignment", "target": "renewals.RetentionTarget",
}
PAGE_OTHER_PARAMS = {"back", "confirm", "job", "kind", "month", "next", "page", "q", "saved", "status", "when", "year"}

# Integer fields of API bodies and query parameters that name another object.
API_ID_FIELDS = {
    "account": "accounts.Account", "account_id": "accounts.Account", "account_ids": "accounts.Account",
    "accounts": "accounts.Account", "parent": "accounts.Account", "contact": "accounts.Contact",
    "contacts": "accounts.Contact", "approved_by": "accounts.Contact", "validated_by": "accounts.Contact",
    "owner_contact": "accounts.Contact", "reports_to": "accounts.Contact", "segment": "accounts.Segment",
    "stage": "accounts.LifecycleStage", "plan": "success_plans.SuccessPlan", "goal": "success_plans.Goal",
    "review": "success_plans.BusinessReview", "reason": "renewals.ChurnReason",
    "csm": "tenancy.User", "owner": "tenancy.User", "escalated_to": "tenancy.User", "to_user": "tenancy.User",
    "users": "tenancy.User", "logged_by": "tenancy.User", "captured_by": "tenancy.User",
    "lead_source": "tenancy.User", "user": "tenancy.User",
}
API_PLAIN_INTEGERS = {"score"}  # unbounded integers in bodies that are not ids
API_ID_TYPES = {"integer", "number", "array"}  # a query parameter of these types must be classified
API_OTHER_QUERY = {"page", "year", "ordering", "q"}

# Routes no test requests, with the reason. Keep it short: everything else is probed.
NOT_PROBED = {
    "api-schema": "the OpenAPI schema: built from code, the same for every caller, no tenant data; a second of "
                  "CPU per request (rate limited)",
    "api-docs": "the Swagger page for the schema: static HTML, no tenant data",
    "admin/": "the Django admin: platform operators only (is_staff), outside every tenant; no tenant-owned model "
              "is registered in it (test_it_keeps_tenant_data_out_of_the_django_admin)",
}


class UnknownRouteParameter(LookupError):
    pass


def namespace_of(page: Page) -> str:
    return page.name.split(":")[0] if ":" in page.name else ""


def kwarg_target(page: Page, kwarg: str):
    """The model label (or ImportUpload / SurveyLink) a URL keyword of this page takes."""
    try:
        target = URL_KWARGS[kwarg]
    except KeyError:
        raise UnknownRouteParameter(
            f"{page.name} ({page.route}) has the URL keyword {kwarg!r}: add it to URL_KWARGS in "
            "tests/security/routes.py with the model whose id it takes") from None
    if isinstance(target, dict):
        try:
            return target[namespace_of(page)]
        except KeyError:
            raise UnknownRouteParameter(
                f"{page.name}: URL_KWARGS[{kwarg!r}] does not say which model it takes in the namespace "
                f"{namespace_of(page)!r}") from None
    return target


def object_kwargs(page: Page) -> tuple[str, ...]:
    return tuple(k for k in page.kwargs if k != TENANT_SLUG)


def names_object(page: Page) -> bool:
    return bool(object_kwargs(page)) or page.name in OBJECT_QUERY


def object_query(page: Page, *, world, user) -> str:
    """The query string naming the page's object, for the pages in OBJECT_QUERY ("" for the others)."""
    params = {name: world.owned_by(label, user).pk for name, label in OBJECT_QUERY.get(page.name, {}).items()}
    return f"?{urlencode(params)}" if params else ""


def import_upload(world, user, kind: str) -> str:
    """A pending upload of `kind` by this member of the world's tenant (its rows carry the world's marker)."""
    table = Table(headers=["name", "external_id"], rows=[[f"{world.marker}-upload", "upload-1"]], row_numbers=[2])
    pending = pending_create(tenant_id=world.tenant.pk, user_id=user.pk, kind=kind, filename="probe.csv",
                             table=table, mapping={})
    world.pending_tokens.append(pending.token)
    return pending.token


def fill_path(page: Page, *, slug: str, world, user) -> str:
    """The page's path under tenant `slug`, every object keyword filled from `world` (the row of `user` where
    the world keeps one per member, such as their statement)."""
    values = {}
    for kwarg in page.kwargs:
        if kwarg == TENANT_SLUG:
            values[kwarg] = slug
            continue
        target = kwarg_target(page, kwarg)
        if isinstance(target, ImportUpload):
            values[kwarg] = import_upload(world, user, target.kind)
        elif isinstance(target, SurveyLink):
            values[kwarg] = world.survey_token
        else:
            values[kwarg] = world.owned_by(target, user).pk
    path = page.route
    for kwarg, value in values.items():
        start = path.index("<")
        end = path.index(">", start)
        assert path[start:end].endswith(kwarg), (page.route, kwarg)
        path = f"{path[:start]}{value}{path[end + 1:]}"
    return "/" + path + object_query(page, world=world, user=user)


# --- parameters a page reads ------------------------------------------------------------------------------------


def _params_in(nodes, functions, seen) -> set[str]:
    found = set()
    for node in nodes:
        for child in ast.walk(node):
            # request.GET.get("x"), request.POST["x"], request.GET.getlist("x")
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.args:
                owner = child.func.value
                if (isinstance(owner, ast.Attribute) and owner.attr in ("GET", "POST")
                        and isinstance(child.args[0], ast.Constant) and isinstance(child.args[0].value, str)):
                    found.add(child.args[0].value)
            elif (isinstance(child, ast.Subscript) and isinstance(child.value, ast.Attribute)
                  and child.value.attr in ("GET", "POST") and isinstance(child.slice, ast.Constant)):
                found.add(child.slice.value)
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in functions
                  and child.func.id not in seen):
                seen.add(child.func.id)
                found |= _params_in(functions[child.func.id].body, functions, seen)
    return found


def page_params(page: Page) -> set[str]:
    """The request.GET / request.POST names a page's view (and its helpers in its module) reads."""
    func = inspect.unwrap(page.view)
    functions = _top_level_functions(_module_tree(func.__module__))
    node = functions.get(func.__name__)
    return _params_in(node.body, functions, {func.__name__}) if node is not None else set()


def page_id_params(page: Page) -> dict[str, str]:
    """The id-carrying parameters a page reads, with their model; an unclassified name fails loudly."""
    found = {}
    for name in sorted(page_params(page)):
        if name in PAGE_ID_PARAMS:
            found[name] = PAGE_ID_PARAMS[name]
        elif name not in PAGE_OTHER_PARAMS:
            raise UnknownRouteParameter(
                f"{page.name} reads the parameter {name!r}: add it to PAGE_ID_PARAMS (with its model) or "
                "PAGE_OTHER_PARAMS in tests/security/routes.py")
    return found


def foreign_form(world) -> dict:
    """A form body naming the other tenant's objects in every id field a page might read."""
    body = {name: str(world.owned_by(label, world.people["ops"]).pk) for name, label in PAGE_ID_PARAMS.items()}
    body.update({
        "account_ids": str(world.get("accounts.Account").pk), "contact": str(world.get("accounts.Contact").pk),
        "contacts": str(world.get("accounts.Contact").pk), "to_user": str(world.get("tenancy.User").pk),
        "users": str(world.get("tenancy.User").pk), "owner": str(world.get("tenancy.User").pk),
        "segment": str(world.get("accounts.Segment").pk), "stage": str(world.get("accounts.LifecycleStage").pk),
        "goal": str(world.get("success_plans.Goal").pk), "reason": str(world.get("renewals.ChurnReason").pk),
        "title": "probe", "name": "probe", "status": "done", "score": "3", "confirm": "1",
    })
    return body


# --- API ---------------------------------------------------------------------------------------------------------


def api_model_label(operation: ApiOperation) -> str:
    queryset = getattr(operation.view_class, "queryset", None)
    if queryset is None:
        raise UnknownRouteParameter(f"{operation.method} {operation.path}: the view has no queryset, so the tests "
                                    "cannot tell which model its {id} takes")
    return queryset.model._meta.label


def api_path(operation: ApiOperation, *, world, user) -> str:
    if not operation.has_object:
        return operation.path
    obj = world.owned_by(api_model_label(operation), user)
    return operation.path.replace("{id}", str(obj.pk))


def api_id_params(operation: ApiOperation) -> dict[str, str]:
    found = {}
    for name, kind in operation.query_parameters:
        if name in API_ID_FIELDS:
            found[name] = API_ID_FIELDS[name]
        elif kind in API_ID_TYPES and name not in API_OTHER_QUERY:
            raise UnknownRouteParameter(
                f"{operation.method} {operation.path} has the {kind} query parameter {name!r}: add it to "
                "API_ID_FIELDS (with its model) or API_OTHER_QUERY in tests/security/routes.py")
    return found


def _resolve(schema: dict) -> dict:
    components = api_schema()["components"]["schemas"]
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in schema and "type" not in schema:
            return _resolve(schema[combined][0])
    return schema


def _value(name: str, schema: dict, world, model_label: str, refs: list):
    schema = _resolve(schema)
    kind = schema.get("type")
    if kind == "array":
        return [_value(name, schema.get("items", {}), world, model_label, refs)]
    if kind == "object" or "properties" in schema:
        return _object(schema, world, model_label, refs)
    if kind in ("integer", "number") and name in API_ID_FIELDS:
        refs.append(name)
        return world.get(API_ID_FIELDS[name]).pk
    if kind == "integer" and "maximum" not in schema and name not in API_PLAIN_INTEGERS:
        raise UnknownRouteParameter(f"The API field {name!r} looks like an id (an integer without bounds): add it "
                                    "to API_ID_FIELDS (with its model) or API_PLAIN_INTEGERS in "
                                    "tests/security/routes.py")
    if "enum" in schema:
        return next(v for v in schema["enum"] if v not in (None, ""))
    if kind == "string":
        return _string(name, schema, world, model_label, refs)
    return {"integer": 1, "number": 1, "boolean": True}.get(kind, "probe")


def _string(name, schema, world, model_label, refs):
    today = timezone.localdate()
    if name == "account":  # an account's external id (CRM key)
        refs.append(name)
        return world.get("accounts.Account").external_id
    if name == "external_id" and hasattr(world.objects.get(model_label), "external_id"):
        refs.append(name)
        return world.get(model_label).external_id
    if name == "batch_id":
        refs.append(name)
        return world.get("health.UsageBatch").batch_id
    if name == "csm":  # a member's email
        refs.append(name)
        return world.get("tenancy.User").email
    return {
        "date": (today + timedelta(days=30)).isoformat(), "date-time": timezone.now().isoformat(),
        "decimal": "10.00", "email": "probe@example.test",
    }.get(schema.get("format"), "probe")


def _object(schema, world, model_label, refs) -> dict:
    return {name: _value(name, field, world, model_label, refs)
            for name, field in schema.get("properties", {}).items() if not _resolve(field).get("readOnly")
            and not field.get("readOnly")}


def api_foreign_body(operation: ApiOperation, world) -> tuple[object, list[str]]:
    """(a plausible JSON body for the operation naming `world`'s objects wherever it takes an id or a key, the
    names of those fields)."""
    operation_schema = api_schema()["paths"][operation.path][operation.method.lower()]
    content = operation_schema.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None, []
    refs: list[str] = []
    label = getattr(getattr(operation.view_class, "queryset", None), "model", None)
    body = _value("", schema, world, label._meta.label if label else "", refs)
    return body, refs
