from .models import Membership


def memberships_for_user(*, user):
    return Membership.objects.filter(user=user, tenant__is_active=True).select_related("tenant").order_by(
        "tenant__name"
    )


def team_members(*, tenant):
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user", "manager")
        .order_by("role", "user__full_name", "user__email")
    )


def api_tokens_for(*, tenant, user=None):
    qs = tenant.api_tokens.select_related("user")
    return qs.filter(user=user) if user is not None else qs
