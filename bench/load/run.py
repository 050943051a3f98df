"""`make load`: a bounded load against gunicorn on 127.0.0.1 with the generated book, then the figures.

    python -m bench.load.run [--duration 180] [--users 20] [--workers 3] [--port 8765] [--no-write]

Needs DATABASE_URL (the tables' owner: it sets the load users' password and the feed's token) with the book
generated (`manage.py generate_book`), and Redis. The web server and the Celery worker run as production does:
DEBUG off, a random SECRET_KEY, static files collected and served by whitenoise, the runtime database role
(LOAD_APP_DATABASE_URL, else DATABASE_URL) and Redis (LOAD_REDIS_URL, default database 9 of the local Redis,
apart from the tests' 15). Nothing in the settings is relaxed: locust plays the TLS-terminating proxy the
production settings expect (bench/load/locustfile.py). Every process started here is stopped when the run
ends, fails or is interrupted. Figures: bench/load-results.json and the Load section of docs/benchmarks.md.
"""

import argparse
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
WORK_DIR = BASE_DIR / "var" / "load"
VENV_BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=180, help="seconds of load after the ramp-up (180)")
    parser.add_argument("--users", type=int, default=20, help="simulated people plus the usage feed (20)")
    parser.add_argument("--spawn-rate", type=float, default=2, help="users started per second (2)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--csms", type=int, default=30, help="distinct CSMs to log in as (30)")
    parser.add_argument("--tenant", default=None, help="a bench tenant's slug (default: the book's largest)")
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave the files alone")
    parser.add_argument("--command", default="python -m bench.load.run", help="how the run was started (docs)")
    return parser.parse_args(argv)


class Processes:
    """The processes of the run, each in its own session, so stopping one stops its children too."""

    def __init__(self):
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.started.append((name, process))
        return process

    def stop_all(self) -> None:
        """SIGTERM to each leader (gunicorn and Celery then stop their workers gracefully, letting a running
        task finish); SIGKILL to its whole group when it has not stopped within 30 s."""
        for name, process in reversed(self.started):
            if process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in 30 s: killed", file=sys.stderr)
                os.killpg(process.pid, signal.SIGKILL)  # the session's group: the process and its workers
                process.wait()
        self.started.clear()


def cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat (None elsewhere)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the waited-for children, and theirs
    return usage.ru_utime + usage.ru_stime


def _interrupted(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the `finally` that stops the processes


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn: a previous run's TIME_WAIT is fine
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}); see {log}")
        try:
            request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # as the proxy would
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s; see {log}")


def redis_url() -> str:
    return os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def server_env() -> dict:
    """Production settings (as docker-compose's web and worker), plain HTTP on 127.0.0.1."""
    env = dict(os.environ)
    env.update({
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": os.environ.get("LOAD_APP_DATABASE_URL") or os.environ["DATABASE_URL"],
        "REDIS_URL": redis_url(),
        "LOG_LEVEL": "WARNING",
    })
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.pop("TEST_DATABASE_NAME", None)
    return env


