
from django.core.management.base import BaseCommand, CommandError

from csplatform.jobs.commands import day_option
from csplatform.jobs.registry import nightly_jobs
from csplatform.jobs.services import active_tenants, nightly_run_for_tenant


class Command(BaseCommand):
    help = "Runs the nightly jobs in-process, tenant by tenant, with a progress line per tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument("--date", help="the day to compute, YYYY-MM-DD (default: today)")

    def handle(self, *args, tenant=None, date=None, **options):
        day = day_option(date)
        tenants = list(active_tenants(tenant))
        if tenant and not tenants:
            raise CommandError(f"No active tenant with slug {tenant!r}")
        jobs = [job.name for job in nightly_jobs()]
        self.stdout.write(f"Nightly run for {day}: {len(tenants)} tenant(s), jobs: {', '.join(jobs) or 'none'}")
        failures = 0
        for index, tenant_obj in enumerate(tenants, start=1):
            outcomes = nightly_run_for_tenant(tenant=tenant_obj, day=day, trigger="command")
            failed = [o for o in outcomes if o.status == "failed"]
            failures += len(failed)
            summary = ", ".join(
                f"{o.job} {o.status}" + (f" {o.rows} rows" if o.rows is not None else "") for o in outcomes
            )
            seconds = sum(o.seconds for o in outcomes)
            style = self.style.ERROR if failed else self.style.SUCCESS
            self.stdout.write(style(f"[{index}/{len(tenants)}] {tenant_obj.slug}: {summary} ({seconds:.2f}s)"))
            for outcome in failed:
                self.stdout.write(f"    {outcome.job}: {outcome.error}")
        if failures:
            raise CommandError(f"{failures} job run(s) failed; see the jobs page or JobRun rows for tracebacks")

