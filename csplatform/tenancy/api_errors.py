"""Django's 404 page, as JSON under /api/: an API client gets JSON from every URL it can send.

DRF answers errors inside its views; this covers a path that no route matches (`/api/v1/accounts/1.5/`), so it
never reaches one. Pages keep Django's HTML. (handler500 is csplatform.errors.server_error.)
"""

from django.http import JsonResponse
from django.views import defaults

from .middleware import API_PATH


def not_found(request, exception):
    if API_PATH.match(request.path_info):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
