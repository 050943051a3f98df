
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from csplatform.jobs.commands import day_option
from csplatform.jobs.services import active_tenants
from csplatform.notifications.digests import digests_send_due, digests_send_for_date, registered_digests


class Command(BaseCommand):
    help = (
        "Sends email digests now. With --date (or --kind), the digests of that local date to everyone who "
        "receives them, whatever their local time; without, what the hourly beat would send now. Each member "
        "gets each digest once per date either way."
    )

    def add_arguments(self, parser):
        kinds = [d.kind for d in registered_digests()]
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument("--kind", choices=kinds, help="only this digest (default: all)")
        parser.add_argument("--date", help="the members' local date the digest is for, YYYY-MM-DD")

    def handle(self, *args, tenant=None, kind=None, date=None, **options):
        tenants = list(active_tenants(tenant))
        if tenant and not tenants:
            raise CommandError(f"No active tenant with slug {tenant!r}")
        kinds = [kind] if kind else [d.kind for d in registered_digests()]
        day = day_option(date) if date or kind else None
        failed = 0
        for tenant_obj in tenants:
            if day is None:
                outcomes = digests_send_due(tenant=tenant_obj, at=timezone.now())
                label = "due now"
            else:
                outcomes = {}
                for name in kinds:
                    for outcome, n in digests_send_for_date(tenant=tenant_obj, kind=name, local_date=day).items():
                        outcomes[outcome] = outcomes.get(outcome, 0) + n
                label = f"{', '.join(kinds)} for {day}"
            failed += outcomes.get("failed", 0)
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "nobody due"
            style = self.style.ERROR if outcomes.get("failed") else self.style.SUCCESS
            self.stdout.write(style(f"{tenant_obj.slug}: {label}: {summary}"))
        if failed:
            raise CommandError(f"{failed} digest(s) failed to send; the next hourly run tries them again")

