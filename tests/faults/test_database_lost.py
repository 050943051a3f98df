"""PostgreSQL lost during a request (its session terminated, as a restart or failover does): the request fails
cleanly (503 with Retry-After, JSON under /api/, a plain page elsewhere, no traceback), and the next one works,
also when the lost connection was a kept one (CONN_MAX_AGE with CONN_HEALTH_CHECKS). Against gunicorn in
production mode (DEBUG off), because Django's test client keeps one connection for the whole test. A nightly task
that loses its connection mid-job is retried and finishes. The real restart (pg_ctlcluster) is in `make chaos`
(scripts/chaos.py)."""

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid

import pytest

from csplatform.tenancy.services import api_token_create
from tests.factories import AccountFactory

from .night import attempts, enqueue_night, health_rows, night_finished
from .processes import LockHolder, database_url, free_port, pg_connect, session_alive, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LEAKS = ("Traceback", "psycopg2", "OperationalError", "terminating connection", "File \"/")


def fetch(url: str, token: str | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def web(tenant_a, owner):
    """gunicorn (one sync worker, kept connections) on this test database, and an API token of tenant A's ops."""
    AccountFactory(tenant=tenant_a, name="Initech")
    token = api_token_create(tenant=tenant_a, user=owner, name="faults")[1]
    port, app_name = free_port(), f"faults-web-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "DATABASE_URL": database_url(application_name=app_name), "REDIS_URL": "",
           "DEBUG": "false", "SECRET_KEY": "faults-test-only", "SECURE_SSL_REDIRECT": "false",
           "CONN_MAX_AGE": "60"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "csplatform.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "120"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    class Web:
        base = f"http://127.0.0.1:{port}"
        application_name = app_name

        def api(self, path):
            return fetch(f"{self.base}/api/v1{path}", token)

        def get(self, path):
            return fetch(f"{self.base}{path}")

    server = Web()

    def ready():
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {process.stderr.read()[-3000:]}")
        try:
            return server.api("/me/")[0] == 200
        except OSError:
            return False

    try:
        wait_for(ready, "gunicorn to answer")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def during(request, holder: LockHolder, table: str):
    """Sends `request` while `holder` locks `table`, terminates the session that waits on it, and returns the answer."""
    holder.lock_table(table)
    answer = {}
    thread = threading.Thread(target=lambda: answer.update(result=request()))
    thread.start()
    victim = wait_for(lambda: holder.waiting_session(table), f"the request to wait on {table}")
    holder.query("SELECT pg_terminate_backend(%s)", [victim])
    holder.release()
    thread.join(timeout=120)
    return answer["result"]


def test_an_api_request_that_loses_its_database_answers_503_and_the_next_one_works(web, tenant_a, lock_holder):
    status, headers, body = during(lambda: web.api("/accounts/"), lock_holder, "accounts_account")
    assert status == 503, body
    assert headers["Content-Type"] == "application/json" and headers["Retry-After"] == "10"
    assert json.loads(body) == {"detail": "The service is briefly unavailable: please try again shortly."}
    assert not [leak for leak in LEAKS if leak in body]

    status, _, body = web.api("/accounts/")
    assert status == 200 and "Initech" in body


def test_a_page_that_loses_its_database_answers_a_plain_503_page(web, lock_holder):
    status, headers, body = during(lambda: web.get("/survey/alpha/some-token/"), lock_holder, "health_surveyinvite")
    assert status == 503 and headers["Retry-After"] == "10"
    assert "Briefly unavailable" in body and not [leak for leak in LEAKS if leak in body]


def test_the_next_request_reconnects_when_the_kept_connection_died_in_between(web):
    assert web.api("/accounts/")[0] == 200

    def web_sessions():
        conn = pg_connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [web.application_name])
                return [row[0] for row in cursor.fetchall()]
        finally:
            conn.close()

    kept = web_sessions()
    assert len(kept) == 1  # CONN_MAX_AGE kept it open after the request
    conn = pg_connect()
    with conn.cursor() as cursor:  # what a restart does to every open session
        cursor.execute("SELECT pg_terminate_backend(%s)", [kept[0]])
    conn.close()
    wait_for(lambda: not session_alive(kept[0]), "the kept session to end")

    status, _, body = web.api("/accounts/")
    assert status == 200 and "Initech" in body  # CONN_HEALTH_CHECKS noticed the dead connection and reconnected


def test_a_nightly_task_that_loses_its_database_mid_job_is_retried_and_finishes(book, workers, lock_holder):
    old_computed, old_portfolio, _, _ = health_rows(lock_holder)
    lock_holder.lock_table("health_portfoliohealthdaily")
    workers.start()
    enqueue_night(book, workers)
    victim = wait_for(lambda: lock_holder.waiting_session("DELETE FROM health_portfoliohealthdaily"),
                      "the health job to wait on the band counts, its scores written")
    lock_holder.query("SELECT pg_terminate_backend(%s)", [victim])  # what a restart does to the job's session
    assert health_rows(lock_holder)[:2] == (old_computed, old_portfolio)

    lock_holder.release()
    wait_for(lambda: night_finished(book), "the task, retried, to finish the tenant's night")
    computed, portfolio, from_scores, from_portfolio = health_rows(lock_holder)
    assert len(computed) == 1 and computed != old_computed and not portfolio & old_portfolio
    assert from_portfolio == from_scores
    assert attempts(book, "health.scores") == ["failed", "succeeded"]
