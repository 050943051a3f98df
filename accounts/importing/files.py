"""Reading an uploaded CSV or XLSX into a table of strings, with errors a person can act on.

Every cell becomes a string here (dates as ISO), so the table can be stored as JSON between the
preview and the commit and the resources parse one kind of input. Cells are never evaluated: a
CSV cell `=cmd|...` is just text, and XLSX formulas are read as their cached values.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A preview and a commit each take about 2 ms a row (a savepoint per row keeps one row's database error
# from hiding the others), so a page stays well inside gunicorn's 30 s; the command has no such cap.
MAX_UPLOAD_ROWS = 10_000
MAX_COLUMNS = 200
# An XLSX is a zip: a small upload could expand to gigabytes in openpyxl, so the unpacked size is capped.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
# utf-8-sig first (Salesforce and "CSV UTF-8" from Excel); cp1252 is what Excel on Windows writes as
# plain "CSV" (it has €, curly quotes); latin-1 decodes any byte sequence, so it is the last resort.
CSV_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
ACCEPTED = ".csv or .xlsx"


# The form fields and multipart framing around the file take a few hundred bytes; a request larger than this
# cannot hold a file under the limit, so it is refused before Django reads it (and spools it to disk).
MAX_UPLOAD_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


def upload_too_large(request) -> str | None:
    """Why an upload request is refused (413) from its Content-Length alone, or None."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= MAX_UPLOAD_REQUEST_BYTES:
        return None
    return (f"The upload is {length / 1024 / 1024:.1f} MB; files up to {MAX_UPLOAD_BYTES // 1024 // 1024} MB "
            "are accepted. Split it into smaller files.")


class UnreadableFile(ValueError):
    """The upload cannot be read as a table; the message says why and what to do."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    # Spreadsheet numbering as the user sees it in Excel: the header is row 1, blank rows count.
    row_numbers: list[int]

    def to_dict(self) -> dict:
        return {"headers": self.headers, "rows": self.rows, "row_numbers": self.row_numbers}

    @classmethod
    def from_dict(cls, data: dict) -> "Table":
        return cls(headers=list(data["headers"]), rows=[list(r) for r in data["rows"]],
                   row_numbers=list(data["row_numbers"]))


def read_table(*, filename: str, data: bytes, max_bytes: int | None = MAX_UPLOAD_BYTES,
               max_rows: int | None = MAX_UPLOAD_ROWS) -> Table:
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableFile(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is {max_bytes // 1024 // 1024} MB. "
            "Split it into smaller files."
        )
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".csv":
        raw = _csv_rows(data)
    elif suffix == ".xlsx":
        raw = _xlsx_rows(data, max_rows=max_rows)
    elif suffix in (".xls", ".xlsm", ".numbers", ".ods", ".txt", ".tsv"):
        raise UnreadableFile(f"{suffix} files are not supported: save the sheet as {ACCEPTED} and upload that.")
    else:
        raise UnreadableFile(f"Upload a {ACCEPTED} file (got {Path(filename or '').name or 'a file'!r}).")
    return _table(raw, max_rows=max_rows)


def _csv_rows(data: bytes):
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("This CSV is UTF-16 encoded; save it as \"CSV UTF-8\" and upload it again.")
    text = None
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise UnreadableFile("This does not look like a text CSV file (it contains binary data). "
                             "Save it as \"CSV UTF-8\" and upload it again.")
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[cell.strip() for cell in row] for row in reader]
    except csv.Error as error:
        raise UnreadableFile(f"The CSV is malformed near line {reader.line_num}: {error}.") from None


def _xlsx_rows(data: bytes, *, max_rows: int | None):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise UnreadableFile("This is not a valid .xlsx workbook. Save it from Excel as .xlsx, or as CSV.") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise UnreadableFile("This workbook is too large once unpacked; export the sheet as CSV instead.")
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises a variety of errors for damaged files
        raise UnreadableFile(f"The workbook could not be read ({type(error).__name__}); save it as CSV.") from None
    try:
        rows = []
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if max_rows is not None and len(rows) > max_rows + 1:
                break  # enough to say it is too long, without reading the rest
        return rows
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def _table(raw: list[list[str]], *, max_rows: int | None) -> Table:
    numbered = [(i, row) for i, row in enumerate(raw, start=1) if any(cell for cell in row)]
    if not numbered:
        raise UnreadableFile("The file is empty.")
    (header_number, header), *body = numbered
    if len(header) > MAX_COLUMNS:
        raise UnreadableFile(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are read.")
    body = _without_salesforce_footer(body, width=len(header))
    if not body:
        raise UnreadableFile("The file has a header row but no data rows.")
    if max_rows is not None and len(body) > max_rows:
        raise UnreadableFile(f"The file has more than {max_rows:,} rows; split it into smaller files "
                             "(or ask an operator to run `manage.py import_csv` with it).")
    width = len(header)
    return Table(
        headers=_unique_headers(header),
        rows=[(row + [""] * width)[:width] for _, row in body],
        row_numbers=[number for number, _ in body],
    )


def _without_salesforce_footer(body, *, width: int):
    """Salesforce report exports end with a blank line, then one-cell lines (totals, copyright)."""
    if width < 3:
        return body
    start = len(body)
    while start > 0 and sum(1 for cell in body[start - 1][1] if cell) == 1 and body[start - 1][1][0]:
        start -= 1
    # The footer is set apart by a blank line; one-cell rows right after the data are data (with errors).
    if 0 < start < len(body) and body[start][0] > body[start - 1][0] + 1:
        return body[:start]
    return body


def _unique_headers(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    headers = []
    for position, name in enumerate(header, start=1):
        name = name.strip() or f"Column {position}"
        seen[name] = seen.get(name, 0) + 1
        headers.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return headers
