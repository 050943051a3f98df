"""Related fields that resolve ids and names inside the current tenant only."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.models import User


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """An id of the current tenant's `model`; another tenant's id reads as one that does not exist.

    The queryset is built per request (not at import), so it is always scoped to the token's tenant.
    """

    default_error_messages = {"does_not_exist": "No {model} with id {pk_value} in this workspace."}

    def __init__(self, *, model=None, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.all()

    def fail(self, key, **kwargs):
        if key == "does_not_exist":
            kwargs["model"] = self.model._meta.verbose_name
        super().fail(key, **kwargs)


class MemberField(serializers.PrimaryKeyRelatedField):
    """A user id that must belong to a member of the current tenant (CSMs, owners, escalation targets)."""

    default_error_messages = {"does_not_exist": "User {pk_value} is not a member of this workspace."}

    def get_queryset(self):
        return User.objects.filter(memberships__tenant=current_tenant())


@extend_schema_field(OpenApiTypes.STR)
class LookupField(serializers.Field):
    """A segment or stage by name, or a member by email, resolved from a map the view loaded once.

    Bulk imports name things the way the CRM does; one query per item would be 1000 queries.
    """

    def __init__(self, *, lookup: str, noun: str, casefold: bool = False, attr: str = "name", **kwargs):
        self.lookup, self.noun, self.casefold, self.attr = lookup, noun, casefold, attr
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"Give the {self.noun} as a string.")
        key = data.strip()
        if not key:
            return None
        try:
            return self.context[self.lookup][key.casefold() if self.casefold else key]
        except KeyError:
            raise serializers.ValidationError(f"No {self.noun} {key!r} in this workspace.") from None

    def to_representation(self, value):
        return getattr(value, self.attr)
