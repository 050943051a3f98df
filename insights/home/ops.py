"""What ops should fix today: the nightly jobs (each one's latest run, failures of the last week), the imports,
when each data source last sent anything, accounts nobody owns, contacts nobody can email.

Every read is one indexed query whatever the size of the book: the latest runs come from the (tenant, started_at)
index over a bounded window, the last ingest of each source from a MAX over an index that starts with the tenant
(never a scan of the usage rows), the counts from the (tenant, csm, status) and (tenant, email) indexes."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import Account, Contact
from csplatform.jobs.imports import KINDS, PREFIX, import_job_name
from csplatform.jobs.models import JobRun
from csplatform.jobs.registry import nightly_jobs
from health.models import SupportTicket, SurveyResponse, UsageBatch, UsageDaily
from renewals.models import Contract

FAILURE_DAYS = 7
# A job not seen for this long shows as "no run" (the nightly set runs every day; a longer look back would make the
# latest-run query grow with the tenant's history).
LATEST_RUN_DAYS = 35
# A source silent for longer than this is flagged. Usage streams in daily from a connected product; tickets and
# answers come less regularly; a CRM sync resends unchanged contracts without touching them, so a quiet month is
# the first sign that it stopped.
QUIET_AFTER = {"usage": timedelta(days=2), "tickets": timedelta(days=7), "surveys": timedelta(days=14),
               "contracts": timedelta(days=30)}
CONTACTS_SHOWN = 10
FAILED = (JobRun.Status.FAILED, JobRun.Status.INTERRUPTED)


def _latest_per_job(runs):
    ranked = runs.annotate(rank=Window(RowNumber(), partition_by=[F("job")],
                                       order_by=[F("started_at").desc(), F("id").desc()]))
    return {run.job: run for run in ranked.filter(rank=1)}


def nightly_status(*, now: datetime) -> list[dict]:
    """Every registered nightly job with its latest run (within LATEST_RUN_DAYS) and its failed or interrupted
    runs of the last FAILURE_DAYS: two queries."""
    names = [job.name for job in nightly_jobs()]
    latest = _latest_per_job(JobRun.objects.filter(job__in=names,
                                                   started_at__gte=now - timedelta(days=LATEST_RUN_DAYS)))
    failures = dict(JobRun.objects.filter(job__in=names, status__in=FAILED,
                                          started_at__gte=now - timedelta(days=FAILURE_DAYS))
                    .values("job").annotate(n=Count("id")).values_list("job", "n").order_by())
    return [{"job": name, "run": latest.get(name), "failures": failures.get(name, 0)} for name in names]


def imports_latest() -> list[dict]:
    """The latest recorded attempt of each CSV import (csplatform.jobs.imports), refused ones included: one query."""
    latest = _latest_per_job(JobRun.objects.filter(job__startswith=PREFIX))
    return [{"kind": kind, "label": label, "job": import_job_name(kind), "run": latest.get(import_job_name(kind))}
            for kind, label in KINDS.items()]


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    last_at: datetime | None  # when the latest thing from this source arrived (or happened, see `what`)
    what: str  # what last_at is, in words
    detail: str  # a second figure: how much came, or how recent the data is
    quiet: bool  # nothing for longer than QUIET_AFTER[key]
    quiet_days: int


def _source(key, label, last_at, what, detail, now, *, freshest=None) -> Source:
    """`freshest`: the latest sign of life when it is not `last_at` (usage rows written by another path)."""
    seen = max((t for t in (last_at, freshest) if t is not None), default=None)
    return Source(key=key, label=label, last_at=last_at, what=what, detail=detail,
                  quiet=seen is None or now - seen > QUIET_AFTER[key], quiet_days=QUIET_AFTER[key].days)


def last_ingest(*, now: datetime) -> list[Source]:
    """Per source, its latest arrival, from the timestamps the data already carries: five indexed queries.

    Product usage: the latest batch received (UsageBatch, one row per API batch, not per event), and the latest
    day with usage (the (tenant, day) index of each partition). Support tickets have no receipt time: the newest
    ticket's open time stands in. Survey responses: the newest answer (the (tenant, responded_at) index). The CRM
    contract sync: the last change to a contract that carries a CRM id."""
    week_ago = now - timedelta(days=7)
    batch = UsageBatch.objects.order_by("-received_at", "-id").values("received_at", "events").first()
    usage_day = UsageDaily.objects.aggregate(day=Max("day"))["day"]
    tickets = SupportTicket.objects.aggregate(last=Max("opened_at"),
                                              week=Count("id", filter=Q(opened_at__gte=week_ago)))
    surveys = SurveyResponse.objects.aggregate(last=Max("responded_at"),
                                               week=Count("id", filter=Q(responded_at__gte=week_ago)))
    contracts = Contract.objects.exclude(external_id="").aggregate(last=Max("updated_at"))
    usage_detail = [f"{batch['events']:,} events in that batch"] if batch else []
    usage_seen = None
    if usage_day is not None:
        usage_detail.append(f"latest day with usage {usage_day:%Y-%m-%d}")
        # Usage of a day is complete at its end: a feed that wrote today's rows is alive.
        usage_seen = min(now, timezone.make_aware(datetime.combine(usage_day + timedelta(days=1), time.min)))
    return [
        _source("usage", "Product usage", batch["received_at"] if batch else None, "latest batch received",
                "; ".join(usage_detail) or "no usage recorded", now, freshest=usage_seen),
        _source("tickets", "Support tickets", tickets["last"], "newest ticket opened",
                f"{tickets['week']:,} opened in the last 7 days", now),
        _source("surveys", "Survey responses", surveys["last"], "newest answer",
                f"{surveys['week']:,} in the last 7 days", now),
        _source("contracts", "CRM contract sync", contracts["last"], "last contract change from the CRM",
                "contracts with a CRM id, by import or the API", now),
    ]


def accounts_without_csm() -> int:
    return Account.objects.filter(status=Account.Status.ACTIVE, csm__isnull=True).count()


def contacts_without_email(*, limit: int = CONTACTS_SHOWN) -> dict:
    """Contacts of active accounts with no email (no survey, no digest reaches them): the count and the first few,
    by account: two queries."""
    missing = Contact.objects.filter(email="", account__status=Account.Status.ACTIVE)
    return {"total": missing.count(),
            "contacts": list(missing.select_related("account").order_by("account__name", "name", "id")[:limit])}
