"""`make chaos`: the fault drills that need real processes, run against gunicorn and a Celery worker on a scratch
database, with what each step showed printed and written into docs/reliability.md ("What make chaos showed").

Steps:
1. worker killed: a tenant's nightly run is stopped in the middle of its health recompute (a second session holds
   a lock on the table the job writes last), the whole worker gets SIGKILL, a new worker starts and the task is
   delivered again (visibility timeout, 5 s here) and finishes; the tenant's rows were the old run's meanwhile.
2. Redis down: Redis is shut down; pages, logins, survey links and the API keep answering; a usage batch is
   accepted and committed, its refresh cannot be queued; Redis is started again (the same command as .ci/run)
   and the next batch queues the lost refresh, which the worker (reconnected) runs.
3. PostgreSQL restart: a request is in flight (it waits on a lock) when `pg_ctlcluster 15 main restart` runs; it
   answers 503 without a traceback, and the next requests (API and page) and jobs work. This restarts the
   machine's PostgreSQL for everyone: skipped when a test run (pytest) or a load run shares the server, unless
   --force-pg-restart.

The scratch database (APP_DB_NAME=csplatform_chaos, recreated each run) and a Redis of the script's own on
--redis-port (6391 by default; started with .ci/run's flags, shut down at the end) keep the drills away from the
app's and the tests' data. With --redis-port 6379 it stops and restarts the shared Redis: only when nothing else
uses it. Needs root for pg_ctlcluster (step 3) and redis-server/redis-cli on PATH.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LOGS = ROOT / "var" / "chaos"
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- chaos:start -->", "<!-- chaos:end -->"
DB_NAME = "csplatform_chaos"
PG_CLUSTER = ("15", "main")  # --pg-cluster
VISIBILITY_TIMEOUT = 5  # seconds before a dead worker's task goes to another worker (3600 in production)
LEAKS = ("Traceback", "psycopg2", "OperationalError", "terminating connection")


class ChaosFailed(Exception):
    pass


def wait_for(condition, what: str, timeout: float = 120, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ChaosFailed(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the scratch database --------------------------------------------------------------------------------------


def admin_connect(dbname="postgres"):
    conn = psycopg2.connect(host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "5432"),
                            user=os.environ.get("PG_SUPERUSER", "postgres"), dbname=dbname, connect_timeout=5)
    conn.autocommit = True
    return conn


def fresh_database() -> str:
    conn = admin_connect()
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [DB_NAME])
        cursor.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    conn.close()
    out = subprocess.run([PY, "scripts/pg_bootstrap.py"], cwd=ROOT, env={**os.environ, "APP_DB_NAME": DB_NAME},
                         capture_output=True, text=True)
    if out.returncode:
        raise ChaosFailed(f"scripts/pg_bootstrap.py failed: {out.stderr.strip()}")
    return out.stdout.strip()


def pg_ready() -> bool:
    try:
        admin_connect().close()
        return True
    except psycopg2.OperationalError:
        return False


class Holder:
    """A superuser session on the scratch database that holds a lock, so a job or request stops where it needs it."""

    def __init__(self):
        self.conn = admin_connect(DB_NAME)
        self.conn.autocommit = False
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pid = cursor.fetchone()[0]

    def query(self, sql, params=()):
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def waiting_session(self, fragment: str):
        probe = admin_connect(DB_NAME)
        with probe.cursor() as cursor:
            cursor.execute("SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [self.pid])
            rows = cursor.fetchall()
        probe.close()
        return next((pid for pid, query in rows if fragment in query.replace('"', "")), None)

    def release(self):
        self.conn.rollback()

    def close(self):
        try:
            self.conn.close()
        except psycopg2.Error:
            pass


def session_alive(pid: int) -> bool:
    probe = admin_connect(DB_NAME)
    with probe.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        alive = cursor.fetchone() is not None
    probe.close()
    return alive


# --- Redis ---------------------------------------------------------------------------------------------------------


class Redis:
    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.was_running = self.answers()

    def answers(self) -> bool:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return out.stdout.strip() == "PONG"

    def start(self):
        # The command .ci/run uses (no persistence: what was queued in Redis is gone after a restart).
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port),
                        "--save", "", "--appendonly", "no"], check=True, stdout=subprocess.DEVNULL)
        wait_for(self.answers, f"Redis on port {self.port}")

    def stop(self):
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        wait_for(lambda: not self.answers(), f"Redis on port {self.port} to stop")


# --- the application's processes -----------------------------------------------------------------------------------


class Process:
    def __init__(self, name: str, argv: list[str], env: dict):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log = open(LOGS / f"{name}.log", "a")
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self):
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def start_worker(env) -> Process:
    return Process("worker", [PY, "-m", "celery", "-A", "csplatform", "worker", "--concurrency=1",
                              "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=info"], env)


class Http:
    """A tiny HTTP client with a cookie store that ignores the Secure flag (gunicorn here speaks plain HTTP; the
    app is told the request came over HTTPS, as behind the TLS proxy it expects in production)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, method, path, *, data=None, json_body=None, token=None, timeout=60):
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://{urllib.parse.urlsplit(self.base).netloc}/"}
        body = None
        if json_body is not None:
            body, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=timeout)
            status, response_headers, text = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            status, response_headers, text = error.code, error.headers, error.read().decode()
        for cookie in response_headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, dict(response_headers), text

    def login(self, email, password) -> int:
        status, _, page = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not token:
            return status
        return self.request("POST", "/login/", data={"username": email, "password": password,
                                                     "csrfmiddlewaretoken": token.group(1)})[0]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def leaks(body: str) -> list[str]:
    return [leak for leak in LEAKS if leak in body]


