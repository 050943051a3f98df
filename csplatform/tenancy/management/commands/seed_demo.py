from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from csplatform.jobs.services import nightly_run_for_tenant
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.demo import CONSULTANT, PEOPLE, seed_tenants

# Dependency order (design.md): an app's demo data may use the apps before it.
DEMO_APPS = ["accounts", "success_plans", "health", "renewals", "compensation", "insights"]


class Command(BaseCommand):
    help = "Creates (or refreshes) the demo tenants acme and globex with a user for every role and demo data."

    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        for people in seed_tenants(password):
            tenant = people.tenant
            for label in DEMO_APPS:
                module = self._demo_module(label)
                if module is not None:
                    with tenant_context(tenant):
                        module.seed(tenant=tenant, people=people)
            outcomes = nightly_run_for_tenant(tenant=tenant, day=timezone.localdate(), trigger="command")
            ran = ", ".join(f"{o.job} {o.status}" for o in outcomes)
            self.stdout.write(f"{tenant.slug}: seeded; nightly jobs {ran}")

        self.stdout.write(f"\nDemo logins (password for all: {password})")
        for slug in ("acme", "globex"):
            for key, full_name, role, _ in PEOPLE:
                self.stdout.write(f"  {key}@{slug}.example".ljust(30) + f"{role.label:<12} {full_name}")
        self.stdout.write(f"  {CONSULTANT[0]}".ljust(30) + f"{CONSULTANT[2].label:<12} in both tenants")

    @staticmethod
    def _demo_module(label):
        name = f"{apps.get_app_config(label).name}.demo"
        try:
            return import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            return None
