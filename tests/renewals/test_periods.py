"""Fiscal quarters (named by the calendar year the fiscal year ends in) and month helpers."""

from datetime import date
from types import SimpleNamespace

import pytest

from renewals.periods import (
    Quarter,
    add_months,
    fiscal_quarter,
    last_quarters,
    month_end,
    month_start,
    months_between,
    quarter_bounds,
    quarter_index,
    quarter_of_index,
    shift_quarter,
)

CALENDAR = SimpleNamespace(fiscal_year_start_month=1)
APRIL = SimpleNamespace(fiscal_year_start_month=4)
FEBRUARY = SimpleNamespace(fiscal_year_start_month=2)


def test_it_uses_calendar_quarters_when_the_fiscal_year_starts_in_january():
    quarter = fiscal_quarter(CALENDAR, date(2026, 8, 14))
    assert quarter == Quarter(year=2026, quarter=3, start=date(2026, 7, 1), end=date(2026, 9, 30))
    assert quarter.label == "FY2026 Q3" and quarter.key == "2026-Q3" and str(quarter) == "FY2026 Q3"
    assert fiscal_quarter(CALENDAR, date(2026, 1, 1)).quarter == 1
    assert fiscal_quarter(CALENDAR, date(2026, 12, 31)) == quarter_bounds(CALENDAR, 2026, 4)


def test_it_names_an_april_fiscal_year_by_the_year_it_ends_in():
    # FY2026 runs from 1 April 2025 to 31 March 2026.
    assert fiscal_quarter(APRIL, date(2025, 5, 15)) == Quarter(2026, 1, date(2025, 4, 1), date(2025, 6, 30))
    assert fiscal_quarter(APRIL, date(2025, 12, 31)) == Quarter(2026, 3, date(2025, 10, 1), date(2025, 12, 31))
    assert fiscal_quarter(APRIL, date(2026, 1, 10)) == Quarter(2026, 4, date(2026, 1, 1), date(2026, 3, 31))
    assert fiscal_quarter(APRIL, date(2026, 4, 1)).label == "FY2027 Q1"
    assert quarter_bounds(APRIL, 2026, 1) == fiscal_quarter(APRIL, date(2025, 4, 1))


def test_it_handles_quarters_that_straddle_the_calendar_year():
    # A February fiscal year: Q4 of FY2026 is November 2025 to January 2026 (31 days in January).
    q4 = fiscal_quarter(FEBRUARY, date(2026, 1, 31))
    assert q4 == Quarter(2026, 4, date(2025, 11, 1), date(2026, 1, 31))
    assert fiscal_quarter(FEBRUARY, date(2025, 11, 1)) == q4
    assert shift_quarter(FEBRUARY, q4, 1) == Quarter(2027, 1, date(2026, 2, 1), date(2026, 4, 30))


def test_it_lists_the_last_quarters_oldest_first_ending_with_the_current_one():
    quarters = last_quarters(APRIL, 8, date(2026, 5, 2))
    assert [q.label for q in quarters] == ["FY2025 Q2", "FY2025 Q3", "FY2025 Q4", "FY2026 Q1", "FY2026 Q2",
                                           "FY2026 Q3", "FY2026 Q4", "FY2027 Q1"]
    assert quarters[0].start == date(2024, 7, 1) and quarters[-1].end == date(2026, 6, 30)
    # Consecutive quarters touch: no day is in two quarters or in none.
    assert all(add_months(a.start, 3) == b.start for a, b in zip(quarters, quarters[1:], strict=False))
    assert last_quarters(CALENDAR, 0, date(2026, 5, 2)) == []


def test_it_refuses_a_quarter_outside_1_to_4():
    with pytest.raises(ValueError):
        quarter_bounds(CALENDAR, 2026, 5)


def test_it_numbers_quarters_so_sql_can_group_by_them():
    for tenant in (CALENDAR, APRIL, FEBRUARY):
        for day in (date(2024, 2, 29), date(2025, 3, 31), date(2025, 4, 1), date(2026, 12, 31)):
            assert quarter_of_index(tenant, quarter_index(tenant, day)) == fiscal_quarter(tenant, day)
    assert quarter_index(APRIL, date(2025, 6, 30)) + 1 == quarter_index(APRIL, date(2025, 7, 1))


def test_it_does_month_arithmetic_at_month_ends():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert (month_start(date(2026, 2, 17)), month_end(date(2026, 2, 17))) == (date(2026, 2, 1), date(2026, 2, 28))
    assert months_between(date(2025, 11, 20), date(2026, 2, 1)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
