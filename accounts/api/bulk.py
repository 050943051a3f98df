"""Bulk upsert of accounts by external id: validate every item first, then write all or nothing."""

from rest_framework import serializers

from accounts.models import Account, LifecycleStage, Segment
from accounts.permissions import account_writable, team_user_ids
from csplatform.tenancy.api_input import lookup_key
from csplatform.tenancy.models import Role, User

from .fields import LookupField
from .serializers import churn_date_rule

MAX_ITEMS = 1000


class BulkAccountSerializer(serializers.ModelSerializer):
    """One account of a bulk upsert. On update, the fields left out keep their current value."""

    external_id = serializers.CharField(max_length=64, help_text="The key: the account's id in the CRM")
    segment = LookupField(lookup="segments", noun="segment", help_text="Segment name")
    stage = LookupField(lookup="stages", noun="stage", help_text="Lifecycle stage name")
    csm = LookupField(
        lookup="members", noun="member with email", casefold=True, attr="email",
        help_text="Email of a member of this workspace",
    )

    class Meta:
        model = Account
        fields = [
            "external_id", "name", "domain", "industry", "region", "segment", "stage", "csm", "licensed_seats",
            "long_term_potential", "status", "churn_date",
        ]
        extra_kwargs = {"name": {"required": False, "help_text": "Required for a new account"}}

    def validate(self, attrs):
        existing = self.context["existing"].get(attrs["external_id"])
        if existing is None and not attrs.get("name"):
            raise serializers.ValidationError({"name": ["A new account needs a name."]})
        return churn_date_rule(attrs=attrs, instance=existing)


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


# "fields" cannot be a serializer field name (it is the serializer's own attribute), hence a raw schema.
ITEM_ERRORS_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer", "description": "Position of the item in the list sent"},
                    "external_id": {"type": "string", "nullable": True},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"anyOf": [
                            {"type": "array", "items": {"type": "string"}},
                            {"type": "object"},  # a nested object's own field errors
                            {"type": "array", "items": {"type": "object"}},  # per item of a nested list
                        ]},
                        "description": "Messages per field; non_field_errors for the item as a whole. A nested "
                                       "field (a contract's lines) has its own errors: per line, by field.",
                    },
                },
            },
        },
    },
}


def bulk_context(*, items: list, tenant) -> dict:
    """Everything the items name, loaded once; the existing accounts are locked until the request ends."""
    ids = {lookup_key(str(item["external_id"])) for item in items if isinstance(item, dict) and item.get("external_id")}
    ids.discard(None)
    return {
        "segments": {s.name: s for s in Segment.objects.all()},
        "stages": {s.name: s for s in LifecycleStage.objects.all()},
        "members": {u.email.casefold(): u for u in User.objects.filter(memberships__tenant=tenant)},
        "existing": {a.external_id: a for a in Account.objects.select_for_update().filter(external_id__in=ids)},
    }


def _external_id_of(item):
    key = item.get("external_id") if isinstance(item, dict) else None
    return key if isinstance(key, str) else None  # echo only what the schema says it is


def bulk_validate(*, items: list, context: dict) -> tuple[list[tuple[int, dict]], list[dict]]:
    """(index, row) of the valid items, and one error entry per invalid item."""
    rows, errors, seen = [], [], {}
    for index, item in enumerate(items):
        serializer = BulkAccountSerializer(data=item, context=context)
        if not serializer.is_valid():
            errors.append({"index": index, "external_id": _external_id_of(item), "fields": serializer.errors})
            continue
        row = serializer.validated_data
        key = row["external_id"]
        if key in seen:
            message = f"Also at index {seen[key]}: send each account once per batch."
            errors.append({"index": index, "external_id": key, "fields": {"external_id": [message]}})
            continue
        seen[key] = index
        rows.append((index, row))
    return rows, errors


def bulk_forbidden(*, rows: list[tuple[int, dict]], existing: dict, membership) -> list[dict]:
    """The existing accounts this member may not edit (creating one needs only the role, as on the pages)."""
    team = team_user_ids(membership) if membership.role == Role.MANAGER else None
    forbidden = []
    for index, row in rows:
        account = existing.get(row["external_id"])
        if account is not None and not account_writable(membership, account, "accounts.edit", team_ids=team):
            forbidden.append({
                "index": index, "external_id": row["external_id"],
                "fields": {"non_field_errors": ["This account belongs to a CSM outside your team."]},
            })
    return forbidden
