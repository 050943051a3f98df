"""Contracts import from a CSV or XLSX (a CRM report): one row per contract line, grouped by the contract's ID.

The accounts import (accounts/importing) maps one file row to one record through django-import-export; a
contract spans several rows, so this module groups them itself and reuses the rest of that machinery: reading
the file (`files.read_table`), matching columns (`mapping`), keeping the upload between preview and commit
(`pending`), the cell parsers (`widgets`) and the report (`services.ImportReport`). Each contract is written
by `services.contract_save`; the preview runs the same writes and rolls them back, and the commit writes every
contract or none. A re-import updates the contracts by their ID (their lines are replaced).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.importing.files import Table
from accounts.importing.mapping import ImportColumn, MappingIncomplete, mapping_missing
from accounts.importing.services import ImportReport, RowError, RowOutcome, import_record
from accounts.importing.widgets import ChoiceWidget, DateWidget, MoneyWidget, YesNoWidget, cell_text
from accounts.models import Account

from .models import Contract
from .services import contract_save

KIND = "contracts"
CENT = Decimal("0.01")

COLUMNS = (
    ImportColumn("contract_id", "Contract ID", ("Contract ID", "Contract Number", "Subscription ID", "external_id"),
                 required=True, help="The contract's id in the CRM; rows with the same ID are the lines of one "
                                     "contract, and a re-import updates the contract by it."),
    ImportColumn("account", "Account ID", ("Account ID", "Account ID (18)", "account_external_id"), required=True,
                 help="An account already imported."),
    ImportColumn("name", "Contract Name", ("Contract Name", "Subscription Name", "Name")),
    ImportColumn("start_date", "Start Date", ("Start Date", "Contract Start Date", "Term Start"), required=True),
    ImportColumn("end_date", "End Date", ("End Date", "Contract End Date", "Term End"), required=True),
    ImportColumn("auto_renew", "Auto Renew", ("Auto Renew", "Auto-Renew", "Evergreen"),
                 help="Yes/No, true/false or 1/0; default no."),
    ImportColumn("status", "Status", ("Contract Status",), help="Active or Cancelled; default Active."),
    ImportColumn("cancelled_on", "Cancellation Date", ("Cancellation Date", "Cancelled On", "Cancelled Date"),
                 help="Required with Status Cancelled: the contract stops counting that day."),
    ImportColumn("product", "Product", ("Product", "Product Name", "Line Item"), required=True),
    ImportColumn("quantity", "Quantity", ("Quantity", "Qty", "Seats"), help="Default 1."),
    ImportColumn("unit_price", "Unit Price", ("Unit Price", "Sales Price", "List Price"),
                 help="Annual price per unit."),
    ImportColumn("arr", "ARR", ("ARR", "Line ARR", "Annual Value", "Total Price"),
                 help="The line's ARR; when empty, quantity x unit price."),
)
CONTRACT_FIELDS = ("account", "name", "start_date", "end_date", "auto_renew", "status", "cancelled_on")
STATUS = ChoiceWidget(Contract.Status.choices, noun="status",
                      synonyms={"Activated": Contract.Status.ACTIVE, "Canceled": Contract.Status.CANCELLED,
                                "Terminated": Contract.Status.CANCELLED})
PARSERS = {"start_date": DateWidget(), "end_date": DateWidget(), "cancelled_on": DateWidget(),
           "auto_renew": YesNoWidget(), "status": STATUS, "quantity": MoneyWidget(), "unit_price": MoneyWidget(),
           "arr": MoneyWidget()}
MAX_LENGTHS = {"contract_id": 64, "name": 200, "product": 120}
LINE_REQUIRED = ("contract_id", "product")  # on every row; the contract's own required fields once per contract
CONTRACT_REQUIRED = ("account", "start_date", "end_date")


@dataclass
class ContractRows:
    """The rows of one contract ID, the contract fields (from its first row that gives each) and its lines."""

    external_id: str
    first_row: int
    rows: list[int] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    given_on: dict = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)
    broken: bool = False


class _RollBack(Exception):
    pass


def import_columns() -> tuple[ImportColumn, ...]:
    return COLUMNS


def contracts_preview(*, table: Table, mapping: dict[str, str]) -> ImportReport:
    """What the import would do, contract by contract: it really runs, inside a savepoint rolled back."""
    report = ImportReport(kind=KIND)
    try:
        with transaction.atomic():
            _run(report=report, table=table, mapping=mapping)
            raise _RollBack
    except _RollBack:
        pass
    return report


def contracts_commit(*, table: Table, mapping: dict[str, str]) -> ImportReport:
    """Writes every contract, or nothing when any row has an error (`committed` says which)."""
    report = ImportReport(kind=KIND)
    started_at = timezone.now()
    try:
        with transaction.atomic():
            _run(report=report, table=table, mapping=mapping)
            if report.errors:
                raise _RollBack
    except _RollBack:
        return import_record(report=report, started_at=started_at)
    report.committed = True
    return import_record(report=report, started_at=started_at)


def _run(*, report: ImportReport, table: Table, mapping: dict[str, str]) -> None:
    missing = mapping_missing(columns=COLUMNS, mapping=mapping)
    if missing:
        raise MappingIncomplete(missing)
    labels = {c.name: mapping.get(c.name) or c.label for c in COLUMNS}
    index = {header: i for i, header in enumerate(table.headers)}
    positions = {name: index[header] for name, header in mapping.items()}
    report.total = len(table.rows)

    def error(row: int | None, name: str, message: str) -> None:
        report.errors.append(RowError(row=row, column=labels.get(name, ""), message=message))

    groups = _group(table=table, positions=positions, error=error)
    accounts = _accounts({g.fields.get("account") for g in groups.values()} - {None, ""})
    existing = {c.external_id: c for c in Contract.objects.filter(external_id__in=list(groups))
                .select_related("account").prefetch_related("lines")} if groups else {}
    for group in groups.values():
        _check(group=group, accounts=accounts, existing=existing.get(group.external_id), error=error)
        if group.broken:
            continue
        contract = existing.get(group.external_id)
        changes = _changes(group=group, contract=contract)
        if contract is not None and not changes:
            report.unchanged += 1
            action = "unchanged"
        else:
            try:
                with transaction.atomic():
                    contract = contract_save(account=group.fields["account"], contract=contract,
                                             lines=group.lines, external_id=group.external_id,
                                             **{k: group.fields[k] for k in CONTRACT_FIELDS if k != "account"})
            except ValidationError as problem:
                for name, messages in _messages(problem).items():
                    row = group.given_on.get(name, group.first_row)
                    for message in messages:
                        error(row, "" if name == NON_FIELD_ERRORS else name, message)
                continue
            except DatabaseError as problem:
                error(group.first_row, "", f"Could not save this contract: {str(problem).strip()[:300]}")
                continue
            action = "update" if changes else "create"
            if action == "create":
                report.created += 1
            else:
                report.updated += 1
        report.rows.append(RowOutcome(row=group.first_row, action=action, external_id=group.external_id,
                                      label=_label(group), changes=tuple(labels[c] for c in changes or ())))
    position = {header: i for i, header in enumerate(table.headers)}
    report.errors.sort(key=lambda e: (e.row or 0, position.get(e.column, len(position))))


def _group(*, table: Table, positions: dict[str, int], error) -> dict[str, ContractRows]:
    groups: dict[str, ContractRows] = {}
    for values, number in zip(table.rows, table.row_numbers, strict=True):
        cells = {name: cell_text(values[p]) for name, p in positions.items()}
        external_id = cells.get("contract_id", "")
        row_ok = True
        parsed = {}
        for name, text in cells.items():
            if name in MAX_LENGTHS and len(text) > MAX_LENGTHS[name]:
                error(number, name, f"At most {MAX_LENGTHS[name]} characters (this has {len(text)}).")
                row_ok = False
                continue
            parser = PARSERS.get(name)
            try:
                parsed[name] = parser.clean(text) if parser else text
            except ValueError as problem:
                error(number, name, str(problem))
                row_ok = False
        for name in LINE_REQUIRED:
            if not cells.get(name):
                error(number, name, "Required.")
                row_ok = False
        if not external_id:
            continue
        group = groups.setdefault(external_id, ContractRows(external_id=external_id, first_row=number))
        group.rows.append(number)
        if not row_ok:
            group.broken = True
        for name in CONTRACT_FIELDS:
            value = parsed.get(name)
            if value in (None, ""):
                continue  # a blank contract cell on a later line repeats the first line's value
            if name in group.fields and group.fields[name] != value:
                error(number, name, f"Differs from row {group.given_on[name]} of the same contract "
                                    f"({_show(group.fields[name])}); the lines of a contract share its fields.")
                group.broken = True
                continue
            group.fields.setdefault(name, value)
            group.given_on.setdefault(name, number)
        line = _line(parsed, number=number, error=error)
        if line is None:
            group.broken = True
        else:
            group.lines.append(line)
    return groups


def _line(parsed: dict, *, number: int, error) -> dict | None:
    quantity = parsed.get("quantity")
    unit_price, arr = parsed.get("unit_price"), parsed.get("arr")
    ok = True
    for name, value in (("quantity", quantity), ("unit_price", unit_price), ("arr", arr)):
        if value is not None and value < 0:
            error(number, name, "Must be 0 or more.")
            ok = False
    if unit_price is None and arr is None:
        error(number, "arr", "Give the line's ARR or its unit price.")
        ok = False
    if not ok or not parsed.get("product"):
        return None
    quantity = Decimal("1") if quantity is None else quantity
    if arr is None:
        arr = quantity * unit_price
    return {"product": parsed["product"], "quantity": quantity.quantize(CENT),
            "unit_price": (unit_price if unit_price is not None else Decimal("0")).quantize(CENT),
            "arr": arr.quantize(CENT)}


def _accounts(external_ids: set[str]) -> dict[str, Account]:
    return {a.external_id: a for a in Account.objects.filter(external_id__in=sorted(external_ids))} if (
        external_ids) else {}


def _check(*, group: ContractRows, accounts: dict, existing: Contract | None, error) -> None:
    """Resolves the account and applies the rules across fields (the model's, said in the file's terms)."""
    data = group.fields
    # A broken row may be the one that gave the field: its own error says so already.
    was_broken = group.broken
    for name in CONTRACT_REQUIRED:
        if data.get(name) in (None, "") and not was_broken:
            error(group.first_row, name, "Required (on at least the contract's first row).")
            group.broken = True
    ref = data.get("account")
    account = accounts.get(ref) if ref else None
    if ref and account is None:
        error(group.given_on["account"], "account", f"No account with ID {ref!r} in this workspace "
                                                   "(import the accounts first).")
        group.broken = True
    elif existing is not None and account is not None and existing.account_id != account.pk:
        error(group.given_on["account"], "account",
              f"Contract {group.external_id} belongs to account {existing.account.external_id or existing.account}; "
              "a contract cannot move to another account.")
        group.broken = True
    if group.broken:
        return
    data["account"] = account
    data.setdefault("name", "")
    data.setdefault("auto_renew", False)
    data.setdefault("status", Contract.Status.ACTIVE)
    data.setdefault("cancelled_on", None)
    start, end = data.get("start_date"), data.get("end_date")
    if start and end and end < start:
        error(group.given_on["end_date"], "end_date", "The contract ends before it starts.")
        group.broken = True
    if data["status"] == Contract.Status.CANCELLED and data["cancelled_on"] is None:
        error(group.given_on.get("status", group.first_row), "cancelled_on",
              "A cancelled contract needs its cancellation date.")
        group.broken = True
    elif data["status"] == Contract.Status.ACTIVE and data["cancelled_on"] is not None:
        error(group.given_on["cancelled_on"], "cancelled_on", "Only a cancelled contract has a cancellation date.")
        group.broken = True


def _changes(*, group: ContractRows, contract: Contract | None) -> list[str] | None:
    """The columns this contract changes (None for a new contract; [] when it is the same)."""
    if contract is None:
        return None
    changed = [name for name in CONTRACT_FIELDS if name != "account"
               and getattr(contract, name) != group.fields[name]]
    now = [(line.product, line.quantity, line.unit_price, line.arr) for line in contract.lines.all()]
    new = [(line["product"], line["quantity"], line["unit_price"], line["arr"]) for line in group.lines]
    if now != new:
        changed.append("product")
    return changed


def _label(group: ContractRows) -> str:
    account = group.fields.get("account")
    name = group.fields.get("name") or group.external_id
    return f"{name} · {account.name}" if account is not None else name


def _show(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _messages(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
