"""Creates the application's PostgreSQL roles and database when they are missing, and prints DATABASE_URL.

Two ordinary roles (neither a superuser nor BYPASSRLS, so row level security applies to both):
- the owner (APP_DB_ROLE, `csplatform`): owns the database and its tables, runs the migrations; CREATEDB
  lets the test runner create its test database. Its URL is what this script prints by default.
- the runtime role (APP_DB_RUNTIME_ROLE, `csplatform_app`): what the app serves as in production. It owns
  nothing, so it cannot alter a table or drop a policy; `migrate` grants it row access
  (csplatform/tenancy/db_roles.py). `--runtime` prints its URL instead.
Exits 1, saying why on stderr, when no PostgreSQL superuser answers.

Environment: PGHOST (127.0.0.1), PGPORT (5432), PG_SUPERUSER (postgres), APP_DB_ROLE (csplatform),
APP_DB_NAME (csplatform), APP_DB_PASSWORD (csplatform), APP_DB_RUNTIME_ROLE (csplatform_app),
APP_DB_RUNTIME_PASSWORD (csplatform_app).
"""

import os
import sys

import psycopg2
from psycopg2 import sql

host = os.environ.get("PGHOST", "127.0.0.1")
port = os.environ.get("PGPORT", "5432")
superuser = os.environ.get("PG_SUPERUSER", "postgres")
role = os.environ.get("APP_DB_ROLE", "csplatform")
database = os.environ.get("APP_DB_NAME", "csplatform")
password = os.environ.get("APP_DB_PASSWORD", "csplatform")
runtime_role = os.environ.get("APP_DB_RUNTIME_ROLE", "csplatform_app")
runtime_password = os.environ.get("APP_DB_RUNTIME_PASSWORD", "csplatform_app")


def upsert_role(cur, name, secret, options):
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    verb = "ALTER" if cur.fetchone() else "CREATE"
    cur.execute(
        sql.SQL("{} ROLE {} LOGIN {} PASSWORD %s").format(sql.SQL(verb), sql.Identifier(name), sql.SQL(options)),
        [secret],
    )


try:
    admin = psycopg2.connect(host=host, port=port, user=superuser, dbname="postgres", connect_timeout=3)
except psycopg2.OperationalError as exc:
    print(f"PostgreSQL at {host}:{port} did not accept {superuser!r}: {str(exc).strip()}", file=sys.stderr)
    sys.exit(1)

admin.autocommit = True
with admin.cursor() as cur:
    upsert_role(cur, role, password, "CREATEDB NOSUPERUSER NOBYPASSRLS")
    upsert_role(cur, runtime_role, runtime_password, "NOCREATEDB NOCREATEROLE NOSUPERUSER NOBYPASSRLS NOINHERIT")
    # The runtime role must never be able to act as the owner (SET ROLE, inherited rights).
    cur.execute(
        "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member"
        " WHERE r.rolname = %s AND u.rolname = %s",
        [role, runtime_role],
    )
    if cur.fetchone():
        cur.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(role), sql.Identifier(runtime_role)))
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
    if not cur.fetchone():
        cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role)))
admin.close()
if "--runtime" in sys.argv[1:]:
    print(f"postgres://{runtime_role}:{runtime_password}@{host}:{port}/{database}")
else:
    print(f"postgres://{role}:{password}@{host}:{port}/{database}")
