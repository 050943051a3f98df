"""Who may do what: one table of role x action, used by pages and the API alike.

Later issues add their actions here; docs/permissions.md renders this table.
"""

from rest_framework.permissions import BasePermission

from .models import Role

ALL_ROLES = frozenset(Role.values)
OPS_ROLES = frozenset({Role.OPS, Role.ADMIN})

WORKING_ROLES = frozenset({Role.CSM, Role.MANAGER, Role.OPS, Role.ADMIN})  # everyone but read-only executives
LEADS = OPS_ROLES | {Role.MANAGER}

ACTIONS: dict[str, frozenset[str]] = {
    "tenant.view": ALL_ROLES,
    "team.view": ALL_ROLES,
    "jobs.view": LEADS,
    "jobs.run": OPS_ROLES,
    # accounts: reading is for everyone; writes on one account are further limited to the accounts a
    # CSM owns or a manager's team owns (accounts.permissions.account_writable).
    "accounts.view": ALL_ROLES,
    "accounts.edit": LEADS,
    "accounts.import": OPS_ROLES,
    "activities.log": WORKING_ROLES,
    "contacts.edit": WORKING_ROLES,
    "escalations.manage": WORKING_ROLES,
    "timesheet.view_team": LEADS,
    "book.view": LEADS | {Role.EXECUTIVE},
    # success plans: writes on one account follow the same "whose account" rule as activities.
    "plans.edit": WORKING_ROLES,
    "goals.approve": WORKING_ROLES,
    "value.record": WORKING_ROLES,
    "tasks.edit": WORKING_ROLES,
    "reviews.edit": WORKING_ROLES,
    "advocacy.record": WORKING_ROLES,
    "feedback.view": ALL_ROLES,
    "feedback.edit": WORKING_ROLES,
    "playbooks.manage": OPS_ROLES,
    "playbooks.apply": WORKING_ROLES,
    "processdocs.write": WORKING_ROLES,
    "processdocs.approve": LEADS,
    "mywork.team": LEADS,
    # health: everyone reads scores; CSMs set the pulse on accounts they may write; leads send surveys.
    "health.view": ALL_ROLES,
    "health.pulse": WORKING_ROLES,
    "surveys.send": LEADS,
    "scorecards.manage": OPS_ROLES,
    "signals.ingest": OPS_ROLES,
    # renewals: everyone sees renewals and ARR; stage/category/outcome edits follow the "whose account" rule;
    # contracts come from the CRM (ops); the forecast and retention are for leads and executives.
    "renewals.view": ALL_ROLES,
    "renewals.edit": WORKING_ROLES,
    "expansions.flag": WORKING_ROLES,
    "contracts.edit": OPS_ROLES,
    "forecast.view": LEADS | {Role.EXECUTIVE},
    "retention.view": LEADS | {Role.EXECUTIVE},
    "renewals.configure": OPS_ROLES,
    # compensation: every member may open their own (a CSM, or anyone on a plan); a CSM never sees another
    # CSM's statement; managers see and approve the team's, executives see totals only, ops runs plans.
    "comp.view_own": ALL_ROLES,
    "comp.view_team": LEADS,
    "comp.totals": frozenset({Role.EXECUTIVE}),
    "comp.approve": frozenset({Role.MANAGER, Role.ADMIN}),
    "comp.manage": OPS_ROLES,
    # insights: everyone reads an account's monthly reports; writing and delivering follow the "whose account"
    # rule; leads see the team's delivery, targets and coverage, and reassign accounts; ops set targets.
    "reports.view": ALL_ROLES,
    "reports.edit": WORKING_ROLES,
    "reports.team": LEADS | {Role.EXECUTIVE},
    "targets.view_team": LEADS | {Role.EXECUTIVE},
    "targets.configure": OPS_ROLES,
    "coverage.view": LEADS | {Role.EXECUTIVE},
    "coverage.configure": OPS_ROLES,
    "accounts.reassign": LEADS,
    # security: every member lists, creates and revokes their own API tokens; ops and admins see and revoke
    # every token of the tenant and lift the login lockout of its members.
    "tokens.own": ALL_ROLES,
    "tokens.manage": OPS_ROLES,
    "security.manage": OPS_ROLES,
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
