"""Cells a spreadsheet would not execute, for every CSV the app exports (CSV injection, OWASP's advice).

Excel, LibreOffice and Google Sheets read a cell that starts with =, +, -, @ (or a tab or carriage return
before one) as a formula: an account or person named `=HYPERLINK(...)` or `=cmd|' /C calc'!A0` in an export
would run when the file is opened. Such a text cell is written with a leading single quote, which the
spreadsheet shows as text and does not evaluate. Numbers (int, Decimal, float) are written as they are, so a
negative amount stays a number. Imports store these values as the text they are; only exports escape them.
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value, or for a text cell a spreadsheet would read as a formula, the same text after a quote."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(value) for value in values]


class SafeWriter:
    """csv.writer whose rows go through safe_cell: the one way the app writes a CSV export."""

    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, values):
        return self._writer.writerow(safe_row(values))

    def writerows(self, rows):
        for values in rows:
            self.writerow(values)
