import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant
from health import ingest

COLUMNS = ("account", "account_id", "occurred_at", "event", "user_id", "quantity")


def usage_csv_chunks(rows, *, size: int):
    """Yields (events, line numbers) of at most `size` events from a csv.reader whose header was read.
    Line numbers are the file's (a quoted field spanning lines ends its record on the later line)."""
    reader = rows
    first = next(reader, None)
    if first is None:
        raise CommandError("The file is empty: it needs a header row.")
    header = [name.strip().lower() for name in first]
    where = {name: header.index(name) for name in COLUMNS if name in header}
    missing = [name for name in ("occurred_at", "event") if name not in where]
    if "account" not in where and "account_id" not in where:
        missing.insert(0, "account (or account_id)")
    if missing:
        raise CommandError(f"Missing column(s): {', '.join(missing)}. The header has: {', '.join(header)}.")

    def cell(row, name):
        i = where.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    events, lines = [], []
    for row in reader:
        if not any(field.strip() for field in row):
            continue
        event = {"occurred_at": cell(row, "occurred_at"), "event": cell(row, "event")}
        if account := cell(row, "account"):
            event["account"] = account
        if account_id := cell(row, "account_id"):
            event["account_id"] = int(account_id) if account_id.isdigit() else account_id
        if user := cell(row, "user_id"):
            event["user_id"] = user
        if quantity := cell(row, "quantity"):
            event["quantity"] = quantity
        events.append(event)
        lines.append(reader.line_num)
        if len(events) == size:
            yield events, lines
            events, lines = [], []
    if events:
        yield events, lines


class Command(BaseCommand):
    help = (
        "Imports product usage events from a CSV (columns: account or account_id, occurred_at, event, user_id, "
        "quantity) in batches of 10,000. A batch with a bad row is rejected whole: the command lists the bad lines "
        "and exits non-zero. Each batch is keyed by its content (or --batch-id plus its number), so importing the "
        "same file again, or again after fixing a bad line, counts nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a UTF-8 .csv file with a header row")
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--batch-id", help="key the batches <batch-id>:1, <batch-id>:2, ... instead")
        parser.add_argument("--chunk-size", type=int, default=ingest.MAX_EVENTS, help=f"at most {ingest.MAX_EVENTS}")

    def handle(self, *args, file, tenant, batch_id=None, chunk_size=ingest.MAX_EVENTS, **options):
        tenant_obj = Tenant.objects.filter(slug=tenant, is_active=True).first()
        if tenant_obj is None:
            raise CommandError(f"No active tenant with slug {tenant!r}")
        if not 1 <= chunk_size <= ingest.MAX_EVENTS:
            raise CommandError(f"--chunk-size takes 1 to {ingest.MAX_EVENTS}.")
        if batch_id is not None and not 1 <= len(batch_id.strip()) <= 90:
            raise CommandError("--batch-id takes 1 to 90 characters.")
        try:
            handle = Path(file).open(encoding="utf-8-sig", newline="")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}") from None
        with handle:
            try:
                self._import(csv.reader(handle), tenant_obj, batch_id, chunk_size)
            except (UnicodeDecodeError, csv.Error) as error:
                raise CommandError(f"{file} is not a readable UTF-8 CSV: {error}") from None

    def _import(self, reader, tenant, batch_id, chunk_size):
        accepted = repeated = invalid = 0
        first_bad_line = None
        for number, (events, lines) in enumerate(usage_csv_chunks(reader, size=chunk_size), start=1):
            span = f"lines {lines[0]}-{lines[-1]}"
            if first_bad_line is not None:
                # Nothing more is written after a bad batch, but the rest of the file is still checked so that
                # one run lists every bad line.
                with tenant_context(tenant):
                    errors = ingest.usage_validate(events)[3]
                invalid += self._report(errors, len(errors), lines)
                continue
            digest = ingest.digest_of(json.dumps(events, separators=(",", ":")).encode())
            key = f"{batch_id.strip()}:{number}" if batch_id else f"csv:{digest}"
            try:
                with tenant_context(tenant):
                    result = ingest.usage_batch_ingest(batch_id=key, events=events, digest=digest, source="csv")
            except ingest.BatchRejected as rejected:
                invalid += self._report(rejected.errors, rejected.total, lines)
                first_bad_line = lines[0]
                self.stdout.write(self.style.ERROR(f"batch {number} ({span}): rejected, nothing of it written"))
                continue
            except ingest.BatchKeyReused as reused:
                raise CommandError(f"batch {number} ({span}): {reused} Imported before it: {accepted} events.") \
                    from None
            if result.duplicate:
                repeated += len(events)
                self.stdout.write(f"batch {number} ({span}): imported before, counted nothing")
            else:
                accepted += result.accepted
                self.stdout.write(f"batch {number} ({span}): {result.accepted} events accepted "
                                  f"({result.accounts} accounts, {result.days} days)")
        if first_bad_line is not None:
            raise CommandError(
                f"{invalid} bad row(s). {accepted} events accepted before line {first_bad_line}; nothing from that "
                "line on was written. Fix the rows and run the command again: the batches already imported count "
                "nothing the second time.")
        self.stdout.write(self.style.SUCCESS(
            f"{accepted} events accepted into {tenant.slug}" + (f"; {repeated} already imported" if repeated else "")
            + "."))

    def _report(self, errors: list[dict], total: int, lines: list[int]) -> int:
        for error in errors:
            where = f"line {lines[error['index']]}" if error["index"] is not None else "batch"
            self.stderr.write(f"{where}, {error['field'] or '-'}: {error['error']}")
        if total > len(errors):
            self.stderr.write(f"... and {total - len(errors)} more in lines {lines[0]}-{lines[-1]}")
        return total
