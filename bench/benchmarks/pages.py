"""The main pages on the largest book tenant: median and p95 server time over 50 requests each, and queries.

Each page is requested through Django's test client as the person who uses it (a CSM of the tenant for their
own pages, the first manager for the team pages), after one warm-up request; the time is the whole request
inside the process (middleware, tenant context, view, template), without a network. The query count is the
number of SQL statements of one request. Pages have no PostgreSQL floor: the target is absolute (a median under
150 ms on this machine), and every page's query count must not grow with the data (tests assert the same count
at 20 and 200 accounts; this benchmark shows the count at the largest tenant's size).
"""

import statistics
import time

from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Role
from renewals.retention_trend import retention_trend_store

from ..runner import BenchContext, result

NAME = "pages"
WHAT = "Main pages on the largest tenant, slowest median of 50 requests"
TARGET_MS = 150
REQUESTS = 50

# (label, who, url name, needs an account id)
PAGES = [
    ("Account list", "csm", "accounts:list", False),
    ("Account 360", "csm", "accounts:detail", True),
    ("Portfolio dashboard", "manager", "health:portfolio", False),
    ("Renewals board", "manager", "renewals:board", False),
    ("Forecast page", "manager", "forecast:page", False),
    ("My work", "csm", "plans:my_work", False),
    ("Team compensation", "manager", "compensation:team", False),
    ("Team (targets, reports, coverage)", "manager", "team:page", False),
    ("Headlines (executive home)", "manager", "homes:executive", False),
    ("What to fix today (ops home)", "manager", "homes:ops", False),
    ("Search results", "csm", "search:results", False),
]
QUERY = {"search:results": "?q=inc"}  # a common fragment of company names: every section has hits


def run(ctx: BenchContext) -> dict:
    tenant = ctx.tenants[0]
    people = _people(tenant)
    with tenant_context(tenant):
        account_id = (Account.objects.filter(csm_id=people["csm"].pk, status=Account.Status.ACTIVE)
                      .order_by("-arr", "id").values_list("id", flat=True).first())
        # As after tonight's run: the forecast job stores today's GRR/NRR trend, which the forecast page reads
        # (idempotent: the day's rows are replaced). Untimed.
        retention_trend_store(tenant=tenant, day=timezone.localdate())
    requests = max(10, REQUESTS if ctx.repeat >= 3 else ctx.repeat * 10)
    ctx.out(f"  {NAME}: tenant {tenant.slug} ({ctx.record['tenants'][0]['accounts']:,} accounts), "
            f"{len(PAGES)} pages x {requests} requests")
    clients = {}
    for who, user in people.items():
        clients[who] = Client()
        clients[who].force_login(user)
    figures = {}
    for label, who, url_name, with_account in PAGES:
        kwargs = {"tenant_slug": tenant.slug} | ({"account_id": account_id} if with_account else {})
        url = reverse(url_name, kwargs=kwargs) + QUERY.get(url_name, "")
        client = clients[who]
        statements = []
        with connection.execute_wrapper(_counting(statements)):
            response = client.get(url)  # the warm-up, and the query count
        if response.status_code != 200:
            raise RuntimeError(f"{label}: {url} answered {response.status_code}")
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        figures[label] = {"median": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1],
                          "queries": len(statements), "url": url.replace(tenant.slug, "<slug>", 1)}
        ctx.out(f"    {label}: median {figures[label]['median']:.0f} ms, p95 {figures[label]['p95']:.0f} ms, "
                f"{len(statements)} queries")
    slowest = max(figures, key=lambda label: figures[label]["median"])
    value = figures[slowest]["median"]
    return result(
        name=NAME, what=WHAT, value=round(value, 1), unit="ms", floor=None, ratio=None,
        target=f"every page's median under {TARGET_MS} ms", met=value < TARGET_MS,
        note=(f"Each page {requests} times through Django's test client after a warm-up, as the CSM or manager "
              f"who uses it, on the largest book tenant ({tenant.slug}); the slowest median is the figure "
              f"({slowest}). Server time in the process, no network. Query counts are per request."),
        details={label: f"median {f['median']:.1f} ms, p95 {f['p95']:.1f} ms, {f['queries']} queries ({f['url']})"
                 for label, f in figures.items()},
    )


def _counting(statements: list):
    """Counts the SQL statements of a request (the request-started signal clears Django's own query log)."""
    def wrapper(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)
    return wrapper


def _people(tenant) -> dict:
    """The tenant's first CSM (by email) and that CSM's manager."""
    csm = (Membership.objects.filter(tenant=tenant, role=Role.CSM).select_related("user", "manager")
           .order_by("user__email").first())
    if csm is None:
        raise RuntimeError("The book's largest tenant has no CSM: regenerate it with `manage.py generate_book`.")
    return {"csm": csm.user, "manager": csm.manager or csm.user}
