"""Creates the application's PostgreSQL role and database when they are missing, and prints DATABASE_URL.

The role is deliberately ordinary: not a superuser and without BYPASSRLS, so row level security
applies to it (it owns its tables, which use FORCE ROW LEVEL SECURITY). CREATEDB lets the test runner
create its test database. Exits 1, saying why on stderr, when no PostgreSQL superuser answers.

Environment: PGHOST (127.0.0.1), PGPORT (5432), PG_SUPERUSER (postgres), APP_DB_ROLE (csplatform),
APP_DB_NAME (csplatform), APP_DB_PASSWORD (csplatform).
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

try:
    admin = psycopg2.connect(host=host, port=port, user=superuser, dbname="postgres", connect_timeout=3)
except psycopg2.OperationalError as exc:
    print(f"PostgreSQL at {host}:{port} did not accept {superuser!r}: {str(exc).strip()}", file=sys.stderr)
    sys.exit(1)

admin.autocommit = True
with admin.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    verb = "ALTER" if cur.fetchone() else "CREATE"
    cur.execute(
        sql.SQL("{} ROLE {} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD %s").format(
            sql.SQL(verb), sql.Identifier(role)
        ),
        [password],
    )
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
    if not cur.fetchone():
        cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role)))
admin.close()
print(f"postgres://{role}:{password}@{host}:{port}/{database}")
