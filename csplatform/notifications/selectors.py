from .models import Notification

UNREAD_CAP = 10  # the badge says "9+" from here on: counting further would only cost time
PAGE_SIZE = 25


def unread_count(*, user, cap: int = UNREAD_CAP) -> int:
    """Unread notifications of `user` in the current tenant, counted up to `cap` (SELECT COUNT(*) over a LIMIT
    subquery on the (tenant, recipient, read_at) index)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True)[:cap].count()


def notifications_for(*, user):
    """The user's notifications in the current tenant, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