def main(argv=None) -> int:
    args = arguments(argv)
    if "DATABASE_URL" not in os.environ:
        print("Set DATABASE_URL to the bench database (make load does).", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    import django

    django.setup()
    from django.db import connection

    from bench.generator import record_read
    from bench.runner import machine

    from .report import results_build, results_write, server_times, stats_read
    from .setup import load_setup, load_teardown

    if not redis_answers(redis_url()):
        print(f"No Redis at {redis_url()} (the Celery broker and the cache): start it or set LOAD_REDIS_URL.",
              file=sys.stderr)
        return 2
    if not port_free(args.port):
        print(f"Port {args.port} on 127.0.0.1 is in use: give another with --port (LOAD_PORT= for make load).",
              file=sys.stderr)
        return 2
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    setup_path = WORK_DIR / "setup.json"
    data = load_setup(path=setup_path, csms=args.csms, tenant_slug=args.tenant)
    record = record_read()
    connection.close()  # the servers get the database to themselves; the report reopens it
    print(f"Load: tenant {data['tenant']}, {len(data['csms'])} CSMs and {len(data['managers'])} managers can log "
          f"in; {args.users} users for {args.duration} s against gunicorn ({args.workers} workers) on port "
          f"{args.port}")

    env = server_env()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env,
                   check=True)
    for stale in [*WORK_DIR.glob("locust_*.csv"), WORK_DIR / "access.log"]:
        stale.unlink(missing_ok=True)
    processes = Processes()
    previous = {s: signal.signal(s, _interrupted) for s in (signal.SIGTERM, signal.SIGHUP)}
    stats_prefix = WORK_DIR / "locust"
    locust_code = None
    started = time.monotonic(), cpu_ticks(), children_cpu_seconds(), os.getloadavg()
    try:
        processes.start("celery", [str(VENV_BIN / "celery"), "-A", "csplatform", "worker", "--concurrency=1",
                                   "--loglevel=warning", "-n", f"load-{os.getpid()}@%h"],
                        env, WORK_DIR / "celery.log")
        web_log = WORK_DIR / "gunicorn.log"
        web = processes.start("gunicorn", [
            str(VENV_BIN / "gunicorn"), "csplatform.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
            "--workers", str(args.workers), "--timeout", "60",
            # %(M)s: milliseconds in the server, per request, to tell server time from queueing in the client.
            "--access-logfile", str(WORK_DIR / "access.log"),
            "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'], env, web_log)
        host = f"http://127.0.0.1:{args.port}"
        wait_until_up(f"{host}/login/", web, web_log)
        locust_env = env | {"LOAD_SETUP": str(setup_path)}
        locust = processes.start("locust", [
            str(VENV_BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", host,
            "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
            "--run-time", f"{args.duration + int(args.users / args.spawn_rate)}s",
            "--csv", str(stats_prefix), "--stop-timeout", "10", "--only-summary", "--loglevel", "WARNING",
            # The figures cover the steady state: counting restarts once every user is running (and logged in).
            "--reset-stats"],
            locust_env, WORK_DIR / "locust.log")
        locust_code = locust.wait()
    finally:
        processes.stop_all()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        load_teardown(tenant_slug=data["tenant"])
    cpu = _cpu_use(started, cpu_ticks(), children_cpu_seconds())

    if not Path(f"{stats_prefix}_stats.csv").exists():
        print(f"locust wrote no statistics (exit {locust_code}); see {WORK_DIR / 'locust.log'}", file=sys.stderr)
        return 1
    rows, total, failures = stats_read(stats_prefix)
    from django.utils import timezone

    from accounts.models import Account
    from csplatform.tenancy.context import tenant_context
    from csplatform.tenancy.models import Tenant

    tenant = Tenant.objects.get(slug=data["tenant"])
    with tenant_context(tenant):
        tenant_accounts = Account.objects.count()
    p = record["params"]
    people = args.users - 1
    run = {
        "command": args.command, "date": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": args.duration, "gunicorn_workers": args.workers, "tenant": tenant.slug,
        "database_role": urllib.parse.urlsplit(env["DATABASE_URL"]).username,
        "tenant_accounts": tenant_accounts, "cpu": cpu,
        "load_average_before": ", ".join(f"{x:.1f}" for x in started[3]),
        "book": f"{p['tenants']} tenants, {p['accounts']:,} accounts, {p['days']} days, seed {p['seed']}",
        "think_time": f"{os.environ.get('LOAD_THINK_MIN', '1')}-{os.environ.get('LOAD_THINK_MAX', '4')} s",
        "users": {"total": args.users, "spawn_rate": args.spawn_rate,
                  "description": f"about {_count(round(people * 3 / 4), 'CSM')} and "
                                 f"{_count(round(people / 4), 'manager')} by weight, "
                                 f"1 usage feed posting {os.environ.get('LOAD_BATCH_EVENTS', '1000')} events every "
                                 f"{os.environ.get('LOAD_INGEST_EVERY', '2')} s"},
    }
    results = results_build(rows=rows, total=total, failures=failures, run=run, machine=machine(),
                            server=server_times(WORK_DIR / "access.log", resolve_name=_route_name))
    _print(results)
    if not args.no_write:
        from bench.runner import BENCHMARKS_MD

        results_write(results, doc_path=BENCHMARKS_MD)
        print("Written: bench/load-results.json and the Load section of docs/benchmarks.md")
    return 0 if results["verdict"]["errors"] == 0 else 1


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _cpu_use(started, ticks, children_seconds) -> dict:
    """How busy the machine was while the servers ran, and how much of it was this run's own processes
    (gunicorn, Celery, locust; PostgreSQL's backends are not separated): to tell a noisy run from a slow app."""
    wall = time.monotonic() - started[0]
    own = children_seconds - started[2]
    out = {"seconds": round(wall, 1), "cpus": os.cpu_count(), "own_cpu_seconds": round(own, 1)}
    if ticks and started[1]:
        busy, total = ticks[0] - started[1][0], ticks[1] - started[1][1]
        out["machine_busy_percent"] = round(100 * busy / total, 1) if total else None
    return out


def _route_name(path: str) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def _print(results: dict) -> None:
    print(f"{'request':<45} {'n':>6} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'err':>5}")
    for row in results["requests"] + [dict(results["total"], name="all")]:
        print(f"{row['name']:<45} {row['requests']:>6} {row['rps']:>6.2f} {row['p50_ms'] or 0:>6.0f} "
              f"{row['p95_ms'] or 0:>6.0f} {row['p99_ms'] or 0:>6.0f} {row['failures']:>5}")
    for t in results["server"]:
        print(f"  in the server: {t['method']} {t['route']}: {t['requests']} requests, p50 {t['p50_ms']:.0f} ms, "
              f"p95 {t['p95_ms']:.0f} ms")
    for failure in results["failures"]:
        print(f"  error: {failure['method']} {failure['name']}: {failure['error']} ({failure['occurrences']}x)")
    v = results["verdict"]
    print(f"Target ({v['target']}): " + ("met" if v["met"] else f"not met (slow: {v['slow_pages']}, "
                                                                  f"errors: {v['errors']})"))


if __name__ == "__main__":
    sys.exit(main())
