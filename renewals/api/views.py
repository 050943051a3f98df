"""The renewals API: contracts (read, bulk upsert for CRM sync), renewals (read, edit, close), expansions (read,
flag, move) and forecast snapshots (read). Another tenant's ids are not found (404)."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.api.bulk import ITEM_ERRORS_SCHEMA
from accounts.api.filters import tenant_accounts
from accounts.api.serializers import Conflict, as_drf_error
from accounts.api.views import NOT_YOURS, AccountWritable
from accounts.models import Segment
from accounts.permissions import account_writable
from csplatform.tenancy.permissions import ActionPermission

from .. import services
from ..models import Contract, ExpansionOpportunity, ForecastSnapshot, RenewalOpportunity
from .serializers import (
    MAX_CONTRACTS,
    BulkContractResultSerializer,
    ContractInSerializer,
    ContractSerializer,
    ExpansionMoveSerializer,
    ExpansionSerializer,
    ForecastSnapshotSerializer,
    RenewalCloseSerializer,
    RenewalSerializer,
    contract_context,
    contract_fields,
    contract_unchanged,
)


def _bad(detail: str) -> Response:
    return Response({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)


class _RollBack(Exception):
    pass


# --- filters --------------------------------------------------------------------------------------


class ContractFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    external_id = django_filters.CharFilter()
    ends_after = django_filters.DateFilter(field_name="end_date", lookup_expr="gte", help_text="Ends on or after")
    ends_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lte", help_text="Ends on or before")

    class Meta:
        model = Contract
        fields = ["account", "external_id", "status", "ends_after", "ends_before"]


class RenewalFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    owner = django_filters.NumberFilter(field_name="owner_id", help_text="User id of the owner")
    open = django_filters.BooleanFilter(method="by_open", help_text="true: open renewals only; false: closed ones")
    close_after = django_filters.DateFilter(field_name="close_date", lookup_expr="gte",
                                            help_text="Close date on or after")
    close_before = django_filters.DateFilter(field_name="close_date", lookup_expr="lte",
                                             help_text="Close date on or before")

    class Meta:
        model = RenewalOpportunity
        fields = ["account", "owner", "stage", "category", "outcome", "open", "close_after", "close_before"]

    def by_open(self, queryset, name, value):
        closed = RenewalOpportunity.Stage.CLOSED
        return queryset.exclude(stage=closed) if value else queryset.filter(stage=closed)


class ExpansionFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    lead_source = django_filters.NumberFilter(field_name="lead_source_id", help_text="User id of who flagged it")
    open = django_filters.BooleanFilter(method="by_open", help_text="true: open only; false: won or lost")

    class Meta:
        model = ExpansionOpportunity
        fields = ["account", "kind", "stage", "lead_source", "open"]

    def by_open(self, queryset, name, value):
        open_stages = ExpansionOpportunity.OPEN_STAGES
        return queryset.filter(stage__in=open_stages) if value else queryset.exclude(stage__in=open_stages)


def tenant_segments(request):
    return Segment.objects.all()


class ForecastSnapshotFilter(django_filters.FilterSet):
    day = django_filters.DateFilter(help_text="Default: the latest day the forecast ran")
    period_start = django_filters.DateFilter(help_text="First day of the close-date month or quarter")
    csm = django_filters.NumberFilter(field_name="csm_id", help_text="User id of the CSM")
    segment = django_filters.ModelChoiceFilter(queryset=tenant_segments)

    class Meta:
        model = ForecastSnapshot
        fields = ["day", "period_kind", "period_start", "csm", "segment"]


# --- contracts ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Contracts with their lines", description="Newest start first."),
    retrieve=extend_schema(summary="One contract with its lines"),
)
class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contracts (subscription terms). An account's ARR on a day is the sum of its contracts counting that day."""

    permission_classes = [ActionPermission]
    required_actions = {"list": "renewals.view", "retrieve": "renewals.view", "metadata": "renewals.view",
                        "create": "contracts.edit"}
    serializer_class = ContractSerializer
    filterset_class = ContractFilter
    queryset = Contract.dangerously_unscoped.none()  # for schema introspection only; see get_queryset

    def get_queryset(self):
        return Contract.objects.select_related("account").prefetch_related("lines").order_by("-start_date", "-id")

    @extend_schema(
        summary=f"Create or update up to {MAX_CONTRACTS} contracts by external id, all or nothing",
        description=(
            "For CRM sync: a JSON list of contracts keyed by `external_id`, each with its `lines` (which replace "
            "the current lines); the account by external id (`account`) or id (`account_id`). Every item is "
            "validated first: if any is invalid nothing is written and the answer lists the errors by index. "
            "Contracts sent as they already are are not written (`unchanged`). Renewals of these contracts "
            "follow their ARR and end "
            "date while open, and the accounts' ARR is refreshed. Needs contracts.edit (ops, admin)."
        ),
        request=ContractInSerializer(many=True),
        responses={
            200: BulkContractResultSerializer,
            400: OpenApiResponse(ITEM_ERRORS_SCHEMA, description="Invalid items; nothing written"),
            409: OpenApiResponse(description="A concurrent request created the same contracts; send it again"),
        },
    )
    def create(self, request, *args, **kwargs):
        items = request.data
        if not isinstance(items, list):
            return _bad("Send a JSON list of contracts.")
        if not items:
            return _bad("The list is empty: send at least one contract.")
        if len(items) > MAX_CONTRACTS:
            return _bad(f"At most {MAX_CONTRACTS} contracts per request; this one has {len(items)}.")
        errors: list[dict] = []
        created = updated = unchanged = 0
        try:
            with transaction.atomic():
                context = contract_context(items)
                rows = self._validate(items, context, errors)
                if errors:
                    raise _RollBack
                for index, row in rows:
                    fields = contract_fields(row)
                    if contract_unchanged(row, fields):
                        unchanged += 1
                        continue
                    try:
                        services.contract_save(account=row["account"], contract=row["existing"], lines=row["lines"],
                                               **fields)
                    except DjangoValidationError as error:
                        errors.append({"index": index, "external_id": row["external_id"],
                                       "fields": as_drf_error(error).detail})
                        continue
                    created += row["existing"] is None
                    updated += row["existing"] is not None
                if errors:
                    raise _RollBack
        except _RollBack:
            return Response({"detail": "Nothing was written.", "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        except IntegrityError:
            raise Conflict("Some of these contracts were created meanwhile by another request; send them again.") \
                from None
        return Response({"created": created, "updated": updated, "unchanged": unchanged})

    @staticmethod
    def _validate(items: list, context: dict, errors: list) -> list[tuple[int, dict]]:
        rows, seen = [], {}
        for index, item in enumerate(items):
            key = item.get("external_id") if isinstance(item, dict) else None
            key = key if isinstance(key, str) else None  # echo only what the schema says it is
            if not isinstance(item, dict):
                errors.append({"index": index, "external_id": None,
                               "fields": {"non_field_errors": ["Send each contract as a JSON object."]}})
                continue
            serializer = ContractInSerializer(data=item, context=context)
            if not serializer.is_valid():
                errors.append({"index": index, "external_id": key, "fields": serializer.errors})
                continue
            row = serializer.validated_data
            key = row["external_id"]
            if key in seen:
                errors.append({"index": index, "external_id": key, "fields": {
                    "external_id": [f"Also at index {seen[key]}: send each contract once per request."]}})
                continue
            seen[key] = index
            rows.append((index, row))
        return rows


# --- renewals -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Renewal opportunities", description="By close date, oldest first."),
    retrieve=extend_schema(summary="One renewal opportunity"),
    partial_update=extend_schema(
        summary="Edit an open renewal",
        description="Stage (not closed), category, expected_arr and close_date. Needs renewals.edit on the "
                    "renewal's account (a CSM on their own accounts, a manager on their team's)."),
)
class RenewalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                     viewsets.GenericViewSet):
    """Renewal opportunities, one per contract term, opened by the nightly job before the contract ends."""

    permission_classes = [ActionPermission, AccountWritable]
    required_actions = {"list": "renewals.view", "retrieve": "renewals.view", "metadata": "renewals.view",
                        "update": "renewals.edit", "partial_update": "renewals.edit", "close": "renewals.edit"}
    http_method_names = ["get", "patch", "post", "head", "options"]
    serializer_class = RenewalSerializer
    filterset_class = RenewalFilter
    queryset = RenewalOpportunity.dangerously_unscoped.none()

    def get_queryset(self):
        return RenewalOpportunity.objects.select_related("account").order_by("close_date", "id")

    def account_of(self, obj):
        return obj.account

    @extend_schema(
        summary="Close a renewal with its outcome",
        description="Renewed flat (the same ARR), with expansion (more), downsell (less, more than 0) or churned "
                    "(0). Churn and downsell need a reason from the workspace's active list. A renewal starts the "
                    "next term as a new contract. Nothing is written when the outcome is refused.",
        request=RenewalCloseSerializer,
        responses={200: RenewalSerializer, 400: OpenApiResponse(description="Field errors; nothing written")},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def close(self, request, pk=None):
        renewal = self.get_object()
        serializer = RenewalCloseSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            renewal = services.renewal_close(renewal=renewal, **serializer.validated_data)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        return Response(RenewalSerializer(renewal, context=self.get_serializer_context()).data)


# --- expansions -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Expansion opportunities (upsell, cross-sell)"),
    retrieve=extend_schema(summary="One expansion opportunity"),
    create=extend_schema(summary="Flag an expansion",
                         description="The token's user is its lead source; the account's CSM owns it. Needs "
                                     "expansions.flag on the account."),
    partial_update=extend_schema(
        summary="Move an expansion's stage", request=ExpansionMoveSerializer, responses=ExpansionMoveSerializer,
        description="Also amount and expected_close while open. Won adds its ARR as a contract co-terminous with "
                    "the account's current one; won and lost expansions do not move again."),
)
class ExpansionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Upsell and cross-sell opportunities and who found them."""

    permission_classes = [ActionPermission, AccountWritable]
    required_actions = {"list": "renewals.view", "retrieve": "renewals.view", "metadata": "renewals.view",
                        "create": "expansions.flag", "update": "expansions.flag", "partial_update": "expansions.flag"}
    http_method_names = ["get", "patch", "post", "head", "options"]
    filterset_class = ExpansionFilter
    queryset = ExpansionOpportunity.dangerously_unscoped.none()

    def get_queryset(self):
        return ExpansionOpportunity.objects.select_related("account").order_by("expected_close", "id")

    def get_serializer_class(self):
        return ExpansionMoveSerializer if self.action == "partial_update" else ExpansionSerializer

    def account_of(self, obj):
        return obj.account

    def perform_create(self, serializer):
        if not account_writable(self.request.membership, serializer.validated_data["account"], "expansions.flag"):
            raise PermissionDenied(NOT_YOURS)
        serializer.save()


# --- forecast -------------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(
    summary="Forecast snapshots",
    description="What the nightly forecast wrote per day, close-date period (month or quarter), CSM and segment "
                "(a null CSM or segment is the renewals without one). Without `day`, the latest day it ran."))
class ForecastSnapshotViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    required_actions = {"*": "forecast.view"}
    serializer_class = ForecastSnapshotSerializer
    filterset_class = ForecastSnapshotFilter
    queryset = ForecastSnapshot.dangerously_unscoped.none()

    def get_queryset(self):
        rows = ForecastSnapshot.objects.order_by("day", "period_kind", "period_start", "csm_id", "segment_id", "id")
        if self.action == "list" and "day" not in self.request.query_params:
            latest = ForecastSnapshot.objects.aggregate(latest=Max("day"))["latest"]
            rows = rows.filter(day=latest) if latest else rows.none()
        return rows
