#!/usr/bin/env bash
# The test command behind `make test`: PostgreSQL when DATABASE_URL is set or one answers on
# 127.0.0.1:5432, SQLite otherwise (PostgreSQL-only tests are then skipped with their reason).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ -z "${DATABASE_URL:-}" ]; then
  if url=$($PY scripts/pg_bootstrap.py); then
    export DATABASE_URL="$url"
  else
    echo "No PostgreSQL answered on 127.0.0.1:5432: the tests run on SQLite." >&2
  fi
fi
if [ -z "${REDIS_URL:-}" ] && $PY -c "import redis,sys; redis.Redis(host='127.0.0.1', socket_connect_timeout=1).ping()" 2>/dev/null; then
  export REDIS_URL="redis://127.0.0.1:6379/15"
fi
exec $PY -m pytest "$@"
