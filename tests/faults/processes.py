"""Real processes for the fault tests: Celery workers killed with SIGKILL, a lock holder that stops a job in the
middle of its transaction, a Redis of the test's own, a gunicorn. docs/reliability.md says what each proves."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import connection

from csplatform import celery_app
from csplatform.jobs import queue

# The fault tests' own Redis database: a worker with a short visibility timeout hands back every unacknowledged
# task of its database, which must not be another test's (tests/jobs uses the one in REDIS_URL).
FAULTS_REDIS_DB = 14
WAIT_SECONDS = 120


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS, every: float = 0.2):
    """Polls `condition` until it returns something truthy (returned); fails saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up after {timeout}s waiting for: {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(**query) -> str:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def pg_connect():
    db = connection.settings_dict
    return psycopg2.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"], dbname=db["NAME"])


@contextmanager
def broker_at(url: str):
    """The test process publishes to `url` for real (not in-process), with a fresh connection pool."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url

    def fresh_pools():
        # Forget the app's pools (kombu keeps one per broker URL), so the next publish uses the current URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        queue.broker.reset()

    fresh_pools()
    conf.task_always_eager, conf.broker_url = False, url
    try:
        yield
    finally:
        fresh_pools()
        conf.task_always_eager, conf.broker_url = saved


class Worker:
    """`celery worker` (prefork, one pool process, as `make worker` runs it) on its own queue and this test database."""

    def __init__(self, redis_url: str, queue_name: str = "celery", **env):
        self.queue = queue_name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "--concurrency=1", "-Q", queue_name,
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=warning"],
            env={**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": redis_url,
                 "CELERY_TASK_ALWAYS_EAGER": "false", **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def pool_process(self) -> int:
        """The pid of the pool process that runs the tasks (the worker's only child)."""
        def child():
            try:
                with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as f:
                    pids = [int(p) for p in f.read().split()]
            except FileNotFoundError:
                return None
            return pids[0] if len(pids) == 1 else None
        return wait_for(child, "the worker's pool process")

    def kill_pool_process(self) -> None:
        """SIGKILL the process running the task, as the kernel's OOM killer would; the worker itself lives on."""
        os.kill(self.pool_process(), signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the whole worker (main and pool processes), as when its machine or container dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """At the end of a test nothing is in flight: no warm shutdown (seconds per worker) needed."""
        if self.process.poll() is None:
            self.kill()


class LockHolder:
    """A second database session that holds a lock, so a job's transaction stops where it needs that lock."""

    def __init__(self, tenant_id: int):
        self.conn = pg_connect()
        self.tenant_id = tenant_id
        self.holding = False
        self.pid = self.query("SELECT pg_backend_pid()")[0][0]

    def query(self, sql: str, params=()):
        """Runs one statement as the tenant; inside the held transaction while a lock is held."""
        with self.conn.cursor() as cursor:
            # Row level security: the rows this session reads and locks are the tenant's.
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(self.tenant_id)])
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
        if not self.holding:
            self.conn.commit()
        return rows

    def lock_table(self, table: str) -> None:
        self.holding = True
        self.query(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def lock_row(self, table: str, pk: int) -> None:
        self.holding = True
        assert self.query(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [pk]) == [(pk,)]

    def waiting_session(self, statement: str):
        """The pid of a session waiting on this one's lock while running `statement` (a fragment), or None."""
        probe = pg_connect()
        try:
            with probe.cursor() as cursor:
                cursor.execute("SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                               [self.pid])
                rows = cursor.fetchall()
        finally:
            probe.close()
        return next((pid for pid, query in rows if statement in query.replace('"', "")), None)

    def release(self) -> None:
        self.conn.rollback()
        self.holding = False

    def close(self) -> None:
        self.conn.close()


def session_alive(pid: int) -> bool:
    conn = pg_connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            return cursor.fetchone() is not None
    finally:
        conn.close()
