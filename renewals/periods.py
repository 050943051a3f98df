"""Fiscal quarters and months: the periods retention, targets and the forecast are reported by.

A tenant's fiscal year starts on the first day of `Tenant.fiscal_year_start_month`. Naming convention: a
fiscal year is named by the calendar year in which it ENDS. With a January start that is simply the calendar
year; with an April start, FY2026 runs from 1 April 2025 to 31 March 2026, and 15 May 2025 is in FY2026 Q1.
Quarter n covers the fiscal year's months 3n-2 to 3n. Labels read "FY2026 Q1".
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def months_between(start: date, end: date) -> list[date]:
    """The first day of every calendar month that overlaps [start, end], oldest first."""
    months, current = [], month_start(start)
    while current <= end:
        months.append(current)
        current = add_months(current, 1)
    return months


def _start_month(tenant) -> int:
    month = int(tenant.fiscal_year_start_month or 1)
    if not 1 <= month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1-12, not {month}")
    return month


@dataclass(frozen=True)
class Quarter:
    """A fiscal quarter: `year` is the fiscal year (named by the calendar year it ends in), `quarter` 1-4,
    `start` and `end` the first and last day (inclusive)."""

    year: int
    quarter: int
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"FY{self.year} Q{self.quarter}"

    @property
    def key(self) -> str:
        """A stable, sortable key ("2026-Q1") for URLs and JSON."""
        return f"{self.year}-Q{self.quarter}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self):
        return self.label


def _quarter_starting(first_month: int, start: date) -> Quarter:
    """The quarter that starts on `start` (the first day of a quarter) for a fiscal year starting in
    `first_month`."""
    months_in = (start.month - first_month) % 12
    fiscal_start_year = start.year if start.month >= first_month else start.year - 1
    year = fiscal_start_year if first_month == 1 else fiscal_start_year + 1
    return Quarter(year=year, quarter=months_in // 3 + 1, start=start,
                   end=add_months(start, 3) - timedelta(days=1))


def fiscal_quarter(tenant, day: date) -> Quarter:
    """The tenant's fiscal quarter that contains `day`."""
    first_month = _start_month(tenant)
    months_in = (day.month - first_month) % 12
    start = add_months(date(day.year, day.month, 1), -(months_in % 3))
    return _quarter_starting(first_month, start)


def quarter_bounds(tenant, year: int, quarter: int) -> Quarter:
    """Fiscal quarter `quarter` (1-4) of fiscal year `year` (named by the calendar year it ends in)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"A quarter is 1-4, not {quarter}")
    first_month = _start_month(tenant)
    fiscal_start_year = year if first_month == 1 else year - 1
    return _quarter_starting(first_month, add_months(date(fiscal_start_year, first_month, 1), 3 * (quarter - 1)))


def shift_quarter(tenant, quarter: Quarter, by: int) -> Quarter:
    """The quarter `by` quarters after (negative: before) `quarter`."""
    return _quarter_starting(_start_month(tenant), add_months(quarter.start, 3 * by))


def last_quarters(tenant, count: int, upto_day: date) -> list[Quarter]:
    """The `count` fiscal quarters ending with the one that contains `upto_day`, oldest first."""
    if count < 1:
        return []
    current = fiscal_quarter(tenant, upto_day)
    return [shift_quarter(tenant, current, -back) for back in range(count - 1, -1, -1)]


def quarter_of_index(tenant, index: int) -> Quarter:
    """The quarter numbered `index` by `quarter_index` (used to turn a SQL-computed cohort back into a Quarter)."""
    first_month = _start_month(tenant)
    months = index * 3 + first_month - 1
    return _quarter_starting(first_month, date(months // 12, months % 12 + 1, 1))


def quarter_index(tenant, day: date) -> int:
    """Quarters since year 0 counted from the tenant's fiscal start month: increases by one per fiscal quarter.
    renewals.retention computes the same number in SQL (year * 12 + month - first_month) / 3."""
    return (day.year * 12 + day.month - _start_month(tenant)) // 3
