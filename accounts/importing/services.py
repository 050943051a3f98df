"""The import's writes, in the current tenant: a dry run for the preview, and the real run, all rows or none.

Keyword-only. `import_commit` is one transaction: any row error and nothing is written.
"""

import logging
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import Account, Activity, ActivityContact, Contact
from csplatform.jobs.imports import import_run_record

from .base import ID_CHUNK
from .files import Table
from .mapping import MappingIncomplete, mapping_missing
from .resources import RESOURCES

logger = logging.getLogger(__name__)

ACTIONS = {"new": "create", "update": "update", "skip": "unchanged"}


@dataclass(frozen=True)
class RowError:
    row: int | None  # as numbered in the spreadsheet (header = 1); None for the whole file
    column: str  # the file's header ("" when the error is about the whole row)
    message: str


@dataclass(frozen=True)
class RowOutcome:
    row: int
    action: str  # create, update or unchanged
    external_id: str
    label: str
    changes: tuple[str, ...] = ()


@dataclass
class ImportReport:
    kind: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows: list[RowOutcome] = field(default_factory=list)
    committed: bool = False

    @property
    def rows_with_errors(self) -> int:
        return len({e.row for e in self.errors})


def import_preview(*, kind: str, table: Table, mapping: dict[str, str]) -> ImportReport:
    """What the import would do, row by row. It really runs, in a savepoint that is rolled back."""
    report, _ = _run(kind=kind, table=table, mapping=mapping, dry_run=True)
    return report


class _RollBack(Exception):
    def __init__(self, report):
        self.report = report


def import_commit(*, kind: str, table: Table, mapping: dict[str, str]) -> ImportReport:
    """Writes every row, or nothing when any row has an error (`committed` says which)."""
    started_at = timezone.now()
    try:
        with transaction.atomic():
            report, written = _run(kind=kind, table=table, mapping=mapping, dry_run=False)
            if report.errors:
                raise _RollBack(report)
            if kind == "activities":
                activities_touch(activity_ids=written)
    except _RollBack as rollback:
        return import_record(report=rollback.report, started_at=started_at)
    report.committed = True
    return import_record(report=report, started_at=started_at)


def import_record(*, report: ImportReport, started_at) -> ImportReport:
    """Leaves a run on the jobs page (and the ops home) for each commit attempt, refused ones included."""
    import_run_record(kind=report.kind, started_at=started_at, committed=report.committed,
                      written=report.created + report.updated, rows_with_errors=report.rows_with_errors)
    return report


def activities_touch(*, activity_ids) -> None:
    """Moves the accounts' last touch and the contacts' last engagement forward to these activities.

    The same rule as accounts.services.activity_log (forward, never back), set-based: one UPDATE per
    table per chunk of activities instead of two per activity.
    """
    ids = sorted(set(activity_ids))
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start:start + ID_CHUNK]
        latest = Subquery(
            Activity.objects.filter(pk__in=chunk, account_id=OuterRef("pk"))
            .order_by()
            .values("account_id")
            .annotate(at=Max("occurred_at"))
            .values("at")[:1]
        )
        Account.objects.filter(pk__in=Activity.objects.filter(pk__in=chunk).values("account_id")).update(
            last_touch_at=Greatest(Coalesce("last_touch_at", latest), latest)
        )
        engaged = Subquery(
            ActivityContact.objects.filter(activity_id__in=chunk, contact_id=OuterRef("pk"))
            .order_by()
            .values("contact_id")
            .annotate(at=Max("activity__occurred_at"))
            .values("at")[:1]
        )
        Contact.objects.filter(
            pk__in=ActivityContact.objects.filter(activity_id__in=chunk).values("contact_id")
        ).update(last_engaged_at=Greatest(Coalesce("last_engaged_at", engaged), engaged))


def _run(*, kind, table, mapping, dry_run):
    resource_class = RESOURCES[kind]
    missing = mapping_missing(columns=resource_class.columns, mapping=mapping)
    if missing:
        raise MappingIncomplete(missing)
    dataset = resource_class.dataset_from(table=table, mapping=mapping)
    resource = resource_class(row_numbers=table.row_numbers)
    result = resource.import_data(
        dataset, dry_run=dry_run, use_transactions=True, raise_errors=False, rollback_on_validation_errors=True
    )
    report = ImportReport(kind=kind, total=len(dataset))
    columns = column_names(kind=kind, mapping=mapping)
    external = dataset["external_id"]
    written = []
    for error in result.base_errors:
        report.errors.append(RowError(row=None, column="", message=_describe(error.error)))
    for index, row_result in enumerate(result.rows):
        number = resource.file_row(index)
        if row_result.validation_error is not None:
            for key, messages in _messages(row_result.validation_error).items():
                column = "" if key == NON_FIELD_ERRORS else columns.get(key, key)
                report.errors.extend(RowError(row=number, column=column, message=m) for m in messages)
        elif row_result.errors:
            report.errors.extend(RowError(row=number, column="", message=_describe(e.error)) for e in row_result.errors)
        else:
            action = ACTIONS[row_result.import_type]
            if action == "create":
                report.created += 1
            elif action == "update":
                report.updated += 1
            else:
                report.unchanged += 1
            report.rows.append(RowOutcome(
                row=number, action=action, external_id=external[index], label=row_result.object_repr or "",
                changes=tuple(getattr(row_result.instance, "_import_changes", ()) if action == "update" else ()),
            ))
            if action != "unchanged":
                written.append(row_result.object_id)
    position = {header: i for i, header in enumerate(table.headers)}
    report.errors.sort(key=lambda e: (e.row or 0, position.get(e.column, len(position))))
    return report, written


def column_names(*, kind: str, mapping: dict[str, str]) -> dict[str, str]:
    """field name -> how the user knows the column: their header, else our label."""
    columns = RESOURCES[kind].columns
    names = {}
    for column in columns:
        parts = [mapping[c.name] for c in columns if c.composes == column.name and c.name in mapping]
        names[column.name] = mapping.get(column.name) or " + ".join(parts) or column.label
    return names


def _messages(error) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}


def _describe(error: Exception) -> str:
    logger.warning("import row failed", exc_info=error)
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"Could not save this row: {text[:300]}"
