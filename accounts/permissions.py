"""Object-level rule on top of the role x action table: whose accounts a user may write on."""

from csplatform.tenancy.models import Membership, Role
from csplatform.tenancy.permissions import role_can


def team_user_ids(membership: Membership) -> set[int]:
    """The manager and the people who report to them in this tenant."""
    ids = set(
        Membership.objects.filter(tenant_id=membership.tenant_id, manager_id=membership.user_id).values_list(
            "user_id", flat=True
        )
    )
    return ids | {membership.user_id}


def account_writable(membership: Membership, account, action: str, *, team_ids: set[int] | None = None) -> bool:
    """May this member do `action` (activities.log, contacts.edit, escalations.manage, accounts.edit) here?"""
    if not role_can(membership.role, action):
        return False
    if membership.role in (Role.OPS, Role.ADMIN):
        return True
    if membership.role == Role.MANAGER:
        team = team_ids if team_ids is not None else team_user_ids(membership)
        return account.csm_id is None or account.csm_id in team
    # CSM
    return account.csm_id == membership.user_id or membership.tenant.csms_edit_all_accounts
