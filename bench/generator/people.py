"""Bench tenants and their people: creating them (set-based) and dropping every bench tenant's data."""

import math
from decimal import Decimal

from django.db import connection, transaction

from accounts.models import Segment
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant
from csplatform.tenancy.services import tenant_create
from health.models import Measure, Scorecard
from health.services import scorecard_save

from .params import EMAIL_DOMAIN, SLUG_PREFIX

ACCOUNTS_PER_CSM = 120
CSMS_PER_MANAGER = 8
FIRST_NAMES = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keira", "Liam",
               "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yusuf"]
LAST_NAMES = ["Adams", "Berg", "Costa", "Diaz", "Eze", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Khan",
              "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quint", "Rossi", "Singh", "Tanaka", "Varga",
              "Weber", "Xu", "Young"]

K = Measure.Kind
# A second scorecard for the Enterprise segment, so the recompute's scorecard matching has work to do.
ENTERPRISE_MEASURES = [  # (kind, window, weight, red, green)
    (K.SEAT_UTILISATION, 30, 25, 15, 65),
    (K.USAGE_TREND, 30, 10, -25, 10),
    (K.NPS, 180, 15, -10, 50),
    (K.CSAT, 90, 5, 3, 4.5),
    (K.OPEN_PRIORITY_TICKETS, 30, 10, 2, 0),
    (K.TICKETS_OPENED, 30, 5, 10, 2),
    (K.DAYS_SINCE_TOUCH, 30, 10, 45, 10),
    (K.SPONSOR_ENGAGED, 90, 10, 0, 1),
    (K.GOAL_ATTAINMENT, 90, 10, 25, 80),
]


def staff_for(accounts: int) -> dict[str, int]:
    csms = max(2, math.ceil(accounts / ACCOUNTS_PER_CSM))
    return {"csm": csms, "manager": math.ceil(csms / CSMS_PER_MANAGER), "ops": 2, "executive": 1, "admin": 1}


def _rnd(key_sql: str, salt: int) -> str:
    return f"((hashint8extended(({key_sql})::bigint, {salt}::bigint) & 2147483647)::float8 / 2147483648.0)"


def tenant_with_people(*, slug: str, name: str, index: int, accounts: int, seed: int) -> tuple[Tenant, dict]:
    """Creates the tenant (its signals give it segments, stages and the default scorecard), its users and
    memberships in two statements, and an Enterprise scorecard. Returns the tenant and the user ids by role."""
    tenant = tenant_create(slug=slug, name=name)
    staff = staff_for(accounts)
    spec = " UNION ALL ".join(f"SELECT '{role}' AS role, g AS i FROM generate_series(1, {n}) g"
                              for role, n in staff.items())
    salt = seed * 1_000_003 + index * 101
    first = f"(%(first)s::text[])[1 + floor({_rnd('s.i * 7 + length(s.role)', salt)} * %(nfirst)s)::int]"
    last = f"(%(last)s::text[])[1 + floor({_rnd('s.i * 7 + length(s.role)', salt + 1)} * %(nlast)s)::int]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO tenancy_user (password, is_superuser, email, full_name, time_zone, is_active, is_staff,
                                          is_service_account, date_joined)
                SELECT '!bench-unusable', false, s.role || '-' || lpad(s.i::text, 4, '0') || '@' || %(slug)s
                         || '.{EMAIL_DOMAIN}', {first} || ' ' || {last}, 'UTC', true, false, false, now()
                FROM ({spec}) s""",
            {"slug": slug, "first": FIRST_NAMES, "last": LAST_NAMES, "nfirst": len(FIRST_NAMES),
             "nlast": len(LAST_NAMES)},
        )
        # CSM n reports to manager ceil(n / 8).
        cursor.execute(
            f"""INSERT INTO tenancy_membership (role, created_at, manager_id, user_id, tenant_id)
                SELECT split_part(u.email, '-', 1), now(), m.id, u.id, %(t)s
                FROM tenancy_user u
                LEFT JOIN tenancy_user m ON split_part(u.email, '-', 1) = 'csm'
                  AND m.email = 'manager-' || lpad(((split_part(split_part(u.email, '@', 1), '-', 2)::int - 1)
                                                     / {CSMS_PER_MANAGER} + 1)::text, 4, '0') || '@' || %(domain)s
                WHERE u.email LIKE %(pattern)s""",
            {"t": tenant.pk, "domain": f"{slug}.{EMAIL_DOMAIN}", "pattern": f"%@{slug}.{EMAIL_DOMAIN}"},
        )
        cursor.execute(
            "SELECT split_part(u.email, '-', 1), array_agg(u.id ORDER BY u.email) FROM tenancy_user u "
            "WHERE u.email LIKE %s GROUP BY 1", [f"%@{slug}.{EMAIL_DOMAIN}"])
        people = dict(cursor.fetchall())
    with tenant_context(tenant):
        enterprise = Segment.objects.get(name="Enterprise")
        scorecard_save(
            scorecard=Scorecard(name="Enterprise health", priority=10,
                                description="Heavier on adoption and sponsor engagement."),
            segments=[enterprise], stages=[], removed=[],
            measures=[Measure(kind=kind, window_days=w, weight=Decimal(weight), red_threshold=Decimal(str(red)),
                              green_threshold=Decimal(str(green)), position=i,
                              direction=Measure.Direction.HIGHER if green > red else Measure.Direction.LOWER)
                      for i, (kind, w, weight, red, green) in enumerate(ENTERPRISE_MEASURES)])
    return tenant, people


def _tenant_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.table_name FROM information_schema.columns c
               JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
               WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
               ORDER BY 1""")
        return [row[0] for row in cursor.fetchall()]


def bench_tenants_drop() -> str:
    """Removes every bench tenant (slug bench-...) with all its rows and users. Returns how.

    When the database holds nothing but bench tenants (the bench database), one TRUNCATE ... CASCADE does it
    in a second; otherwise each bench tenant's rows are deleted table by table inside its tenant context
    (row level security applies), which leaves the other tenants untouched.
    """
    bench = list(Tenant.objects.filter(slug__startswith=SLUG_PREFIX).order_by("pk"))
    if not bench:
        return "nothing to drop"
    others = Tenant.objects.exclude(slug__startswith=SLUG_PREFIX).exists()
    with transaction.atomic(), connection.cursor() as cursor:
        if not others:
            cursor.execute("TRUNCATE tenancy_tenant, health_usagekey CASCADE")  # usagekey has no FKs
            how = "truncated (only bench tenants in this database)"
        else:
            tables = _tenant_tables()
            for tenant in bench:
                with tenant_context(tenant):
                    for table in tables:
                        cursor.execute(f'DELETE FROM "{table}" WHERE tenant_id = %s', [tenant.pk])
            cursor.execute("DELETE FROM tenancy_tenant WHERE id = ANY(%s)", [[t.pk for t in bench]])
            how = f"deleted {len(bench)} bench tenant(s) row by table"
        cursor.execute("DELETE FROM tenancy_user WHERE email LIKE %s", [f"%@{SLUG_PREFIX}%.{EMAIL_DOMAIN}"])
    return how
