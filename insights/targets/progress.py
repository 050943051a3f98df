"""Progress on the tenant's active targets, per CSM and for the team, with the pace still needed.

`targets_progress(tenant=, user_ids=, today=)` runs a fixed number of queries: the targets, the people, and at
most one grouped query per metric in use (measures.py), whatever the number of CSMs, accounts or records.
Everything after the queries is arithmetic on a few numbers per CSM.

Statuses. Count targets: "met" once the actual reaches the goal; otherwise compared with the expected-to-date
(the goal x the share of the period already over; working days for activity days): "ahead" above it, "on pace"
at least its whole number (3.7 expected: 3 is on pace), "behind" below that. Shares and NPS: "met" or "not met" (or
"no data" with no clients, no ARR, no answers)."""

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from csplatform.tenancy.context import current_tenant_or_none, tenant_context
from csplatform.tenancy.models import User
from renewals.periods import month_end, months_between

from ..models import Target
from . import measures
from .catalogue import AT_MOST, Basis, MetricSpec, spec_for
from .periods import Span, report_cycles, span_of, working_days

M = Target.Metric
ZERO, ONE, HUNDRED = Decimal("0"), Decimal("1"), Decimal("100")

# Colours reuse the goal styles (static/css): green when met or on pace, yellow behind, red when a share is missed.
TONES = {"met": "achieved", "ahead": "on_track", "on_pace": "on_track", "behind": "at_risk", "not_met": "missed",
         "no_data": "none"}
STATUS_LABELS = {"met": "Met", "ahead": "Ahead", "on_pace": "On pace", "behind": "Behind", "not_met": "Not met",
                 "no_data": "No data"}

COUNTERS = {
    M.APPROVED_GOALS: measures.approved_goals,
    M.EXPANSIONS_FLAGGED: measures.expansions_flagged,
    M.REFERRALS: measures.advocacy("referral"),
    M.CASE_STUDIES: measures.advocacy("case_study"),
    M.FEEDBACK_SOLICITED: measures.feedback_solicited,
    M.ACTIVITY_DAYS: measures.activity_days,
}
NEEDS_BOOK = {M.APPROVED_GOALS, M.FEEDBACK_SOLICITED, M.REPORTS_DELIVERED, M.GREEN_ACCOUNTS, M.GREEN_ARR, M.RED_ARR}
SHARES = {M.GREEN_ACCOUNTS, M.GREEN_ARR, M.RED_ARR}


def number(value, places: int = 1) -> str:
    """12 -> "12", Decimal("2.50") -> "2.5", 2.6667 -> "2.7"."""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value, currency: str) -> str:
    return f"{Decimal(value).quantize(ONE, rounding=ROUND_CEILING):,.0f} {currency}"


def day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


@dataclass
class Context:
    tenant: object
    today: date
    people: int = 1  # how many CSMs a row stands for (the team row: all of them)


# --- counts ----------------------------------------------------------------------------------------------------

def _count_status(actual, goal: Decimal, expected: Decimal) -> str:
    if actual >= goal:
        return "met"
    if actual > expected:
        return "ahead"
    if actual >= expected.to_integral_value(rounding=ROUND_FLOOR):
        return "on_pace"
    return "behind"


def _rate_sentence(remaining: int, units_left: int, unit: str) -> str:
    rate = Decimal(remaining) / Decimal(units_left)
    if rate >= ONE:
        return f"about {number(rate)} a {unit}"
    return f"about 1 every {number(Decimal(units_left) / Decimal(remaining))} {unit}s"


def _count_pace(spec: MetricSpec, remaining: int, deadline: date, kind: str, ctx: Context) -> str:
    """What is left, and how often it has to happen in what is left of the period, in a natural unit."""
    if remaining <= 0:
        return "Nothing more needed."
    if spec.metric == M.ACTIVITY_DAYS:
        left = working_days(ctx.today, deadline)
        if left == 0:
            return f"No working days left: {remaining} short."
        if ctx.people == 1:
            if remaining > left:
                return f"{left} working days left: {remaining} needed, out of reach."
            if remaining == left:
                return f"{left} working days left: one activity a day."
            return f"{left} working days left: an activity on {remaining} of them."
        return f"{left} working days left: {remaining} more across the team, {_rate_sentence(remaining, left, 'day')}."
    head = f"{remaining} more {spec.nouns(remaining)} by {day_label(deadline)}"
    if kind == Target.Period.MONTH:
        left, unit = math.ceil(((deadline - ctx.today).days + 1) / 7), "week"
    else:
        left, unit = len(months_between(ctx.today, deadline)), "month"
    return f"{head}: {_rate_sentence(remaining, left, unit)}."


