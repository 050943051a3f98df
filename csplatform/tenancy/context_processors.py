def tenancy(request):
    membership = getattr(request, "membership", None)
    if membership is None or not request.user.is_authenticated:
        return {}
    from .permissions import ACTIONS, role_can

    return {
        "tenant": membership.tenant,
        "membership": membership,
        "my_memberships": request.user.memberships.select_related("tenant").order_by("tenant__name"),
        "can": {action.replace(".", "_"): role_can(membership.role, action) for action in ACTIONS},
    }
