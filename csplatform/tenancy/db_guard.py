"""Refuses database roles that would switch off the row level security lock.

A superuser or BYPASSRLS role sees every tenant's rows whatever the policies say, so the second
lock would be silently open. The check runs once per new connection (one cheap catalogue query).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def refuse_rls_bypassing_role(sender, connection, **kwargs):
    if connection.vendor != "postgresql" or settings.DANGEROUSLY_ALLOW_RLS_BYPASS_ROLE:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        role, is_superuser, bypasses_rls = cursor.fetchone()
    if is_superuser or bypasses_rls:
        connection.close()
        raise ImproperlyConfigured(
            f"Database role {role!r} bypasses row level security (superuser or BYPASSRLS). Connect as "
            "an ordinary role, e.g. the one `scripts/pg_bootstrap.py` creates."
        )
