import drf_spectacular.openapi
from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from .api_input import is_whole_number_filter


class StrictFilterScheme(DjangoFilterExtension):
    """The filters as StrictFilterBackend reads them: a whole-number filter (an id, a year) is an integer."""

    target_class = "csplatform.tenancy.api_input.StrictFilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        if is_whole_number_filter(model, filter_field):
            for parameter in parameters:
                parameter["schema"] = {**parameter["schema"], "type": "integer"}
        return parameters


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the bearer token in the OpenAPI schema, so the docs page can send one."""

    target_class = "csplatform.tenancy.api_auth.ApiTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `manage.py create_api_token`; it decides the tenant and the user.",
        }


# Every API answer that is not the operation's own success, as the API really sends it, so that the schema is
# complete (schemathesis, tests/security/test_fuzz_api.py, checks each status code and body against it).
ERROR_DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# DRF's field errors: {"field": ["reason", ...], "non_field_errors": [...]}, nested for nested objects, and a
# list of those for a list body; a body that is not JSON gets {"detail": "JSON parse error - ..."}.
FIELD_ERRORS_SCHEMA = {
    "oneOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {}},
    ],
}
STANDARD_ERRORS = {
    "400": (FIELD_ERRORS_SCHEMA, "Invalid input: the reasons by field; nothing written"),
    "401": (ERROR_DETAIL_SCHEMA, "No token, or a malformed, unknown, revoked or expired one"),
    "403": (ERROR_DETAIL_SCHEMA, "The token's role may not do this"),
    "404": (ERROR_DETAIL_SCHEMA, "No such object in the token's workspace, or no such page of results"),
    "413": (ERROR_DETAIL_SCHEMA, "The body is over the size limit (DATA_UPLOAD_MAX_MEMORY_SIZE)"),
    "415": (ERROR_DETAIL_SCHEMA, "The body is not JSON (Content-Type application/json)"),
    "429": (ERROR_DETAIL_SCHEMA, "Too many requests; see Retry-After"),
}


class AutoSchema(drf_spectacular.openapi.AutoSchema):
    """drf-spectacular's schema, plus the error answers every operation can give (unless it declares its own)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                schema, description = STANDARD_ERRORS[code]
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(schema, description=description), code, direction=direction
                )
        return responses

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            # An empty filter (?due_before=) means "not filtered" (django-filter, our own query serializers), an
            # empty page number the first page (DRF).
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def _error_codes(self):
        codes = []
        query = {p["name"] for p in self._get_parameters() if p["in"] == "query"} - {"page"}
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_body or query:
            codes.append("400")
        if self.get_auth():
            codes += ["401", "403"]
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            codes.append("404")
        if has_body:
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # DRF drops allow_blank from read-only model fields, so a blank choice ('' = not set) would be missing
        # from the enum although the API returns it.
        if (isinstance(field, serializers.ChoiceField) and field.read_only and "enum" in schema
                and "" not in schema["enum"] and _model_field_allows_blank(field)):
            schema["enum"] = [*schema["enum"], ""]
        return schema


def _model_field_allows_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    try:
        return bool(model and model._meta.get_field(field.source).blank)
    except (FieldDoesNotExist, TypeError):
        return False
