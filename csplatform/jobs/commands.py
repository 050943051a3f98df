"""What management commands about jobs share."""

from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone


def day_option(value: str | None) -> date:
    """A command's `--date YYYY-MM-DD`; today when not given."""
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, got {value!r}") from None
