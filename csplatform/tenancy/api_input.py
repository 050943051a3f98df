"""What the API accepts as input: JSON bodies of a bounded size, and query filters of the declared type.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE makes Django raise RequestDataTooBig when DRF reads it, which Django
would answer with its HTML "Bad Request (400)" page: the API answers 413 with the limit instead. django-filter
ignores a boolean filter it cannot read (`?open=maybe` lists everything) and reads a whole-number filter as a
decimal (`?year=0.5` lists nothing): both are a 400 with the reason here, as every other bad filter is. A time
filter is compared in UTC: PostgreSQL refuses a UTC offset beyond 15:59 that Python reads (`+17:47`, a 500).
"""

from datetime import UTC

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, RequestDataTooBig
from django.db import models
from django_filters.fields import IsoDateTimeField
from django_filters.filters import BaseCSVFilter, BooleanFilter, IsoDateTimeFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def exception_handler(exc, context):
    """DRF's exception handler, with a body over the size limit answered 413 (JSON) with the limit."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestBodyTooLarge(f"The request body is over {limit:,} bytes, the limit. Send fewer items per "
                                  "request.")
    return drf_exception_handler(exc, context)


class StrictBooleanField(forms.Field):
    """true/false (or 1/0, any case); empty means "not filtered"; anything else is an error."""

    widget = forms.TextInput
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError("Use true or false.", code="invalid") from None


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time with its offset, as the same moment in UTC."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Out of range.", code="invalid") from None


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend: boolean and whole-number filters refuse what they cannot read, times are UTC."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for filter_ in filterset.filters.values():  # the filterset's own copies
                if isinstance(filter_, BooleanFilter):
                    filter_.field_class = StrictBooleanField
                    filter_.extra.pop("widget", None)
                elif is_whole_number_filter(filterset._meta.model, filter_):
                    filter_.field_class = forms.IntegerField
                elif isinstance(filter_, IsoDateTimeFilter):
                    filter_.field_class = UtcIsoDateTimeField
                else:
                    continue
                # The form field is built once and cached on the filter, and the copy may carry the cached one.
                vars(filter_).pop("_field", None)
        return filterset


def is_whole_number_filter(model, filter_) -> bool:
    """A number filter (not a list of them) on an integer column or a foreign key."""
    if not isinstance(filter_, NumberFilter) or isinstance(filter_, BaseCSVFilter) or not filter_.field_name:
        return False
    try:
        field = get_model_field(model, filter_.field_name)
    except FieldDoesNotExist:
        return False
    field = getattr(field, "target_field", None) or field  # a foreign key holds its target's id
    return isinstance(field, models.IntegerField)


def lookup_key(value) -> str | None:
    """A sent value as a key to look rows up by (an external id, an email) before the items are validated.

    None for anything but a non-blank string, and for a string with a NUL character, which PostgreSQL refuses
    in a query (a 500); the item's own validation then says what is wrong with it.
    """
    if not isinstance(value, str) or "\x00" in value:
        return None
    return value.strip() or None
