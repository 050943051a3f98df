"""The client's address, as far as this deployment can know it."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT = n proxies the address the outermost of them saw.

    Each proxy appends the address it got the request from to X-Forwarded-For, so with n trusted proxies the
    client is the n-th entry from the right; anything further left was written by the client and proves nothing.
    None when there is no valid address (django-axes stores it in an IP address column).
    """
    candidate = request.META.get("REMOTE_ADDR") or ""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
