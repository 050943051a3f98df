"""Whose targets a member may see: their own; a manager their team; ops, admins and executives every CSM and
manager of the tenant (targets.view_team)."""

from accounts.permissions import team_user_ids
from csplatform.tenancy.models import Membership, Role
from csplatform.tenancy.permissions import role_can

BOOK_ROLES = (Role.CSM, Role.MANAGER)


def sees_team(membership) -> bool:
    return role_can(membership.role, "targets.view_team")


def team_of(membership) -> list[int]:
    """The people a lead's "team" view covers (one query; two for a manager)."""
    people = Membership.objects.filter(tenant_id=membership.tenant_id, role__in=BOOK_ROLES)
    if membership.role == Role.MANAGER:
        people = people.filter(user_id__in=team_user_ids(membership))
    return list(people.order_by("user_id").values_list("user_id", flat=True))


def is_member(tenant, user_id: int) -> bool:
    return Membership.objects.filter(tenant=tenant, user_id=user_id).exists()