# --- the drills ----------------------------------------------------------------------------------------------------


class Drill:
    def __init__(self, args):
        self.args = args
        self.results: list[tuple[str, str, bool | None]] = []  # (step, what it showed, as expected)

    def note(self, step: str, shown: str, ok: bool | None = True):
        """`ok`: as expected (True), not (False), or the step did not run (None)."""
        self.results.append((step, shown, ok))
        print(f"  [{ {True: 'ok', False: 'UNEXPECTED', None: 'skipped'}[ok] }] {shown}", flush=True)

    def setup(self):
        print(f"Scratch database {DB_NAME}: recreating, migrating, seeding the demo", flush=True)
        for old_log in LOGS.glob("*.log"):
            old_log.unlink()
        url = fresh_database()
        self.redis = Redis(self.args.redis_port)
        if not self.redis.was_running:
            self.redis.start()
        self.env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": self.redis.url,
                    "CACHE_REDIS_URL": self.redis.url.replace("/0", "/1"),
                    "DEBUG": "false", "SECRET_KEY": "chaos-drill-only", "SECURE_SSL_REDIRECT": "false",
                    "CONN_MAX_AGE": "60", "DEMO_SCORE_HISTORY_DAYS": "35",
                    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                    # A signal's refresh runs a second later, and one not run by then counts as lost (so the drill
                    # shows the next batch re-queueing it without waiting five minutes).
                    "HEALTH_REFRESH_DELAY_SECONDS": "1", "HEALTH_REFRESH_LOST_AFTER_SECONDS": "0"}
        self.env.pop("TEST_DATABASE_NAME", None)
        setup_env = {**self.env, "CELERY_TASK_ALWAYS_EAGER": "true"}
        for command in (["migrate", "--noinput"], ["seed_demo"], ["collectstatic", "--noinput"]):
            out = subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=setup_env, capture_output=True, text=True)
            if out.returncode:
                raise ChaosFailed(f"manage.py {' '.join(command)} failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
        # This process speaks to the scratch database and the drill's Redis as the app does.
        os.environ.update({k: v for k, v in self.env.items() if k != "DEBUG"})
        os.environ["DJANGO_SETTINGS_MODULE"] = "csplatform.settings"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from csplatform.tenancy.models import Tenant, User
        from csplatform.tenancy.services import api_token_create

        self.tenant = Tenant.objects.get(slug="acme")
        ops = User.objects.get(email="ops@acme.example")
        self.token = api_token_create(tenant=self.tenant, user=ops, name="chaos")[1]
        self.port = free_port()
        self.web = Process("gunicorn", [PY, "-m", "gunicorn", "csplatform.wsgi", "-b", f"127.0.0.1:{self.port}",
                                        "-w", "2", "--timeout", "120"], self.env)
        self.http = Http(f"http://127.0.0.1:{self.port}")
        wait_for(lambda: self._answers(), "gunicorn to answer")
        self.worker = start_worker(self.env)
        print(f"gunicorn on 127.0.0.1:{self.port}, a Celery worker, Redis on port {self.redis.port}; logs in "
              f"{LOGS.relative_to(ROOT)}/", flush=True)

    def _answers(self):
        try:
            return self.http.request("GET", "/api/v1/me/", token=self.token)[0] == 200
        except OSError:
            return False

    def job_attempts(self, job, day, trigger="schedule"):
        from csplatform.jobs.models import JobRun
        from csplatform.tenancy.context import tenant_context

        with tenant_context(self.tenant):
            return list(JobRun.objects.filter(job=job, day=day, trigger=trigger).order_by("pk")
                        .values_list("status", flat=True))

    def count(self, model):
        from csplatform.tenancy.context import tenant_context

        with tenant_context(self.tenant):
            return model.objects.count()

    # 1 ------------------------------------------------------------------------------------------------------------
    def worker_killed(self):
        from django.utils import timezone

        from csplatform.jobs.tasks import run_nightly_for_tenant

        step = "Worker killed mid-recompute"
        print(f"\n1. {step}", flush=True)
        day, tid = timezone.localdate(), self.tenant.pk
        holder = Holder()

        def rows():
            computed = {r[0] for r in holder.query(
                "SELECT DISTINCT computed_at FROM health_healthscore WHERE tenant_id = %s AND day = %s", [tid, day])}
            portfolio = {r[0] for r in holder.query(
                "SELECT id FROM health_portfoliohealthdaily WHERE tenant_id = %s AND day = %s", [tid, day])}
            return computed, portfolio

        try:
            old = rows()
            scores = holder.query("SELECT count(*) FROM health_healthscore WHERE tenant_id = %s AND day = %s",
                                  [tid, day])[0][0]
            holder.query("LOCK TABLE health_portfoliohealthdaily IN ACCESS EXCLUSIVE MODE")
            run_nightly_for_tenant.delay(tid, day.isoformat(), "schedule")
            victim = wait_for(lambda: holder.waiting_session("DELETE FROM health_portfoliohealthdaily"),
                              "the health job to reach the band counts")
            self.worker.kill()
            killed = time.monotonic()
            attempts = self.job_attempts("health.scores", day)
            self.note(step, f"the worker was SIGKILLed while acme's health recompute ({scores} accounts) had written "
                            f"its scores (uncommitted) and waited on the band counts; attempts: {attempts}")
            wait_for(lambda: not session_alive(victim), "PostgreSQL to end the dead worker's session")
            self.note(step, "PostgreSQL ended the dead worker's session (client_connection_check_interval) and "
                            "rolled its transaction back", True)
            same = rows() == old
            self.note(step, f"acme's scores and band counts for {day} are all the previous run's: {same}", same)
            holder.release()
            # A starting worker hands back the tasks unacknowledged for longer than the visibility timeout (later
            # ones only at its periodic sweep, every 100 s): start it once the dead worker's task is that old.
            time.sleep(max(0.0, killed + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
            started = time.monotonic()
            self.worker = start_worker(self.env)
            wait_for(lambda: "succeeded" in self.job_attempts("platform.table_volume", day),
                     "the restarted worker to take the task over and finish the night")
            new = rows()
            whole = len(new[0]) == 1 and new[0] != old[0] and new[1] and not new[1] & old[1]
            attempts = self.job_attempts("health.scores", day)
            self.note(step, f"a worker started {VISIBILITY_TIMEOUT}s (the visibility timeout) after the kill took "
                            f"the unacknowledged task over and finished the night "
                            f"{time.monotonic() - started:.0f}s later; scores and band counts all the new run's: "
                            f"{bool(whole)}", bool(whole))
            self.note(step, f"JobRun health.scores attempts: {attempts}", attempts == ["interrupted", "succeeded"])
        finally:
            holder.close()

    # 2 ------------------------------------------------------------------------------------------------------------
    def redis_down(self):
        from django.utils import timezone

        from accounts.models import Account
        from csplatform.jobs.queue import BROKER_COOLDOWN_SECONDS
        from csplatform.tenancy.context import tenant_context
        from health.models import PendingRefresh, UsageBatch

        step = "Redis down"
        print(f"\n2. {step}", flush=True)
        with tenant_context(self.tenant):
            accounts = list(Account.objects.order_by("pk").values_list("external_id", "pk")[:4])

        def batch(batch_id, external_ids):
            when = (timezone.now() - timedelta(minutes=5)).isoformat()
            return {"batch_id": batch_id, "events": [
                {"account": ext, "occurred_at": when, "event": "login", "user_id": f"u{i}"}
                for ext in external_ids for i in range(3)]}

        self.redis.stop()
        self.note(step, f"Redis on port {self.redis.port} shut down (nosave)")
        pages = Http(self.http.base)
        checks = {
            "login page": pages.request("GET", "/login/")[0],
            "login (ops@acme.example)": pages.login("ops@acme.example", os.environ.get("DEMO_PASSWORD",
                                                                                       "demo-cs-2026")),
            "accounts page": pages.request("GET", "/t/acme/accounts/")[0],
            "health page": pages.request("GET", "/t/acme/health/")[0],
            "survey link (unknown token)": pages.request("GET", "/survey/acme/no-such-token/")[0],
            "API GET /accounts/": self.http.request("GET", "/api/v1/accounts/", token=self.token)[0],
        }
        expected = {"login page": 200, "login (ops@acme.example)": 302, "accounts page": 200, "health page": 200,
                    "survey link (unknown token)": 404, "API GET /accounts/": 200}
        self.note(step, "answers with Redis down: " + ", ".join(f"{k} {v}" for k, v in checks.items()),
                  checks == expected)
        batches_before = self.count(UsageBatch)
        started = time.monotonic()
        status, _, body = self.http.request("POST", "/api/v1/usage-events/", token=self.token,
                                            json_body=batch("chaos-down", [a[0] for a in accounts[:2]]))
        took = time.monotonic() - started
        kept = self.count(UsageBatch) == batches_before + 1
        pending = self.count(PendingRefresh)
        self.note(step, f"usage batch while Redis is down: {status} in {took:.1f}s, batch committed: {kept}, "
                        f"accounts marked for a refresh: {pending}", status == 201 and kept and pending >= 2)
        self.note(step, f"the worker is still running (retrying the broker): {self.worker.alive()}",
                  self.worker.alive())

        self.redis.start()
        self.note(step, "Redis started again with .ci/run's command (no persistence: what was queued in it is gone)")
        # The web workers skip Redis for BROKER_COOLDOWN_SECONDS after a failure, then try it again.
        time.sleep(BROKER_COOLDOWN_SECONDS + 1)
        refreshes_before = len(self.job_attempts("health.refresh", timezone.localdate(), trigger="signal"))
        status, _, _ = self.http.request("POST", "/api/v1/usage-events/", token=self.token,
                                         json_body=batch("chaos-back", [a[0] for a in accounts[2:4]]))
        started = time.monotonic()
        wait_for(lambda: self.count(PendingRefresh) == 0, "the lost refresh to run once Redis was back")
        refreshes = self.job_attempts("health.refresh", timezone.localdate(), trigger="signal")[refreshes_before:]
        self.note(step, f"next batch after Redis came back: {status}; it queued the refresh the first batch lost, "
                        f"the reconnected worker ran it {time.monotonic() - started:.0f}s later "
                        f"(health.refresh: {refreshes}), no account left pending",
                  status == 201 and "succeeded" in refreshes)

    # 3 ------------------------------------------------------------------------------------------------------------
    def postgres_restart(self):
        from django.db import connection
        from django.utils import timezone

        from csplatform.jobs.tasks import run_job_for_tenant

        step = "PostgreSQL restart"
        print(f"\n3. {step}", flush=True)
        others = shared_server_users()
        if others and not self.args.force_pg_restart:
            self.note(step, "skipped: other processes use this PostgreSQL (" + "; ".join(others)[:300] +
                            "); rerun `make chaos` when they are done, or with CHAOS_ARGS=--force-pg-restart", None)
            return
        if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
            self.note(step, "skipped: needs root and pg_ctlcluster to restart PostgreSQL", None)
            return
        holder = Holder()
        holder.query("LOCK TABLE accounts_account IN ACCESS EXCLUSIVE MODE")
        answer = {}
        thread = threading.Thread(target=lambda: answer.update(
            r=self.http.request("GET", "/api/v1/accounts/", token=self.token)))
        thread.start()
        wait_for(lambda: holder.waiting_session("accounts_account"), "the request to be in flight")
        started = time.monotonic()
        subprocess.run(["pg_ctlcluster", *PG_CLUSTER, "restart"], check=True)
        wait_for(pg_ready, "PostgreSQL to accept connections")
        self.note(step, f"`pg_ctlcluster {' '.join(PG_CLUSTER)} restart` while an API request was in flight: "
                        f"PostgreSQL back in {time.monotonic() - started:.1f}s")
        holder.close()
        thread.join(timeout=120)
        status, headers, body = answer["r"]
        self.note(step, f"the request in flight answered {status} (Retry-After {headers.get('Retry-After')}), "
                        f"traceback or driver text in the body: {leaks(body) or 'none'}",
                  status == 503 and not leaks(body))
        connection.close()  # this script's own connection died with the restart
        after = [self.http.request("GET", "/api/v1/accounts/", token=self.token)[0] for _ in range(4)]
        pages = Http(self.http.base)
        pages.login("ops@acme.example", os.environ.get("DEMO_PASSWORD", "demo-cs-2026"))
        page = pages.request("GET", "/t/acme/accounts/")[0]
        self.note(step, f"the next requests (two gunicorn workers, kept connections): API {after}, page {page}",
                  after == [200] * 4 and page == 200)
        day = timezone.localdate()
        run_job_for_tenant.delay("platform.table_volume", self.tenant.pk, day.isoformat(), "chaos")
        wait_for(lambda: "succeeded" in self.job_attempts("platform.table_volume", day, trigger="chaos"),
                 "a job to run after the restart")
        self.note(step, "a job queued after the restart ran in the same worker: succeeded")

    def teardown(self):
        for name in ("worker", "web"):
            process = getattr(self, name, None)
            if process is not None:
                process.stop()
        redis = getattr(self, "redis", None)
        if redis is not None:
            if not redis.answers():
                redis.start()  # leave it as we found it: running
            if not redis.was_running:
                redis.stop()


def shared_server_users() -> list[str]:
    """Other processes that use this PostgreSQL (test runs, load runs) and a restart would break."""
    out = subprocess.run(["pgrep", "-af", "pytest|locust|run_bench|schemathesis"], capture_output=True, text=True)
    mine = {str(os.getpid()), str(os.getppid())}
    return [line for line in out.stdout.splitlines() if line.split(" ", 1)[0] not in mine and "pgrep" not in line]


def write_doc(drill: Drill, started: datetime, seconds: float):
    command = " ".join(["scripts/chaos.py", *sys.argv[1:]])
    lines = [START, "", f"Last run: {started:%Y-%m-%d %H:%M} UTC, {seconds:.0f}s, `{command}` (PostgreSQL cluster "
             f"{'/'.join(PG_CLUSTER)} on port {os.environ.get('PGPORT', '5432')}, Redis on port "
             f"{drill.args.redis_port}).", ""]
    step = None
    for name, shown, ok in drill.results:
        if name != step:
            lines += ["", f"**{name}**", ""] if step else [f"**{name}**", ""]
            step = name
        lines.append(f"- { {True: '', False: '**Unexpected:** ', None: '**Not run:** '}[ok] }{shown}")
    lines += ["", END]
    text = DOC.read_text() if DOC.exists() else ""
    if START in text and END in text:
        text = text[:text.index(START)] + "\n".join(lines) + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## What make chaos showed\n\n" + "\n".join(lines) + "\n"
    DOC.write_text(text)
    print(f"\nWrote the results into {DOC.relative_to(ROOT)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("CHAOS_REDIS_PORT", 6391)))
    parser.add_argument("--skip-pg-restart", action="store_true", help="leave PostgreSQL alone (step 3)")
    parser.add_argument("--pg-cluster", default="15/main",
                        help="VERSION/NAME of the cluster on PGPORT that step 3 restarts with pg_ctlcluster")
    parser.add_argument("--force-pg-restart", action="store_true",
                        help="restart PostgreSQL even when test or load runs use it (they will fail)")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/reliability.md alone")
    args = parser.parse_args()
    for tool in ("redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            sys.exit(f"make chaos needs {tool} on PATH (apt-get install redis-server)")
    if not pg_ready():
        sys.exit("make chaos needs PostgreSQL on 127.0.0.1:5432 with the postgres superuser (scripts/pg_bootstrap.py)")
    global PG_CLUSTER
    PG_CLUSTER = tuple(args.pg_cluster.split("/", 1))
    drill = Drill(args)
    started, clock = datetime.now(UTC), time.monotonic()
    failed = None
    try:
        drill.setup()
        drill.worker_killed()
        drill.redis_down()
        if args.skip_pg_restart:
            drill.note("PostgreSQL restart", "skipped (--skip-pg-restart)", None)
        else:
            drill.postgres_restart()
    except ChaosFailed as error:
        failed = str(error)
        drill.note("Stopped", f"the drill stopped: {failed}", False)
    finally:
        drill.teardown()
    if not args.no_doc and drill.results:
        write_doc(drill, started, time.monotonic() - clock)
    unexpected = [r for r in drill.results if r[2] is False]
    skipped = [r for r in drill.results if r[2] is None]
    print(f"\n{len(drill.results) - len(unexpected) - len(skipped)} of {len(drill.results)} observations as expected"
          + (f", {len(skipped)} step(s) not run" if skipped else ""))
    sys.exit(1 if failed or unexpected else 0)


if __name__ == "__main__":
    main()
