from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.importing.files import UnreadableFile, read_table
from accounts.importing.mapping import mapping_checked, mapping_guess, mapping_missing
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant
from renewals.importing import COLUMNS, contracts_commit, contracts_preview


class Command(BaseCommand):
    help = (
        "Imports a CSV or XLSX of contract lines (one row per line, grouped by Contract ID) into one tenant: "
        "every contract or, when any row has an error, nothing. A re-import updates contracts by their ID. "
        "Prints the errors (row, column, message) and exits non-zero when there are any."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument(
            "--map", action="append", default=[], dest="overrides", metavar="FIELD=COLUMN",
            help="use this column of the file for this field (repeatable), e.g. --map contract_id=Number",
        )

    def handle(self, *args, file, tenant, dry_run=False, overrides=(), **options):
        tenant_obj = Tenant.objects.filter(slug=tenant, is_active=True).first()
        if tenant_obj is None:
            raise CommandError(f"No active tenant with slug {tenant!r}")
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}") from None
        try:
            table = read_table(filename=path.name, data=data, max_bytes=None, max_rows=None)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        mapping = mapping_guess(columns=COLUMNS, headers=table.headers)
        chosen = {}
        for item in overrides:
            field, sep, header = item.partition("=")
            if not sep:
                raise CommandError(f"--map takes FIELD=COLUMN, got {item!r}")
            chosen[field.strip()] = header.strip()
        try:
            mapping = mapping_checked(
                columns=COLUMNS, headers=table.headers,
                mapping={**{f: h for f, h in mapping.items() if h not in chosen.values()}, **chosen},
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        missing = mapping_missing(columns=COLUMNS, mapping=mapping)
        if missing:
            raise CommandError(
                "No column found for: " + ", ".join(f"{c.label} ({c.name})" for c in missing)
                + ". The file's columns: " + ", ".join(table.headers) + ". Use --map FIELD=COLUMN."
            )

        with tenant_context(tenant_obj):
            run = contracts_preview if dry_run else contracts_commit
            report = run(table=table, mapping=mapping)

        for error in report.errors:
            where = "file" if error.row is None else f"row {error.row}"
            self.stderr.write(f"{where}, {error.column or '-'}: {error.message}")
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} error(s) in {report.rows_with_errors} row(s) of {report.total}; nothing written."
            )
        verb = "Would import" if dry_run else "Imported"
        contracts = report.created + report.updated + report.unchanged
        self.stdout.write(self.style.SUCCESS(
            f"{verb} {contracts} contract(s) from {report.total} row(s) into {tenant_obj.slug}: created "
            f"{report.created}, updated {report.updated}, unchanged {report.unchanged}."
            + (" Nothing written (dry run)." if dry_run else "")
        ))
