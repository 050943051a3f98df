"""POST /api/v1/usage-events/: a batch of up to 10,000 product usage events, accepted whole or rejected whole.

This path is built for throughput: the body is read and parsed once, the batch is keyed by a hash of the
raw bytes, and the events are checked in one pass by health.ingest (no serializer per event).
"""

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from csplatform.tenancy.permissions import ActionPermission

from .. import ingest
from .serializers import USAGE_ERRORS_SCHEMA, UsageBatchResultSerializer, UsageBatchSerializer

# 10,000 events of long names and ids stay under this. Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is not
# raised for the whole site: this view reads the stream itself, with its own limit.
MAX_BODY_BYTES = 8 * 1024 * 1024

DESCRIPTION = f"""
Sends product usage events; they are rolled up per account and day (events, quantity, distinct active users,
distinct features).

**Accepted whole or rejected whole.** Every event is checked first. If any is invalid, nothing is written and
the answer (400) lists the errors by index (the first 200) with the number of invalid events; fix them and send
the batch again.

**Deduplicated by `batch_id`.** A batch id is your key for the batch. Sending the same batch again (the same
request body, byte for byte, e.g. a retry after a timeout) answers 200 with `duplicate: true` and counts
nothing. The same `batch_id` with different events answers 409: use a new batch id for new events. Active
users and features are counted distinctly per account and day across batches.

**Limits.** At most {ingest.MAX_EVENTS:,} events and {MAX_BODY_BYTES // (1024 * 1024)} MB per request.
`occurred_at` needs a UTC offset and may be at most an hour in the future. An account is named by its external
id (`account`) or id (`account_id`) in this workspace.

**Freshness.** The health scores of the accounts touched are recomputed within a minute.

Needs signals.ingest (ops, admin).
""".strip()


def _bad(detail: str, code=status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": detail}, status=code)


class UsageEventViewSet(viewsets.ViewSet):
    permission_classes = [ActionPermission]
    required_actions = {"create": "signals.ingest"}
    parser_classes = [JSONParser]  # documents the media type; the body is parsed below, once

    @extend_schema(
        summary=f"Send a batch of up to {ingest.MAX_EVENTS:,} usage events, all or nothing",
        description=DESCRIPTION,
        request=UsageBatchSerializer,
        responses={
            201: OpenApiResponse(UsageBatchResultSerializer, description="Accepted and counted"),
            200: OpenApiResponse(UsageBatchResultSerializer, description="A repeat of a batch already received; "
                                 "nothing counted"),
            400: OpenApiResponse(USAGE_ERRORS_SCHEMA, description="Rejected whole; nothing written"),
            409: OpenApiResponse(description="This batch id was used before with different events"),
            413: OpenApiResponse(description="The request body is too large"),
        },
    )
    def create(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return _bad(f"The body is over {MAX_BODY_BYTES // (1024 * 1024)} MB: send smaller batches.",
                        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        stream = request.stream
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_BODY_BYTES:
            return _bad(f"The body is over {MAX_BODY_BYTES // (1024 * 1024)} MB: send smaller batches.",
                        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        try:
            payload = json.loads(body)
        except ValueError as error:
            return _bad(f"The body is not JSON: {error}.")
        if not isinstance(payload, dict):
            return _bad('Send a JSON object: {"batch_id": "...", "events": [...]}.')
        try:
            # The body holds the batch id and every event: the same bytes are the same batch.
            result = ingest.usage_batch_ingest(batch_id=payload.get("batch_id"), events=payload.get("events"),
                                               digest=ingest.digest_of(body), source="api")
        except ingest.BatchRejected as rejected:
            per_event = any(error["index"] is not None for error in rejected.errors)
            why = f"{rejected.total} invalid event(s)" if per_event else rejected.errors[0]["error"]
            return Response({"detail": f"The batch was rejected whole ({why}); nothing was written.",
                             "errors": rejected.errors, "invalid_events": rejected.total if per_event else 0},
                            status=status.HTTP_400_BAD_REQUEST)
        except ingest.BatchKeyReused as reused:
            return Response({"detail": str(reused)}, status=status.HTTP_409_CONFLICT)
        return Response({"batch_id": result.batch_id, "accepted": result.accepted, "accounts": result.accounts,
                         "days": result.days, "duplicate": result.duplicate},
                        status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED)