def _count_cell(spec, span, actual: int, goal: Decimal, expected: Decimal, ctx, *, deadline=None, detail=""):
    if goal == 0 and spec.basis in (Basis.PER_CLIENT, Basis.PER_REPORT):
        return {"actual": actual, "goal": goal, "expected": None, "status": "no_data", "percent": 0,
                "pace": "No clients.", "detail": detail}
    remaining = int((goal - actual).to_integral_value(rounding=ROUND_CEILING))
    percent = 100 if goal == 0 else min(100, int(Decimal(100 * actual) / goal))
    return {"actual": actual, "goal": goal, "expected": expected, "percent": percent,
            "status": _count_status(actual, goal, expected), "detail": detail,
            "pace": _count_pace(spec, remaining, deadline or span.end, span.kind, ctx)}


# --- shares and NPS --------------------------------------------------------------------------------------------

def _share_cell(spec, amount: Decimal, part, whole, ctx: Context) -> dict:
    """A share of the clients (count) or of their ARR: met / not met, and what would have to change."""
    is_arr = spec.basis == Basis.SHARE_ARR
    if not whole:
        return {"actual": None, "goal": amount, "expected": None, "status": "no_data", "percent": 0,
                "pace": "No ARR yet." if is_arr else "No clients yet.", "detail": ""}
    share = Decimal(100) * Decimal(part) / Decimal(whole)
    at_most = spec.direction == AT_MOST
    met = share <= amount if at_most else share >= amount
    limit = amount * Decimal(whole) / HUNDRED  # the part that exactly meets the target
    currency = ctx.tenant.currency
    if met:
        pace = "Nothing more needed."
    elif at_most:
        pace = f"{money(Decimal(part) - limit, currency)} of ARR would have to stop being red."
    elif is_arr:
        pace = f"{money(limit - Decimal(part), currency)} more ARR would have to turn green."
    else:
        needed = int((limit - part).to_integral_value(rounding=ROUND_CEILING))
        pace = f"{needed} more {spec.nouns(needed)} would have to turn green."
    detail = (f"{money(part, currency)} of {money(whole, currency)}" if is_arr
              else f"{part} of {whole} {spec.nouns(whole)}")
    return {"actual": share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "goal": amount, "expected": None,
            "status": "met" if met else "not_met", "percent": min(100, int(share)), "pace": pace, "detail": detail}


def _nps_cell(amount: Decimal, answers: dict) -> dict:
    total, promoters, detractors = answers.get("answers", 0), answers.get("promoters", 0), answers.get("detractors", 0)
    if not total:
        return {"actual": None, "goal": amount, "expected": None, "status": "no_data", "percent": None,
                "pace": "No answers yet.", "detail": "no answers yet"}
    score = int((Decimal(100 * (promoters - detractors)) / total).to_integral_value(rounding=ROUND_HALF_UP))
    met = score >= amount
    if met:
        pace = "Nothing more needed."
    elif amount >= HUNDRED:
        pace = "Out of reach: every answer would have to be a promoter."
    else:
        # k more promoters (and nothing else) reach the target when 100 (P + k - D) >= amount (T + k).
        k = ((amount * total - 100 * (promoters - detractors)) / (HUNDRED - amount)).to_integral_value(
            rounding=ROUND_CEILING)
        pace = f"About {k} more promoter answers (9-10), with no new detractor, would reach {number(amount, 0)}."
    return {"actual": score, "goal": amount, "expected": None, "status": "met" if met else "not_met",
            "percent": None, "pace": pace,
            "detail": f"{total} answers: {promoters} promoters, {detractors} detractors"}


# --- one target, one row ----------------------------------------------------------------------------------------

@dataclass
class Facts:
    """What the queries found for one CSM (or, summed, for the team)."""

    book: dict
    counts: dict  # metric -> count
    reports: dict  # report month -> (drafted, delivered)
    nps: dict


