"""The decorator every tenant page goes through."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from .permissions import role_can


def tenant_page(action: str):
    """Checks the role against `action` and drops the URL's tenant slug (the middleware resolved it).

    Usage: `@tenant_page("jobs.view")`. A member without the role gets 403; a non-member never gets
    here (the middleware answered 404).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, tenant_slug, **kwargs):
            if not role_can(request.membership.role, action):
                raise PermissionDenied(f"Your role cannot {action.replace('.', ' ')} here.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
