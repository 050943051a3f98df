"""The period a target is measured over, as of a day: the calendar month, or the tenant's fiscal quarter or year
(renewals/periods.py: a fiscal year is named by the calendar year it ends in)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from renewals.periods import add_months, fiscal_quarter, month_end, month_start, quarter_bounds

from ..models import Target


@dataclass(frozen=True)
class Span:
    kind: str
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def days_before(self, today: date) -> int:
        """Whole days of the period already over (today is not over yet)."""
        return max(0, min((today - self.start).days, self.days))


def span_of(tenant, period: str, today: date) -> Span:
    if period == Target.Period.MONTH:
        return Span(period, month_start(today), month_end(today), f"{today:%B %Y}")
    quarter = fiscal_quarter(tenant, today)
    if period == Target.Period.QUARTER:
        return Span(period, quarter.start, quarter.end, quarter.label)
    if period == Target.Period.YEAR:
        first, last = quarter_bounds(tenant, quarter.year, 1), quarter_bounds(tenant, quarter.year, 4)
        return Span(period, first.start, last.end, f"FY{quarter.year}")
    raise ValueError(f"Unknown period {period!r}")


def working_days(start: date, end: date) -> int:
    """Monday to Friday days in [start, end] (0 when end is before start)."""
    if end < start:
        return 0
    days = (end - start).days + 1
    weeks, extra = divmod(days, 7)
    count = weeks * 5
    weekday = start.weekday()
    for offset in range(extra):  # at most six days left over
        if (weekday + offset) % 7 < 5:
            count += 1
    return count


def report_cycles(span: Span, today: date) -> list[date]:
    """The report months whose delivery month (the month after) lies in the period up to today's month, oldest
    first: reports of a month are drafted on the 1st of the next month and delivered during it."""
    cycles, delivery = [], span.start
    while delivery <= min(span.end, today):
        cycles.append(add_months(delivery, -1))
        delivery = add_months(delivery, 1)
    return cycles


def local_start(day: date) -> datetime:
    """Midnight at the start of `day` in the current (local) time zone, for datetime columns."""
    return timezone.make_aware(datetime.combine(day, time.min))


def local_end(day: date) -> datetime:
    """Midnight after `day`: use as an exclusive upper bound."""
    return local_start(day + timedelta(days=1))
