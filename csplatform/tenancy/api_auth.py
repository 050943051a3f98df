from rest_framework.authentication import BaseAuthentication


class ApiTokenAuthentication(BaseAuthentication):
    """Hands DRF what `ApiTokenMiddleware` already checked (the middleware also set the tenant)."""

    def authenticate(self, request):
        token = getattr(request._request, "api_token", None)
        if token is None:
            return None
        return (request._request.api_user, token)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
