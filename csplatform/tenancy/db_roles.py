"""Two PostgreSQL roles: the owner that migrates, and the runtime role the app serves and works as.

Row level security is only a lock if the role that runs the app cannot take it off. A table's owner
can (`ALTER TABLE ... NO FORCE ROW LEVEL SECURITY`, `DROP POLICY`), so in production the app connects
as a role that owns nothing: `DATABASE_RUNTIME_ROLE` (default `csplatform_app`, created by
`scripts/pg_bootstrap.py`). Migrations run as the owner; after each `migrate` the owner grants the
runtime role plain row access (no TRUNCATE, no DDL) on every table, now and for tables created later.
"""

from django.conf import settings
from django.core import checks
from django.db import connections
from django.db.models.signals import post_migrate
from django.dispatch import receiver

ROW_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


def runtime_role_grants_sql(role: str) -> list[str]:
    quoted = f'"{role}"'
    return [
        f"GRANT {ROW_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        # The SECURITY DEFINER functions the owner installs for it (health.partitions); PUBLIC has none of them.
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {quoted}",
        # Tables the owner creates in later migrations get the same grants without another step.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {ROW_PRIVILEGES} ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {quoted}",
    ]


def _role_exists(cursor, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


@receiver(post_migrate)
def grant_runtime_role(sender, using="default", **kwargs):
    """Runs after every app's migrations; idempotent, so running once per app is harmless but wasteful."""
    if sender.label != "tenancy":
        return
    connection = connections[using]
    role = settings.DATABASE_RUNTIME_ROLE
    if connection.vendor != "postgresql" or not role:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role or not _role_exists(cursor, role):
            return
        for statement in runtime_role_grants_sql(role):
            cursor.execute(statement)


@checks.register(checks.Tags.database, deploy=True)
def check_app_role_cannot_alter_tables(app_configs, databases=None, **kwargs):
    """`manage.py check --deploy --database default`: warns when the app's role could switch RLS off."""
    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_class c
            WHERE c.relrowsecurity AND pg_has_role(current_user, c.relowner, 'USAGE')
            """
        )
        owned = cursor.fetchone()[0]
    if not owned:
        return []
    return [
        checks.Warning(
            f"The database role owns (or may act as the owner of) {owned} tables with row level security, "
            "so it could switch the policies off.",
            hint="Run migrations as the owner and serve the app as DATABASE_RUNTIME_ROLE "
            "(see docs/architecture.md, 'Two database roles').",
            id="tenancy.W001",
        )
    ]
