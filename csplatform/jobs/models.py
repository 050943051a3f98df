from django.db import models

from csplatform.tenancy.models import TenantOwnedModel


class JobRun(TenantOwnedModel):
    """One attempt of one job for one tenant and day. Kept per attempt, so a failure stays visible."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run held the lock)"
        INTERRUPTED = "interrupted", "Interrupted (worker died)"

    job = models.CharField(max_length=100)
    day = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_written = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    trigger = models.CharField(max_length=20, default="schedule")  # schedule, command, manual

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-started_at"]),
            models.Index(fields=["tenant", "job", "day"]),
        ]
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.job} {self.day} {self.status}"

    @property
    def duration(self):
        if self.finished_at:
            return self.finished_at - self.started_at
        return None


class TableVolume(TenantOwnedModel):
    """Rows per tenant-owned table per day, written by the `platform.table_volume` nightly job.

    Lets ops see on the jobs page whether an import or the usage stream actually landed.
    """

    day = models.DateField()
    table_name = models.CharField(max_length=100)
    row_count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "table_name"], name="tablevolume_unique_day_table")
        ]
        ordering = ["table_name"]