def _cell(target: Target, span: Span, facts: Facts, ctx: Context) -> dict:
    spec = spec_for(target.metric)
    amount = target.amount
    clients = int(facts.book.get("clients", 0))
    metric = target.metric
    if metric in (M.APPROVED_GOALS, M.FEEDBACK_SOLICITED):
        goal = amount * clients
        cell = _count_cell(spec, span, facts.counts.get(metric, 0), goal,
                           goal * span.days_before(ctx.today) / span.days, ctx,
                           detail=f"{clients} clients x {number(amount, 2)}")
    elif metric in (M.EXPANSIONS_FLAGGED, M.REFERRALS, M.CASE_STUDIES):
        goal = amount * ctx.people
        cell = _count_cell(spec, span, facts.counts.get(metric, 0), goal,
                           goal * span.days_before(ctx.today) / span.days, ctx)
    elif metric == M.ACTIVITY_DAYS:
        goal = amount * working_days(span.start, span.end) * ctx.people
        elapsed = working_days(span.start, ctx.today) - (1 if ctx.today.weekday() < 5 else 0)
        cell = _count_cell(spec, span, facts.counts.get(metric, 0), goal, amount * elapsed * ctx.people, ctx,
                           detail=f"{working_days(span.start, span.end)} working days in {span.label}")
    elif metric == M.REPORTS_DELIVERED:
        cell = _reports_cell(spec, span, amount, facts, clients, ctx)
    elif metric in SHARES:
        book = facts.book
        if metric == M.GREEN_ACCOUNTS:
            part, whole = int(book.get("green", 0)), clients
        else:
            part = book.get("green_arr" if metric == M.GREEN_ARR else "red_arr", ZERO)
            whole = book.get("arr", ZERO)
        cell = _share_cell(spec, amount, part, whole, ctx)
    else:
        cell = _nps_cell(amount, facts.nps)
    cell["status_label"] = STATUS_LABELS[cell["status"]]
    cell["tone"] = TONES[cell["status"]]
    cell.update(_describe(target, spec, span))
    cell["actual_display"] = _shown(spec, cell["actual"])
    cell["goal_display"] = _shown(spec, cell["goal"])
    cell["expected_display"] = number(cell["expected"]) if cell["expected"] is not None else ""
    return cell


def _reports_cell(spec, span: Span, amount: Decimal, facts: Facts, clients: int, ctx: Context) -> dict:
    """Reports of the period's cycles so far: earlier cycles were due in full; the current cycle (last month's
    reports, delivered during this month) pro rata of this month; before any is drafted, one per client."""
    cycles = report_cycles(span, ctx.today)
    current = cycles[-1]
    drafted_now = facts.reports.get(current, (0, 0))[0] or clients
    earlier = sum(facts.reports.get(month, (0, 0))[0] for month in cycles[:-1])
    delivered = sum(found[1] for found in facts.reports.values())
    month_span = span_of(ctx.tenant, Target.Period.MONTH, ctx.today)
    goal = amount * (earlier + drafted_now)
    expected = amount * (earlier + Decimal(drafted_now) * month_span.days_before(ctx.today) / month_span.days)
    cell = _count_cell(spec, span, delivered, goal, expected, ctx, deadline=month_end(ctx.today),
                       detail=f"reports of {current:%B %Y}" if len(cycles) == 1
                       else f"reports of {cycles[0]:%b %Y} to {current:%b %Y}")
    if cell["status"] != "no_data":
        # The reports still open can only be delivered this month, so the pace is per week of this month.
        remaining = int((goal - delivered).to_integral_value(rounding=ROUND_CEILING))
        cell["pace"] = _count_pace(spec, remaining, month_end(ctx.today), Target.Period.MONTH, ctx)
    return cell


def _shown(spec: MetricSpec, value) -> str:
    if value is None:
        return "—"
    if spec.basis == Basis.SCORE:
        return f"{int(value):+d}" if isinstance(value, int) else number(value, 0)
    if spec.is_share:
        return f"{number(value)}%"
    return number(value)


def _describe(target: Target, spec: MetricSpec, span: Span) -> dict:
    return {"target_id": target.pk, "metric": target.metric, "label": spec.label, "how": spec.how,
            "basis": spec.basis, "basis_label": spec.basis_label, "direction": spec.direction,
            "direction_label": spec.direction_label, "unit": spec.unit, "amount": target.amount,
            "period": target.period, "period_label": span.label, "period_start": span.start, "period_end": span.end}


# --- the whole table --------------------------------------------------------------------------------------------

