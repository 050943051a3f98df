"""Fixtures of the fault tests; the processes and locks they drive are in processes.py."""

import shutil
import subprocess
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from .night import book_with_a_first_night
from .processes import FAULTS_REDIS_DB, LockHolder, Worker, broker_at, free_port, wait_for


@pytest.fixture
def redis_url():
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL or start Redis on 127.0.0.1:6379 (make test finds it)")
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{FAULTS_REDIS_DB}"))


@pytest.fixture
def workers(redis_url):
    """Starts workers on one queue (`workers.start(**env)`); the test process publishes to the same Redis."""
    queue_name = f"faults-{uuid.uuid4().hex[:8]}"
    started: list[Worker] = []

    class Workers:
        name = queue_name
        url = redis_url

        def start(self, **env) -> Worker:
            worker = Worker(redis_url, queue_name, **env)
            started.append(worker)
            return worker

    with broker_at(redis_url):
        try:
            yield Workers()
        finally:
            for worker in started:
                worker.stop()


@pytest.fixture
def lock_holder(tenant_a):
    holder = LockHolder(tenant_a.pk)
    try:
        yield holder
    finally:
        holder.close()


@pytest.fixture
def own_redis():
    """A redis-server of this test's own on a free port, which the test may stop and start (never the shared one)."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("needs redis-server and redis-cli on PATH (apt-get install redis-server) to stop a Redis")
    port = free_port()

    class OwnRedis:
        url = f"redis://127.0.0.1:{port}/0"

        def start(self):
            subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
                            "--save", "", "--appendonly", "no"], check=True, stdout=subprocess.DEVNULL)
            wait_for(self.answers, f"redis-server on port {port}")

        def stop(self):
            subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            wait_for(lambda: not self.answers(), f"redis-server on port {port} to stop")

        def answers(self) -> bool:
            result = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
            return result.stdout.strip() == "PONG"

    redis = OwnRedis()
    redis.start()
    try:
        yield redis
    finally:
        if redis.answers():
            redis.stop()


@pytest.fixture
def book(tenant_a, csm):
    """Two CSMs with accounts, open renewals and commission plans, and a first nightly run of DAY (the old rows)."""
    return book_with_a_first_night(tenant_a, csm)
