"""The decorator every tenant page goes through."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from .permissions import ACTIONS, role_can

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def tenant_page(action: str, *alternatives: str, writes: str | None = None):
    """Checks the role against `action` and drops the URL's tenant slug (the middleware resolved it).

    Usage: `@tenant_page("jobs.view")`. `@tenant_page("comp.view_team", "comp.totals")` lets in a role that has
    either action; `@tenant_page("targets.view_team", writes="targets.configure")` needs the second action for
    POST, PUT, PATCH and DELETE. A member without the role gets 403; a non-member never gets here (the
    middleware answered 404).

    The wrapped view carries what it needs (`required_action`, `required_actions`, `write_action`), so
    `manage.py render_permissions` and the role tests read every page's rule from the page itself.
    """
    read_actions = (action, *alternatives)
    for name in (*read_actions, *([writes] if writes else [])):
        if name not in ACTIONS:  # at import time, so a typo never reaches a request
            raise KeyError(f"Unknown action {name!r}: add it to csplatform.tenancy.permissions.ACTIONS")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, tenant_slug, **kwargs):
            needed = (writes,) if writes and request.method not in SAFE_METHODS else read_actions
            if not any(role_can(request.membership.role, name) for name in needed):
                raise PermissionDenied(f"Your role cannot {needed[0].replace('.', ' ')} here.")
            return view(request, *args, **kwargs)

        wrapper.required_action = action
        wrapper.required_actions = read_actions
        wrapper.write_action = writes
        return wrapper

    return decorator
