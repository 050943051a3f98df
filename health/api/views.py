"""Support tickets, survey responses and health scores. Usage ingestion has its own module (usage.py):
it is the one path where per-event overhead matters."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.api.bulk import ITEM_ERRORS_SCHEMA
from accounts.api.serializers import Conflict
from csplatform.tenancy.permissions import ActionPermission

from .. import services
from ..models import HealthScore, Measure, SupportTicket, SurveyResponse
from . import filters
from .serializers import (
    MAX_ITEMS,
    HealthScoreSerializer,
    SurveyResponseInSerializer,
    SurveyResponseSerializer,
    TicketInSerializer,
    TicketSerializer,
    UpsertResultSerializer,
    measure_ids_of,
    survey_context,
    ticket_context,
)

SIGNAL_ACTIONS = {"list": "health.view", "retrieve": "health.view", "metadata": "health.view",
                  "create": "signals.ingest"}


def _bad(detail: str) -> Response:
    return Response({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)


def _one_or_many(serializer_class, name: str):
    return PolymorphicProxySerializer(component_name=name, serializers=[serializer_class, serializer_class(many=True)],
                                      resource_type_field_name=None, many=False)


class SignalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and read a signal; POST one item (an object) or up to MAX_ITEMS (a list), all or nothing."""

    permission_classes = [ActionPermission]
    parser_classes = [JSONParser]
    required_actions = SIGNAL_ACTIONS
    in_serializer_class = None
    noun = "items"

    def load_context(self, items: list) -> dict:
        raise NotImplementedError

    def write(self, rows: list[dict]) -> list:
        """Writes the validated rows and returns the saved objects (with their ids)."""
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        data = request.data
        many = isinstance(data, list)
        if not many and not isinstance(data, dict):
            return _bad(f"Send one of the {self.noun} as a JSON object, or a JSON list of them.")
        items = data if many else [data]
        if not items:
            return _bad(f"The list is empty: send at least one of the {self.noun}.")
        if len(items) > MAX_ITEMS:
            return _bad(f"At most {MAX_ITEMS} {self.noun} per request; this one has {len(items)}.")
        try:
            with transaction.atomic():
                context = self.load_context(items)
                rows, errors = self._validate(items, context)
                if errors:
                    if not many:
                        return Response(errors[0]["fields"], status=status.HTTP_400_BAD_REQUEST)
                    return Response({"detail": "Nothing was written.", "errors": errors},
                                    status=status.HTTP_400_BAD_REQUEST)
                saved = self.write(rows)
        except IntegrityError:
            # Another request recorded the same external ids after we looked them up.
            raise Conflict(f"Some of these {self.noun} were recorded meanwhile by another request; "
                           "send them again.") from None
        created = sum(1 for row in rows if row["created"])
        if many:
            return Response({"received": len(rows), "created": created, "updated": len(rows) - created})
        instance = self.get_queryset().get(pk=saved[0].pk)
        return Response(self.get_serializer(instance).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _validate(self, items: list, context: dict) -> tuple[list[dict], list[dict]]:
        rows, errors, seen = [], [], {}
        for index, item in enumerate(items):
            serializer = self.in_serializer_class(data=item, context=context)
            key = item.get("external_id") if isinstance(item, dict) else None
            key = key if isinstance(key, str) else None  # echo only what the schema says it is
            if not serializer.is_valid():
                errors.append({"index": index, "external_id": key, "fields": serializer.errors})
                continue
            row = serializer.validated_data
            key = row.get("external_id")
            if key and key in seen:
                errors.append({"index": index, "external_id": key, "fields": {
                    "external_id": [f"Also at index {seen[key]}: send each one once per request."]}})
                continue
            if key:
                seen[key] = index
            rows.append(row)
        return rows, errors


def _create_schema(*, in_serializer, out_serializer, name: str, description: str):
    return extend_schema(
        summary=f"Record one or a list of up to {MAX_ITEMS} {name}, all or nothing",
        description=description,
        request=_one_or_many(in_serializer, f"{in_serializer.__name__.removesuffix('Serializer')}OneOrMany"),
        responses={
            201: OpenApiResponse(out_serializer, description="One object sent, and it was new"),
            200: OpenApiResponse(PolymorphicProxySerializer(
                component_name=f"{out_serializer.__name__.removesuffix('Serializer')}Upserted",
                serializers=[out_serializer, UpsertResultSerializer], resource_type_field_name=None, many=False),
                description="One object sent and it updated an existing one (the object), or a list was sent "
                            "(the counts)"),
            400: OpenApiResponse(ITEM_ERRORS_SCHEMA, description="Invalid; nothing written. For one object the "
                                 "field errors, for a list the errors by index"),
            409: OpenApiResponse(description="A concurrent request recorded the same external ids; send again"),
        },
    )


@extend_schema_view(
    list=extend_schema(summary="Support tickets", description="Newest first. `open=true` for open tickets only."),
    create=_create_schema(
        in_serializer=TicketInSerializer, out_serializer=TicketSerializer, name="support tickets",
        description=(
            "Creates or updates tickets by `external_id` (the helpdesk's id). On update, fields left out keep "
            "their value: close a ticket by sending its `external_id` with `closed_at`. Open high and urgent "
            "tickets feed the open priority tickets measure; the accounts touched are rescored within a "
            "minute. Needs signals.ingest (ops, admin)."
        ),
    ),
)
class SupportTicketViewSet(SignalViewSet):
    """Support tickets from the helpdesk, one row per ticket, keyed by the helpdesk's id."""

    serializer_class = TicketSerializer
    filterset_class = filters.TicketFilter
    in_serializer_class = TicketInSerializer
    noun = "tickets"
    queryset = SupportTicket.dangerously_unscoped.none()  # for schema introspection only; see get_queryset

    def get_queryset(self):
        return SupportTicket.objects.select_related("account").order_by("-opened_at", "-id")

    def load_context(self, items):
        return ticket_context(items)

    def write(self, rows):
        tickets = [row["ticket"] for row in rows]
        services.tickets_upsert(tickets=tickets)
        return tickets


@extend_schema_view(
    list=extend_schema(summary="NPS and CSAT survey responses", description="Newest first."),
    create=_create_schema(
        in_serializer=SurveyResponseInSerializer, out_serializer=SurveyResponseSerializer, name="survey responses",
        description=(
            "Records NPS (0-10) or CSAT (1-5) answers from your survey tool. The contact (by `contact_id` or "
            "`contact_email`) must be a contact of the account. With an `external_id`, sending the answer again "
            "updates it instead of adding a second one. The accounts touched are rescored within a minute. "
            "Needs signals.ingest (ops, admin)."
        ),
    ),
)
class SurveyResponseViewSet(SignalViewSet):
    """NPS and CSAT answers, from emailed survey links (source link) or from the API (source api)."""

    serializer_class = SurveyResponseSerializer
    filterset_class = filters.SurveyResponseFilter
    in_serializer_class = SurveyResponseInSerializer
    noun = "survey responses"
    queryset = SurveyResponse.dangerously_unscoped.none()

    def get_queryset(self):
        return SurveyResponse.objects.select_related("account", "contact").order_by("-responded_at", "-id")

    def load_context(self, items):
        return survey_context(items)

    def write(self, rows):
        responses = [row["response"] for row in rows]
        services.survey_responses_record(responses=responses)
        return responses


@extend_schema_view(
    list=extend_schema(
        summary="Health scores, explained",
        description=(
            "One row per account and day. Without `day`, `since` or `until`, the latest day computed. Each "
            "score lists its measures (`components`): raw value, 0-100 score and weight; a measure without "
            "data (raw null) was left out and the other weights renormalised."
        ),
    ),
    retrieve=extend_schema(summary="One account's health score on one day, explained"),
)
class HealthScoreViewSet(viewsets.ReadOnlyModelViewSet):
    """Health scores as the nightly recompute (and the within-a-minute refresh) wrote them."""

    permission_classes = [ActionPermission]
    required_actions = {"*": "health.view"}
    serializer_class = HealthScoreSerializer
    filterset_class = filters.HealthScoreFilter
    queryset = HealthScore.dangerously_unscoped.none()

    def get_queryset(self):
        scores = HealthScore.objects.select_related("account").order_by("account__name", "account_id", "-day")
        if self.action == "list" and not {"day", "since", "until"} & set(self.request.query_params):
            latest = HealthScore.objects.aggregate(latest=Max("day"))["latest"]
            scores = scores.filter(day=latest) if latest else scores.none()
        return scores

    def get_serializer(self, *args, **kwargs):
        if args:
            # The measure names of the whole page in one query, not one per row.
            scores = args[0] if kwargs.get("many") else [args[0]]
            kwargs["context"] = {**self.get_serializer_context(),
                                 "measures": Measure.objects.in_bulk(measure_ids_of(scores))}
        return super().get_serializer(*args, **kwargs)
