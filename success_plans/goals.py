"""How a goal's status follows from its progress and its dates (documented in docs/success_plans.md)."""

from datetime import date
from decimal import Decimal

# A goal is on track while its progress is no more than this far behind the share of its time used.
ON_TRACK_TOLERANCE = Decimal("0.10")


def goal_progress(*, baseline: Decimal, target: Decimal, current: Decimal) -> Decimal:
    """Share of the way from baseline to target, 0..1 (works for goals that go down, e.g. churn)."""
    span = target - baseline
    if span == 0:
        return Decimal(1)
    return max(Decimal(0), min(Decimal(1), (current - baseline) / span))


def time_used(*, start: date, due: date, today: date) -> Decimal:
    total = (due - start).days
    if total <= 0:
        return Decimal(1)
    return max(Decimal(0), min(Decimal(1), Decimal((today - start).days) / Decimal(total)))


def derived_status(*, baseline, target, current, start: date, due: date, today: date) -> str:
    progress = goal_progress(baseline=baseline, target=target, current=current)
    if progress >= 1:
        return "achieved"
    if today > due:
        return "missed"
    if progress + ON_TRACK_TOLERANCE >= time_used(start=start, due=due, today=today):
        return "on_track"
    return "at_risk"


def goal_status(goal, today: date) -> str:
    """The override when a person set one (with a reason), otherwise the derived status."""
    if goal.status_override:
        return goal.status_override
    return derived_status(baseline=goal.baseline, target=goal.target, current=goal.current_value,
                          start=goal.start_date, due=goal.due_date, today=today)
