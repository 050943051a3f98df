from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from csplatform import celery_app
from csplatform.tenancy.pages import tenant_page
from csplatform.tenancy.timezones import business_day

from . import selectors, services
from .models import JobRun
from .queue import broker_reachable
from .registry import nightly_jobs


@tenant_page("jobs.view")
def job_runs(request):
    job = request.GET.get("job") or None
    status = request.GET.get("status") or None
    page = Paginator(selectors.job_runs(job=job, status=status), 50).get_page(request.GET.get("page"))
    volume_day, volumes = selectors.latest_table_volumes()
    return render(request, "jobs/runs.html", {
        "page": page,
        "jobs": [j.name for j in nightly_jobs()],
        "statuses": JobRun.Status.choices,
        "selected_job": job or "",
        "selected_status": status or "",
        "volume_day": volume_day,
        "volumes": volumes,
    })


@tenant_page("jobs.view")
def job_run_detail(request, run_id):
    try:
        run = selectors.job_run_get(run_id=run_id)
    except JobRun.DoesNotExist:
        raise Http404("No such job run") from None
    return render(request, "jobs/run_detail.html", {"run": run})


@require_POST
@tenant_page("jobs.run")
def run_nightly_now(request):
    if not broker_reachable(celery_app):
        messages.error(request, "The job queue (Redis) is not answering, so nothing was queued. Try again in a few "
                                "minutes; tonight's run happens anyway once it is back.")
        return redirect("jobs:runs", tenant_slug=request.tenant.slug)
    services.nightly_enqueue(day=business_day(), tenant_ids=[request.tenant.pk], trigger="manual")
    messages.success(request, "Nightly jobs queued for today; refresh to follow their progress.")
    return redirect("jobs:runs", tenant_slug=request.tenant.slug)
