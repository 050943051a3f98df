from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from accounts import selectors
from accounts.filters import AccountFilter
from accounts.models import Account, Activity, Contact, Escalation
from accounts.permissions import account_writable
from accounts.services import accounts_bulk_upsert
from csplatform.tenancy.permissions import ActionPermission

from . import bulk
from .filters import ActivityFilter, ContactFilter, EscalationFilter
from .serializers import (
    AccountSerializer,
    ActivitySerializer,
    ContactSerializer,
    EscalationSerializer,
    EscalationUpdateSerializer,
)

NOT_YOURS = "You may not change this account: it belongs to a CSM outside your book or team."


def actions_for(*, write: str, **extra) -> dict:
    return {
        "list": "accounts.view", "retrieve": "accounts.view", "metadata": "accounts.view",
        "create": write, "update": write, "partial_update": write, **extra,
    }


class AccountWritable(BasePermission):
    """Writes on an existing object also need the object rule on its account (accounts.permissions)."""

    message = NOT_YOURS

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return account_writable(request.membership, view.account_of(obj), view.required_actions[view.action])


class AccountScopedViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    # List, retrieve, create and update; no delete. Another tenant's ids are simply not found (404).
    permission_classes = [ActionPermission, AccountWritable]
    required_actions: dict[str, str] = {}

    def account_of(self, obj) -> Account:
        return obj.account

    def account_to_create(self, validated_data) -> Account | None:
        return validated_data["account"]

    def perform_create(self, serializer):
        account = self.account_to_create(serializer.validated_data)
        if account is not None and not account_writable(
            self.request.membership, account, self.required_actions["create"]
        ):
            raise PermissionDenied(NOT_YOURS)
        serializer.save()


@extend_schema_view(
    list=extend_schema(summary="Accounts of the token's workspace"),
    create=extend_schema(summary="Create an account"),
)
class AccountViewSet(AccountScopedViewSet):
    """Customer accounts. Editing needs accounts.edit, and a manager edits only their team's accounts."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    required_actions = actions_for(write="accounts.edit", bulk_upsert="accounts.edit")
    queryset = Account.dangerously_unscoped.none()  # for schema introspection only; see get_queryset

    def get_queryset(self):
        return selectors.accounts_for_list().order_by("name", "id")

    def account_of(self, obj):
        return obj

    def account_to_create(self, validated_data):
        return None  # as on the pages, creating an account needs only accounts.edit, whoever its CSM

    @extend_schema(
        summary="Create or update accounts by external id, all or nothing",
        description=(
            f"A JSON list of at most {bulk.MAX_ITEMS} accounts keyed by `external_id`; segment and stage by name, "
            "CSM by email. Every item is validated first: if any is invalid nothing is written and the answer "
            "lists the errors by index. Fields left out of an item keep their current value on update."
        ),
        request=bulk.BulkAccountSerializer(many=True),
        responses={
            200: bulk.BulkResultSerializer,
            400: OpenApiResponse(bulk.ITEM_ERRORS_SCHEMA, description="Invalid items; nothing written"),
            403: OpenApiResponse(bulk.ITEM_ERRORS_SCHEMA, description="Accounts you may not edit; nothing written"),
            409: OpenApiResponse(description="A concurrent import created the same accounts; send it again"),
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk-upsert", parser_classes=[JSONParser])
    def bulk_upsert(self, request):
        items = request.data
        if not isinstance(items, list):
            return Response({"detail": "Send a JSON list of accounts."}, status=status.HTTP_400_BAD_REQUEST)
        if len(items) > bulk.MAX_ITEMS:
            return Response(
                {"detail": f"At most {bulk.MAX_ITEMS} accounts per request; this one has {len(items)}."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        with transaction.atomic():
            context = bulk.bulk_context(items=items, tenant=request.tenant)
            rows, errors = bulk.bulk_validate(items=items, context=context)
            if errors:
                return Response(
                    {"detail": "Nothing was written.", "errors": errors}, status=status.HTTP_400_BAD_REQUEST
                )
            forbidden = bulk.bulk_forbidden(rows=rows, existing=context["existing"], membership=request.membership)
            if forbidden:
                return Response(
                    {"detail": "Nothing was written.", "errors": forbidden}, status=status.HTTP_403_FORBIDDEN
                )
            try:
                created, updated = accounts_bulk_upsert(rows=[row for _, row in rows], existing=context["existing"])
            except IntegrityError:
                # Another request created some of these external ids after we looked them up.
                return Response(
                    {"detail": "Some of these accounts were created meanwhile; send the batch again."},
                    status=status.HTTP_409_CONFLICT,
                )
        return Response({"created": created, "updated": updated})


class ContactViewSet(AccountScopedViewSet):
    """Stakeholders at an account. Writes need contacts.edit on the contact's account."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    required_actions = actions_for(write="contacts.edit")
    queryset = Contact.dangerously_unscoped.none()

    def get_queryset(self):
        return Contact.objects.select_related("account").order_by("name", "id")


class ActivityViewSet(AccountScopedViewSet):
    """An account's timeline. Logging one (activities.log on its account) moves the account's last touch
    and the contacts' last engagement forward."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    required_actions = actions_for(write="activities.log")
    queryset = Activity.dangerously_unscoped.none()

    def get_queryset(self):
        return Activity.objects.select_related("account").prefetch_related("contacts")


@extend_schema_view(
    partial_update=extend_schema(
        summary="Edit an escalation or move its status",
        description="A new `status` is recorded in the trail (with `note`); `resolved` needs a `resolution`. "
        "409 when someone else moved it first.",
    )
)
class EscalationViewSet(AccountScopedViewSet):
    """Escalations and their status trail. Writes need escalations.manage on the escalation's account."""

    filterset_class = EscalationFilter
    required_actions = actions_for(write="escalations.manage")
    queryset = Escalation.dangerously_unscoped.none()

    def get_queryset(self):
        return Escalation.objects.select_related("account").prefetch_related("events")

    def get_serializer_class(self):
        return EscalationUpdateSerializer if self.action in ("update", "partial_update") else EscalationSerializer
