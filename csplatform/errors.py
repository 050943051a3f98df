"""The answer when a request fails with an unhandled exception (handler500, DEBUG off).

A lost or refused database connection (PostgreSQL restarting, failing over, too many clients) is temporary:
the client gets 503 with Retry-After instead of 500, as JSON under /api/ and as a plain page elsewhere. Neither
says more than that, and neither touches the database (the page is rendered without context processors,
which would read the session and the user). The next request opens a new connection: CONN_HEALTH_CHECKS
discards a kept one that died (settings, docs/reliability.md).
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as page_server_error
from rest_framework.exceptions import server_error as api_server_error

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def server_error(request, *args, **kwargs):
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return api_server_error(request) if _is_api(request) else page_server_error(request)


def database_unavailable(request):
    if _is_api(request):
        response = JsonResponse({"detail": "The service is briefly unavailable: please try again shortly."},
                                status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
