from django.db.models import Max

from .models import JobRun, TableVolume


def job_runs(*, job: str | None = None, status: str | None = None):
    runs = JobRun.objects.all()
    if job:
        runs = runs.filter(job=job)
    if status:
        runs = runs.filter(status=status)
    return runs


def job_run_get(*, run_id: int) -> JobRun:
    """Current tenant's run or DoesNotExist (another tenant's id looks the same as a missing one)."""
    return JobRun.objects.get(pk=run_id)


def latest_table_volumes():
    """The latest day's row counts, with the previous recorded day's count for comparison."""
    latest_day = TableVolume.objects.aggregate(day=Max("day"))["day"]
    if latest_day is None:
        return None, []
    previous_day = TableVolume.objects.filter(day__lt=latest_day).aggregate(day=Max("day"))["day"]
    rows = {v.table_name: {"table": v.table_name, "rows": v.row_count, "previous": None}
            for v in TableVolume.objects.filter(day=latest_day)}
    if previous_day:
        for v in TableVolume.objects.filter(day=previous_day, table_name__in=rows):
            rows[v.table_name]["previous"] = v.row_count
    return latest_day, sorted(rows.values(), key=lambda r: r["table"])