def _sum_facts(all_facts: list[Facts]) -> Facts:
    book, counts, reports, nps = {}, {}, {}, {}
    for facts in all_facts:
        for key, value in facts.book.items():
            book[key] = book.get(key, 0) + value
        for key, value in facts.counts.items():
            counts[key] = counts.get(key, 0) + value
        for month, (drafted, delivered) in facts.reports.items():
            before = reports.get(month, (0, 0))
            reports[month] = (before[0] + drafted, before[1] + delivered)
        for key, value in facts.nps.items():
            nps[key] = nps.get(key, 0) + value
    return Facts(book, counts, reports, nps)


def _team_reports(all_facts: list[Facts], books: list[dict], cycles_current: date | None) -> Facts:
    """Summing reports per month would lose "one per client before any is drafted" per CSM: a CSM with no report
    yet in the current cycle counts their clients (the same rule as their own row)."""
    team = _sum_facts(all_facts)
    if cycles_current is not None:
        drafted = sum((facts.reports.get(cycles_current, (0, 0))[0] or int(book.get("clients", 0)))
                      for facts, book in zip(all_facts, books, strict=True))
        delivered = team.reports.get(cycles_current, (0, 0))[1]
        team.reports[cycles_current] = (drafted, delivered)
    return team


def _collect(targets: list[Target], user_ids: list[int], tenant, today: date) -> dict[int, Facts]:
    metrics = {t.metric: t for t in targets}
    spans = {t.metric: span_of(tenant, t.period, today) for t in targets}
    books, counts, reports, nps = {}, {}, {}, {}
    if metrics.keys() & NEEDS_BOOK:
        scored_on = measures.latest_scored_day(today) if metrics.keys() & SHARES else None
        books = measures.book(user_ids, scored_on=scored_on)
    for metric, counter in COUNTERS.items():
        if metric in metrics:
            found = counter(user_ids, spans[metric].start, today)
            for user_id, n in found.items():
                counts.setdefault(user_id, {})[metric] = n
    if M.REPORTS_DELIVERED in metrics:
        reports = measures.reports(user_ids, report_cycles(spans[M.REPORTS_DELIVERED], today))
    if M.NPS in metrics:
        nps = measures.nps_answers(user_ids, spans[M.NPS].start, today)
    return {user_id: Facts(books.get(user_id, {}), counts.get(user_id, {}), reports.get(user_id, {}),
                           nps.get(user_id, {})) for user_id in user_ids}


def targets_progress(*, tenant, user_ids: list[int], today: date) -> dict:
    """Progress on every active target for these people and for them together.

    Returns {"today", "columns": [target description...], "people": [{"user_id", "name", "cells": [...]}, ...]
    (by name), "team": {"name", "people", "cells": [...]}}; each cell describes its target (label, how,
    period...) and carries actual, goal, expected, status, status_label, percent (progress bar, None for NPS),
    pace (a sentence) and detail, with *_display strings. `cells` are in the order of `columns`."""
    current = current_tenant_or_none()
    if current is None or current.pk != tenant.pk:
        with tenant_context(tenant):
            return targets_progress(tenant=tenant, user_ids=user_ids, today=today)
    user_ids = list(dict.fromkeys(int(u) for u in user_ids))
    targets = list(Target.objects.filter(is_active=True).order_by("position", "id"))
    people = list(User.objects.filter(pk__in=user_ids).order_by("full_name", "email", "pk")) if user_ids else []
    facts = _collect(targets, [p.pk for p in people], tenant, today) if targets and people else {}
    spans = {t.metric: span_of(tenant, t.period, today) for t in targets}
    rows = []
    for person in people:
        ctx = Context(tenant=tenant, today=today)
        rows.append({"user_id": person.pk, "name": person.display_name,
                     "cells": [_cell(t, spans[t.metric], facts[person.pk], ctx) for t in targets]})
    team_cells = []
    if people:
        person_facts = [facts[p.pk] for p in people]
        current_cycle = (report_cycles(spans[M.REPORTS_DELIVERED], today)[-1]
                         if M.REPORTS_DELIVERED in spans else None)
        team_facts = _team_reports(person_facts, [f.book for f in person_facts], current_cycle)
        ctx = Context(tenant=tenant, today=today, people=len(people))
        team_cells = [_cell(t, spans[t.metric], team_facts, ctx) for t in targets]
    columns = [{**_describe(t, spec_for(t.metric), spans[t.metric])} for t in targets]
    return {"today": today, "columns": columns, "people": rows,
            "team": {"name": "Team", "people": len(people), "cells": team_cells}}
