from django.core.management.base import BaseCommand, CommandError

from csplatform.tenancy.models import Role, Tenant, User
from csplatform.tenancy.services import api_token_create, service_account_create


class Command(BaseCommand):
    help = "Creates an API token bound to one tenant and one user (or a service account) and prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email", help="a member of the tenant")
        who.add_argument("--service", help="name of a service account to create or reuse, e.g. crm-sync")
        parser.add_argument("--role", default=Role.OPS, choices=Role.values, help="role of a new service account")
        parser.add_argument("--name", default="", help="label shown in token lists")
        parser.add_argument("--days", type=int, default=None, help="lifetime in days (0: never expires)")

    def handle(self, *args, tenant, email, service, role, name, days, **options):
        from datetime import timedelta

        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant with slug {tenant!r}")
        if service:
            user = service_account_create(tenant=tenant_obj, name=service, role=role)
        else:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(f"No user with email {email!r}")
        lifetime = None if days is None else timedelta(days=days)
        try:
            token, raw = api_token_create(
                tenant=tenant_obj, user=user, name=name or service or "cli", lifetime=lifetime
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Token {token.name!r} for {user.email} in {tenant_obj.slug}; it is shown only once:")
        self.stdout.write(raw)
