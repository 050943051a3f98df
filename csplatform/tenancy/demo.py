"""Demo tenants and people. Feature apps add their data in `<app>/demo.py` (a `seed(*, tenant, people)`)."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password

from .models import Role, Tenant, User
from .services import membership_set

TENANTS = [
    {"slug": "acme", "name": "Acme Analytics", "currency": "USD", "fiscal_year_start_month": 1},
    {"slug": "globex", "name": "Globex Software", "currency": "EUR", "fiscal_year_start_month": 4},
]

PEOPLE = [
    # (local part, full name, role, reports to)
    ("admin", "Ada Admin", Role.ADMIN, None),
    ("ops", "Oscar Ops", Role.OPS, None),
    ("manager", "Maya Manager", Role.MANAGER, None),
    ("csm1", "Chris Carter", Role.CSM, "manager"),
    ("csm2", "Sam Patel", Role.CSM, "manager"),
    ("csm3", "Jordan Lee", Role.CSM, "manager"),
    ("exec", "Erin Executive", Role.EXECUTIVE, None),
]

# One person in both tenants, to show the workspace switcher.
CONSULTANT = ("consultant@example.com", "Casey Consultant", Role.OPS)


@dataclass
class DemoPeople:
    tenant: Tenant
    by_key: dict[str, User] = field(default_factory=dict)

    @property
    def csms(self) -> list[User]:
        return [user for key, user in self.by_key.items() if key.startswith("csm")]


def _user(email, full_name, password_hash):
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
    if created or user.password != password_hash:
        user.password = password_hash
        user.save(update_fields=["password"])
    return user


def seed_people(tenant: Tenant, password_hash: str) -> DemoPeople:
    people = DemoPeople(tenant=tenant)
    for key, full_name, _role, _ in PEOPLE:
        people.by_key[key] = _user(f"{key}@{tenant.slug}.example", full_name, password_hash)
    for key, _, role, reports_to in PEOPLE:
        membership_set(tenant=tenant, user=people.by_key[key], role=role,
                       manager=people.by_key[reports_to] if reports_to else None)
    email, full_name, role = CONSULTANT
    membership_set(tenant=tenant, user=_user(email, full_name, password_hash), role=role)
    return people


def seed_tenants(password: str | None = None) -> list[DemoPeople]:
    # One hash for every demo user: hashing is deliberately slow, and `make run` seeds on every start.
    password_hash = make_password(password or settings.DEMO_PASSWORD)
    seeded = []
    for spec in TENANTS:
        tenant, _ = Tenant.objects.update_or_create(slug=spec["slug"], defaults=spec)
        seeded.append(seed_people(tenant, password_hash))
    return seeded
