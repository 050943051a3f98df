"""CSV exports: one statement's lines, and a month's statements of a team (lines for managers and ops, totals
only for executives). Amounts as plain decimals, dates ISO, so a spreadsheet reads them as numbers; text cells
that a spreadsheet would run as a formula are quoted (csplatform/csv_safety.py)."""

from django.http import HttpResponse

from csplatform.csv_safety import SafeWriter

LINE_HEADER = ["csm", "csm_email", "period", "status", "rule", "basis", "basis_amount", "rate", "amount",
               "explanation", "source_type", "source_id"]
TOTAL_HEADER = ["csm", "csm_email", "period", "status", "total", "approved_by", "approved_at"]


def _response(filename: str):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, SafeWriter(response)


def _blank(value):
    return "" if value is None else value


def line_rows(statement, lines):
    for line in lines:
        yield [statement.csm.display_name, statement.csm.email, statement.period_start.strftime("%Y-%m"),
               statement.status, line.get_rule_kind_display(), line.basis, _blank(line.basis_amount),
               _blank(line.rate), line.amount, line.explanation, line.source_type, _blank(line.source_id)]


def statements_csv(filename: str, statements, lines_by_statement) -> HttpResponse:
    response, writer = _response(filename)
    writer.writerow(LINE_HEADER)
    for statement in statements:
        writer.writerows(line_rows(statement, lines_by_statement.get(statement.pk, [])))
    return response


def totals_csv(filename: str, statements) -> HttpResponse:
    response, writer = _response(filename)
    writer.writerow(TOTAL_HEADER)
    for s in statements:
        writer.writerow([s.csm.display_name, s.csm.email, s.period_start.strftime("%Y-%m"), s.status, s.total,
                         s.approved_by.display_name if s.approved_by else "",
                         s.approved_at.isoformat() if s.approved_at else ""])
    return response
