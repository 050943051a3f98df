"""Serializers of the renewals API: contracts (read, and the items of the bulk upsert), renewals (read, edit,
close), expansions (read, flag, move) and forecast snapshots (read).

The bulk upsert names accounts by external id (`account`) or id (`account_id`); the view loads every account
and existing contract a request names in one query each and passes them in the context."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.fields import TenantRelatedField
from accounts.api.serializers import as_drf_error
from accounts.models import Account
from csplatform.tenancy.api_input import lookup_key
from health.api.serializers import AccountReferenceSerializer, account_context

from .. import services
from ..models import ChurnReason, Contract, ContractLine, ExpansionOpportunity, ForecastSnapshot, RenewalOpportunity

MAX_CONTRACTS = 1000
CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_LINES = 200
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


# --- contracts ------------------------------------------------------------------------------------


class ContractLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractLine
        fields = ["product", "quantity", "unit_price", "arr"]


class ContractSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id", read_only=True)
    lines = ContractLineSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "external_id", "account", "account_external_id", "name", "start_date", "end_date",
                  "auto_renew", "status", "cancelled_on", "arr", "renewal_of", "lines", "created_at", "updated_at"]
        read_only_fields = fields


class ContractLineInSerializer(serializers.Serializer):
    product = serializers.CharField(max_length=120)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, default=1)
    unit_price = serializers.DecimalField(**MONEY, required=False, help_text="Annual price per unit")
    arr = serializers.DecimalField(**MONEY, required=False, help_text="The line's ARR; default quantity x unit_price")

    def validate(self, attrs):
        if attrs.get("unit_price") is None and attrs.get("arr") is None:
            raise serializers.ValidationError({"arr": ["Give the line's arr or its unit_price."]})
        return attrs


class ContractInSerializer(AccountReferenceSerializer):
    """One contract of a bulk upsert, keyed by `external_id`; its lines replace the current ones. On update, the
    optional fields left out keep their current value."""

    external_id = serializers.CharField(max_length=64, help_text="The contract's id in the CRM: the key")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    auto_renew = serializers.BooleanField(required=False, help_text="Default false")
    status = serializers.ChoiceField(choices=Contract.Status.choices, required=False, help_text="Default active")
    cancelled_on = serializers.DateField(required=False, allow_null=True,
                                         help_text="With status cancelled: the day it stops counting")
    lines = ContractLineInSerializer(many=True, allow_empty=False, max_length=MAX_LINES)

    def validate(self, attrs):
        account = self.resolve_account(attrs, required=True)
        existing = self.context["contracts"].get(attrs["external_id"])
        if existing is not None and existing.account_id != account.pk:
            raise serializers.ValidationError({"account": [
                f"Contract {attrs['external_id']} belongs to another account; a contract cannot move."]})
        status = attrs.get("status", existing.status if existing else Contract.Status.ACTIVE)
        cancelled_on = attrs.get("cancelled_on", existing.cancelled_on if existing else None)
        if status == Contract.Status.ACTIVE:
            if "cancelled_on" in attrs and cancelled_on is not None:
                raise serializers.ValidationError({"cancelled_on": ["Only a cancelled contract has one."]})
            cancelled_on = None
        elif cancelled_on is None:
            raise serializers.ValidationError({"cancelled_on": ["A cancelled contract needs the day it stops."]})
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": ["The contract ends before it starts."]})
        attrs.update(account=account, existing=existing, status=status, cancelled_on=cancelled_on)
        return attrs


def contract_context(items: list) -> dict:
    """The accounts the items name, and the existing contracts by external id, locked until the request ends."""
    keys = {lookup_key(item.get("external_id")) for item in items if isinstance(item, dict)} - {None}
    existing = (Contract.objects.select_for_update().filter(external_id__in=keys).prefetch_related("lines")
                if keys else [])
    return {**account_context(items), "contracts": {c.external_id: c for c in existing}}


def contract_fields(row: dict) -> dict:
    """The contract_save arguments of a validated item (fields left out of an update keep their value)."""
    existing = row["existing"]
    fields = {"external_id": row["external_id"], "start_date": row["start_date"], "end_date": row["end_date"],
              "status": row["status"], "cancelled_on": row["cancelled_on"]}
    for name, default in (("name", ""), ("auto_renew", False)):
        fields[name] = row.get(name, getattr(existing, name) if existing else default)
    return fields


def contract_unchanged(row: dict, fields: dict) -> bool:
    """Whether saving this item would leave its contract as it is (a CRM sync resends most contracts as they
    were: those cost one comparison instead of a save)."""
    existing = row["existing"]
    if existing is None or any(getattr(existing, name) != value for name, value in fields.items()):
        return False
    now = [(line.product, line.quantity, line.unit_price, line.arr) for line in existing.lines.all()]
    sent = []
    for line in row["lines"]:
        quantity, unit_price = line.get("quantity", Decimal("1")), line.get("unit_price")
        arr = line.get("arr")
        if arr is None:
            arr = (Decimal(quantity) * unit_price).quantize(CENT)
        sent.append((line["product"], Decimal(quantity), unit_price or ZERO, arr))
    return now == sent


class BulkContractResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Sent as they already were: not written")


# --- renewals -------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ChurnReasonField(TenantRelatedField):
    def __init__(self, **kwargs):
        super().__init__(model=ChurnReason, **kwargs)


class RenewalSerializer(serializers.ModelSerializer):
    """A renewal. PATCH sets stage, category, expected_arr and close_date of an open renewal (closing it is
    POST .../close/)."""

    class Meta:
        model = RenewalOpportunity
        fields = ["id", "account", "contract", "owner", "stage", "category", "current_arr", "expected_arr",
                  "close_date", "outcome", "renewed_arr", "reason", "reason_comment", "closed_on", "created_at",
                  "updated_at"]
        read_only_fields = ["account", "contract", "owner", "current_arr", "outcome", "renewed_arr", "reason",
                            "reason_comment", "closed_on", "created_at", "updated_at"]
        extra_kwargs = {"stage": {"help_text": "Not 'closed': close with POST .../close/"}}

    def update(self, instance, validated_data):
        try:
            return services.renewal_update(renewal=instance, **validated_data)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error


class RenewalCloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=RenewalOpportunity.Outcome.choices)
    renewed_arr = serializers.DecimalField(**MONEY, required=False, allow_null=True,
                                           help_text="Default: the current ARR for a flat renewal, 0 for a churn")
    reason = ChurnReasonField(required=False, allow_null=True,
                              help_text="Id of an active churn reason; required for churn and downsell")
    reason_comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    closed_on = serializers.DateField(required=False, allow_null=True, help_text="Default today")

    def validate_reason(self, value):
        if value is not None and not value.is_active:
            raise serializers.ValidationError(f"{value.name} is no longer an active reason.")
        return value


# --- expansions -----------------------------------------------------------------------------------


class ExpansionSerializer(serializers.ModelSerializer):
    """An upsell or cross-sell. POST flags one (the token's user is its lead source); PATCH moves its stage
    (won adds its ARR as a contract co-terminous with the account's current one)."""

    account = TenantRelatedField(model=Account, help_text="Set when flagged; an expansion cannot move")

    class Meta:
        model = ExpansionOpportunity
        fields = ["id", "account", "kind", "product", "amount", "stage", "expected_close", "closed_on", "lead_source",
                  "owner", "notes", "external_id", "created_at", "updated_at"]
        read_only_fields = ["stage", "closed_on", "lead_source", "owner", "external_id", "created_at", "updated_at"]

    def create(self, validated_data):
        try:
            return services.expansion_flag(by=self.context["request"].user, **validated_data)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error


class ExpansionMoveSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    closed_on = serializers.DateField(required=False, allow_null=True, help_text="When won or lost; default today")

    class Meta:
        model = ExpansionOpportunity
        fields = ExpansionSerializer.Meta.fields
        read_only_fields = ["kind", "product", "notes", "lead_source", "owner", "external_id", "created_at",
                            "updated_at"]

    def update(self, instance, validated_data):
        try:
            return services.expansion_move(expansion=instance, stage=validated_data.get("stage", instance.stage),
                                           closed_on=validated_data.get("closed_on"),
                                           amount=validated_data.get("amount"),
                                           expected_close=validated_data.get("expected_close"))
        except DjangoValidationError as error:
            raise as_drf_error(error) from error


# --- forecast -------------------------------------------------------------------------------------


class ForecastSnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForecastSnapshot
        fields = ["id", "day", "period_kind", "period_start", "csm", "segment", "renewals", "arr_up", "committed",
                  "best_case", "pipeline", "at_risk", "expected_churn", "expected_contraction", "expected_expansion",
                  "renewed"]
        read_only_fields = fields
