"""The ops home: what to fix today. The nightly jobs, the imports, the last ingest per source, accounts without a
CSM and contacts without an email, each with the page where it gets fixed."""

from django.shortcuts import render
from django.utils import timezone

from csplatform.tenancy.pages import tenant_page

from ..home import ops


@tenant_page("jobs.view")
def page(request):
    now = timezone.now()
    jobs = ops.nightly_status(now=now)
    imports = ops.imports_latest()
    sources = ops.last_ingest(now=now)
    unowned = ops.accounts_without_csm()
    no_email = ops.contacts_without_email()
    return render(request, "insights/home_ops.html", {
        "now": now,
        "jobs": jobs,
        "failures": sum(j["failures"] for j in jobs),
        "failure_days": ops.FAILURE_DAYS,
        "latest_run_days": ops.LATEST_RUN_DAYS,
        "imports": imports,
        "sources": sources,
        "unowned": unowned,
        "no_email": no_email,
        "fixes": _fixes(jobs=jobs, imports=imports, sources=sources, unowned=unowned, no_email=no_email),
    })


def _fixes(*, jobs, imports, sources, unowned, no_email) -> list[str]:
    """The headline: which of the blocks below need someone today (anchors of the page's sections)."""
    fixes = []
    if any(j["failures"] or (j["run"] is not None and j["run"].status in ops.FAILED) or j["run"] is None
           for j in jobs):
        fixes.append("jobs")
    if any(i["run"] is not None and i["run"].status in ops.FAILED for i in imports):
        fixes.append("imports")
    if any(s.quiet for s in sources):
        fixes.append("ingest")
    if unowned:
        fixes.append("owners")
    if no_email["total"]:
        fixes.append("emails")
    return fixes
