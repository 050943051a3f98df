"""CSV imports recorded as runs (JobRun rows named `import.<kind>`), so ops see what landed and what was refused
next to the nightly jobs: on the jobs page and on the ops home.

The import code lives in apps above this one (accounts, renewals) and calls `import_run_record` once per commit
attempt; this module knows nothing about their rows beyond the counts it is given."""

from datetime import datetime

from django.utils import timezone

from csplatform.tenancy.timezones import business_day

from .models import JobRun

PREFIX = "import."
TRIGGER = "import"
# The imports ops run from the CSV pages, in the order the ops home lists them.
KINDS = {"accounts": "Accounts", "contacts": "Contacts", "activities": "Activities", "contracts": "Contracts"}


def import_job_name(kind: str) -> str:
    return f"{PREFIX}{kind}"


def import_run_record(*, kind: str, started_at: datetime, committed: bool, written: int,
                      rows_with_errors: int = 0) -> JobRun:
    """One import attempt: succeeded with the rows written (created + updated), or failed with why nothing was.

    Called after the import's own transaction ended, so a refused import (rolled back whole) is still recorded."""
    error = ""
    if not committed:
        error = f"{rows_with_errors} row{'s' if rows_with_errors != 1 else ''} with errors; nothing was imported"
    return JobRun.objects.create(
        job=import_job_name(kind), day=business_day(), started_at=started_at, finished_at=timezone.now(),
        status=JobRun.Status.SUCCEEDED if committed else JobRun.Status.FAILED, rows_written=written if committed else 0,
        error=error, trigger=TRIGGER)
