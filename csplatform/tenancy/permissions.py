"""Who may do what: one table of role x action, used by pages and the API alike.

Later issues add their actions here; docs/permissions.md renders this table.
"""

from rest_framework.permissions import BasePermission

from .models import Role

ALL_ROLES = frozenset(Role.values)
OPS_ROLES = frozenset({Role.OPS, Role.ADMIN})

ACTIONS: dict[str, frozenset[str]] = {
    "tenant.view": ALL_ROLES,
    "team.view": ALL_ROLES,
    "jobs.view": OPS_ROLES | {Role.MANAGER},
    "jobs.run": OPS_ROLES,
}


def role_can(role: str, action: str) -> bool:
    try:
        return role in ACTIONS[action]
    except KeyError:
        raise KeyError(f"Unknown action {action!r}: add it to csplatform.tenancy.permissions.ACTIONS") from None


class IsTenantMember(BasePermission):
    """The API's default: a valid token (which implies a membership of the token's tenant)."""

    def has_permission(self, request, view):
        return getattr(request, "membership", None) is not None


class ActionPermission(IsTenantMember):
    """Viewsets name the action per DRF action: `required_actions = {"list": "jobs.view", ...}`."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        action = view.required_actions.get(view.action) or view.required_actions.get("*")
        return action is not None and role_can(request.membership.role, action)
