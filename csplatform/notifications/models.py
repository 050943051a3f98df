"""In-app notifications (the bell) and the record of each email digest sent.

Both are tenant-owned: a user who belongs to two tenants has two bells and two sets of digests.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from csplatform.tenancy.models import TenantOwnedModel


class Notification(TenantOwnedModel):
    """One thing one member should look at. `source_key` names the event ("task:12:overdue"), so writing the same
    event twice (a job rerun, a retried request) leaves one row."""

    class Kind(models.TextChoices):
        TASK_ASSIGNED = "task_assigned", "Task assigned"
        TASK_OVERDUE = "task_overdue", "Task overdue"
        HEALTH_ALERT = "health_alert", "Health alert"
        ESCALATION = "escalation", "Escalation"
        STATEMENT_TO_APPROVE = "statement_to_approve", "Statement to approve"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=300, blank=True, help_text="A path within the tenant, e.g. accounts/12/")
    source_key = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "recipient", "kind", "source_key"], name="notification_once_per_event"
            ),
        ]
        indexes = [
            # The bell's unread count and the page (newest first) both start from (tenant, recipient).
            models.Index(fields=["tenant", "recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["tenant", "recipient", "-created_at"], name="notification_recent_idx"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class DigestDelivery(TenantOwnedModel):
    """One digest for one member on one local date. The row is claimed (sending) before the email goes out and
    says sent only once the mail backend accepted it; a failed send is retried by a later hourly run."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        EMPTY = "empty", "Nothing to send"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    local_date = models.DateField(help_text="The day in the member's time zone the digest is for")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    attempts = models.PositiveSmallIntegerField(default=1)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "kind", "local_date"], name="digest_once_per_day"),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"), name="digest_sent_has_time"
            ),
        ]
        ordering = ["-local_date", "kind"]

    def __str__(self):
        return f"{self.kind} digest for {self.user_id} on {self.local_date} ({self.status})"
