from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from csplatform.jobs.models import JobRun
from csplatform.jobs.services import active_tenants, job_run


class Command(BaseCommand):
    help = (
        "Recomputes the last N days of health scores (today included), oldest first so that each day's 7- and "
        "30-day changes read the days already restated. One health.scores JobRun per tenant and day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this tenant (slug); default: every active tenant")
        parser.add_argument("--days", type=int, required=True, help="how many days back, today included")

    def handle(self, *args, tenant=None, days=0, **options):
        if not 1 <= days <= 3660:
            raise CommandError("--days takes 1 to 3660.")
        tenants = list(active_tenants(tenant))
        if tenant and not tenants:
            raise CommandError(f"No active tenant with slug {tenant!r}")
        today = timezone.localdate()
        dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
        self.stdout.write(f"Restating {dates[0]} to {dates[-1]} ({days} day(s)) for {len(tenants)} tenant(s)")
        failures = 0
        for index, tenant_obj in enumerate(tenants, start=1):
            rows = seconds = 0
            for day in dates:
                outcome = job_run(job_name="health.scores", tenant=tenant_obj, day=day, trigger="backfill")
                seconds += outcome.seconds
                if outcome.status != JobRun.Status.SUCCEEDED:
                    failures += 1
                    self.stdout.write(self.style.ERROR(
                        f"    {tenant_obj.slug} {day}: {outcome.status} {outcome.error}".rstrip()))
                    continue
                rows += outcome.rows or 0
                self.stdout.write(f"    {tenant_obj.slug} {day}: {outcome.rows} scores ({outcome.seconds:.2f}s)")
            style = self.style.SUCCESS if not failures else self.style.WARNING
            self.stdout.write(style(f"[{index}/{len(tenants)}] {tenant_obj.slug}: {rows} scores over {days} day(s) "
                                    f"({seconds:.2f}s)"))
        if failures:
            raise CommandError(f"{failures} day(s) failed; see the jobs page or JobRun rows for tracebacks")
