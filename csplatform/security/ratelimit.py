"""Fixed-window rate limits counted in Django's cache (Redis in production, so every web process agrees)."""

import math
import time
from functools import wraps

from django.core.cache import cache
from django.http import HttpResponse

from .network import client_ip


def _now() -> float:
    return time.time()


def hit(scope: str, ident: str, *, limit: int, window_seconds: int, store=None) -> int | None:
    """Counts one request of `ident`; None while within `limit` per window, else seconds until the window ends.

    Windows are aligned to the clock, so the processes sharing the cache agree on them without storing when a
    window began, and the answer is the exact Retry-After. (A burst straddling two windows may get up to twice
    the limit: acceptable for slowing down guessing and scraping.) `store`: a cache other than the default.
    """
    store = cache if store is None else store
    now = _now()
    window = int(now // window_seconds)
    key = f"ratelimit:{scope}:{ident}:{window}"
    store.add(key, 0, timeout=window_seconds + 5)
    try:
        count = store.incr(key)
    except ValueError:  # evicted between add and incr
        store.add(key, 1, timeout=window_seconds + 5)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * window_seconds - now))


def too_many_requests(retry_after: int, body: str = "Too many requests: please wait and try again.") -> HttpResponse:
    response = HttpResponse(body, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(scope: str, *, limit: int, window_seconds: int):
    """Per client address: a view over the limit answers 429 with Retry-After instead of running."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            retry_after = hit(scope, client_ip(request) or "unknown", limit=limit, window_seconds=window_seconds)
            if retry_after is not None:
                return too_many_requests(retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
