"""The ordered list of nightly jobs. Apps register theirs in `<app>/jobs.py`.

A job is `func(*, tenant, day) -> int` (rows written). It runs inside `tenant_context(tenant)`, in
one transaction, and must be idempotent for (tenant, day): running it twice leaves the same rows.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable
    order: int


_JOBS: dict[str, Job] = {}


def nightly_job(name: str, *, order: int):
    """Registers a nightly job. `order` sets the sequence within a tenant (health before forecast)."""

    def decorator(func):
        _JOBS[name] = Job(name=name, func=func, order=order)
        return func

    return decorator


def nightly_jobs() -> list[Job]:
    return sorted(_JOBS.values(), key=lambda job: (job.order, job.name))


def get_job(name: str) -> Job:
    try:
        return _JOBS[name]
    except KeyError:
        raise KeyError(f"Unknown job {name!r}; registered: {', '.join(sorted(_JOBS))}") from None


def register(job: Job) -> None:
    _JOBS[job.name] = job


def unregister(name: str) -> None:
    _JOBS.pop(name, None)
