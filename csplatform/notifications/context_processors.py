from functools import cached_property

from .selectors import UNREAD_CAP, unread_count


class Bell:
    """The topbar's unread count, counted only when a template shows it (htmx partials without the topbar cost
    nothing), with one indexed COUNT over at most UNREAD_CAP rows."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def unread(self) -> int:
        return unread_count(user=self.user)

    @property
    def badge(self) -> str:
        return f"{UNREAD_CAP - 1}+" if self.unread >= UNREAD_CAP else str(self.unread)

    @property
    def label(self) -> str:
        if not self.unread:
            return "Notifications, none unread"
        return f"Notifications, {self.badge} unread"


def bell(request):
    if getattr(request, "membership", None) is None or not request.user.is_authenticated:
        return {}
    return {"bell": Bell(request.user)}
