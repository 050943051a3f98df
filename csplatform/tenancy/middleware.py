import hmac
import re

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, JsonResponse
from django.utils import timezone

from .context import tenant_context
from .models import ApiToken, Membership, hash_token

TENANT_PATH = re.compile(r"^/t/(?P<slug>[-a-zA-Z0-9_]+)/")
API_PATH = re.compile(r"^/api/v\d+/")
TOKEN_FORMAT = re.compile(r"^csp_(?P<key_id>[0-9a-f]{12})_[A-Za-z0-9_-]{20,100}$")


class TenantPathMiddleware:
    """Pages under /t/<slug>/: the slug is checked against the user's memberships.

    A tenant that does not exist and one the user is not a member of answer the same 404.
    The rest of the request runs inside `tenant_context`, i.e. in one transaction with the
    PostgreSQL tenant setting applied.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = TENANT_PATH.match(request.path_info)
        if not match:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = (
            Membership.objects.select_related("tenant", "user")
            .filter(user=request.user, tenant__slug=match["slug"], tenant__is_active=True)
            .first()
        )
        if membership is None:
            raise Http404("No such workspace")
        request.tenant = membership.tenant
        request.membership = membership
        with tenant_context(membership.tenant):
            return self.get_response(request)


def _unauthorized(reason: str) -> JsonResponse:
    response = JsonResponse({"detail": reason}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


class ApiTokenMiddleware:
    """API requests: a bearer token names the tenant and the user; nothing else can.

    A malformed, unknown, revoked or expired token, or one whose user has left the tenant, gets a 401
    that says which. Without an Authorization header the API views answer 401 themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.headers.get("Authorization")
        if not API_PATH.match(request.path_info) or not header:
            return self.get_response(request)
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return _unauthorized("Use 'Authorization: Bearer <token>'.")
        raw = raw.strip()
        match = TOKEN_FORMAT.match(raw)
        if not match:
            return _unauthorized("Malformed token.")
        token = (
            ApiToken.objects.select_related("tenant", "user")
            .filter(key_id=match["key_id"], tenant__is_active=True, user__is_active=True)
            .first()
        )
        if token is None or not hmac.compare_digest(token.key_hash, hash_token(raw)):
            return _unauthorized("Invalid token.")
        now = timezone.now()
        if not token.is_usable(now):
            return _unauthorized("Token revoked or expired.")
        membership = Membership.objects.filter(user=token.user, tenant=token.tenant).first()
        if membership is None:
            return _unauthorized("The token's user is no longer a member of its tenant.")
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.api_token = token
        request.api_user = token.user
        request.tenant = token.tenant
        request.membership = membership
        with tenant_context(token.tenant):
            return self.get_response(request)
