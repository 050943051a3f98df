"""Reads for the monthly reports: the report document (live for a draft, the snapshot once delivered), the list
of a cycle's reports, per-CSM delivery counts for the Team page and My work. A fixed number of queries each,
whatever the number of goals, decisions, answers or accounts."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q

from health.models import Band, HealthScore, SurveyResponse
from health.panels import format_raw
from health.selectors import measures_by_id
from renewals.models import RenewalOpportunity
from renewals.periods import add_months, month_start
from success_plans.models import Decision, Goal, Risk, SuccessPlan, Task, ValueRealised
from success_plans.panels import decorate_goal

from ..models import MonthlyReport
from .drafting import start_of_day

MOVERS = 3  # the measures shown under "what moved the score"


def report_cycle_month(today: date) -> date:
    """The month this cycle reports on: the month before `today`'s (drafted on the 1st, delivered during it)."""
    return add_months(month_start(today), -1)


def parse_month(value: str) -> date:
    """'YYYY-MM' (or an ISO date) -> the first of that month; ValueError otherwise."""
    value = (value or "").strip()
    if len(value) == 7:
        value += "-01"
    return month_start(date.fromisoformat(value))


def report_get(*, report_id: int) -> MonthlyReport:
    """One report of the current tenant (MonthlyReport.DoesNotExist for another tenant's id)."""
    return (MonthlyReport.objects.select_related("account", "account__csm", "csm", "delivered_by",
                                                 "follow_up_task", "follow_up_task__owner")
            .get(pk=report_id))


def _num(value):
    return None if value is None else float(value)


def _money(value) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def _change(now, before):
    if now is None or before is None:
        return None
    return round(float(now) - float(before), 1)


def _pct(part, whole):
    return round(100 * part / whole, 1) if whole else None


def figures(report: MonthlyReport) -> list[dict]:
    """The usage and adoption table: this month, the month before and the change."""
    seats = report.licensed_seats
    rows = [
        ("mau", "Active users", report.monthly_active_users, report.monthly_active_users_prev, ""),
        ("seats", "Seat utilisation", _pct(report.monthly_active_users, seats),
         _pct(report.monthly_active_users_prev, seats), "%"),
        ("features", "Features used", report.features_used, report.features_used_prev, ""),
        ("events", "Usage events", report.usage_events, report.usage_events_prev, ""),
        ("health", "Health score", _num(report.health_score), _num(report.health_score_prev), ""),
    ]
    return [{"key": key, "label": label, "value": value, "prev": prev, "change": _change(value, prev), "unit": unit}
            for key, label, value, prev, unit in rows]


def _health_rows(report: MonthlyReport) -> tuple[HealthScore | None, HealthScore | None]:
    """The scores on the month's last scored day and on the month before's (two lookups on the unique index)."""
    m0 = report.month
    rows = HealthScore.objects.filter(account_id=report.account_id).order_by("-day")
    now = rows.filter(day__gte=m0, day__lt=add_months(m0, 1)).first()
    before = rows.filter(day__gte=add_months(m0, -1), day__lt=m0).first()
    return now, before


def health_movers(now: HealthScore | None, before: HealthScore | None) -> list[dict]:
    """The measures whose score moved most between the two days, with their names and raw values."""
    if now is None or before is None:
        return []
    previous = {c[0]: c for c in before.components}
    measures = measures_by_id([c[0] for c in now.components])
    moved = []
    for measure_id, raw, score, _weight in now.components:
        old = previous.get(measure_id)
        if old is None or score is None or old[2] is None:
            continue
        change = round(float(score) - float(old[2]), 1)
        if change == 0:
            continue
        measure = measures.get(measure_id)
        kind = measure.kind if measure else ""
        moved.append({"name": measure.name if measure else "Removed measure", "score": float(score),
                      "prev": float(old[2]), "change": change, "raw": format_raw(kind, raw),
                      "raw_prev": format_raw(kind, old[1])})
    moved.sort(key=lambda m: (-abs(m["change"]), m["name"]))
    return moved[:MOVERS]


def _goals(report: MonthlyReport, today: date) -> list[dict]:
    goals = (Goal.objects.filter(account_id=report.account_id, plan__status=SuccessPlan.Status.ACTIVE)
             .select_related("approved_by").order_by("due_date", "id"))
    rows = []
    for goal in goals:
        decorate_goal(goal, today)
        rows.append({"title": goal.title, "measure": goal.measure, "unit": goal.unit,
                     "baseline": str(goal.baseline), "target": str(goal.target), "current": str(goal.current_value),
                     "current_as_of": goal.current_as_of.isoformat(), "due_date": goal.due_date.isoformat(),
                     "progress_pct": goal.progress_pct, "status": goal.status_now, "status_label": goal.status_label,
                     "approved": goal.is_approved,
                     "approved_by": goal.approved_by.name if goal.approved_by else ""})
    return rows


def _value_items(report: MonthlyReport) -> list[dict]:
    items = (ValueRealised.objects.filter(account_id=report.account_id, realised_on__gte=report.month,
                                          realised_on__lt=add_months(report.month, 1))
             .select_related("validated_by").order_by("realised_on", "id"))
    return [{"kind": v.get_kind_display(), "amount": _money(v.amount), "realised_on": v.realised_on.isoformat(),
             "how_measured": v.how_measured, "validated_by": v.validated_by.name if v.validated_by else ""}
            for v in items]


def _risks(report: MonthlyReport) -> list[dict]:
    risks = (Risk.objects.filter(plan__account_id=report.account_id, status=Risk.Status.OPEN)
             .select_related("owner").order_by("-created_at", "-id"))
    order = {Risk.Severity.HIGH: 0, Risk.Severity.MEDIUM: 1, Risk.Severity.LOW: 2}
    rows = [{"title": r.title, "severity": r.severity, "severity_label": r.get_severity_display(),
             "mitigation": r.mitigation, "owner": r.owner.display_name if r.owner else ""} for r in risks]
    return sorted(rows, key=lambda r: order.get(r["severity"], 3))


def _decisions(report: MonthlyReport) -> list[dict]:
    m0, m1 = report.month, add_months(report.month, 1)
    in_month = Q(review__held_on__gte=m0, review__held_on__lt=m1)
    decisions = (Decision.objects.filter(account_id=report.account_id)
                 .filter(Q(status=Decision.Status.OPEN) | in_month)
                 .select_related("review", "owner", "owner_contact")
                 .order_by(F("due_date").asc(nulls_last=True), "id"))
    return [{"text": d.text, "status": d.status, "status_label": d.get_status_display(),
             "due_date": d.due_date.isoformat() if d.due_date else "",
             "owner": d.owner_contact.name if d.owner_contact else (d.owner.display_name if d.owner else ""),
             "review_held_on": d.review.held_on.isoformat(), "made_in_month": m0 <= d.review.held_on < m1}
            for d in decisions]


def _nps_answers(report: MonthlyReport) -> list[dict]:
    answers = (SurveyResponse.objects.filter(account_id=report.account_id, kind=SurveyResponse.Kind.NPS,
                                             responded_at__gte=start_of_day(report.month),
                                             responded_at__lt=start_of_day(add_months(report.month, 1)))
               .select_related("contact").order_by("responded_at", "id"))
    return [{"score": a.score, "comment": a.comment, "contact": a.contact.name if a.contact else "",
             "responded_on": a.responded_at.date().isoformat()} for a in answers]


def report_document(*, report: MonthlyReport, today: date) -> dict:
    """Everything the report shows, as JSON-ready data: what a delivered report freezes into `snapshot`.

    Read live from the account's data: seven queries whatever the number of goals, decisions or answers."""
    now, before = _health_rows(report)
    band = report.health_band or Band.NONE
    change = _change(report.health_score, report.health_score_prev)
    return {
        "account": report.account.name,
        "month": report.month.isoformat(),
        "csm": report.csm.display_name if report.csm else "",
        "figures": figures(report),
        "health": {
            "score": _num(report.health_score), "prev": _num(report.health_score_prev),
            "change": change, "points": abs(change) if change is not None else None,
            "band": band, "band_label": Band(band).label if band in Band.values else band,
            "movers": health_movers(now, before),
        },
        "goals": _goals(report, today),
        "value": {"month": _money(report.value_realised_month), "total": _money(report.value_realised_total),
                  "items": _value_items(report)},
        "risks": _risks(report),
        "decisions": _decisions(report),
        "renewal": {"date": report.renewal_date.isoformat() if report.renewal_date else "",
                    "stage": report.renewal_stage,
                    "stage_label": (RenewalOpportunity.Stage(report.renewal_stage).label
                                    if report.renewal_stage in RenewalOpportunity.Stage.values else ""),
                    "arr": _money(report.arr)},
        "nps": {"responses": report.nps_responses, "score": report.nps_score, "answers": _nps_answers(report)},
        "recommendation": report.recommendation,
    }


def report_shown(*, report: MonthlyReport, today: date) -> dict:
    """What the page shows: the frozen snapshot of a delivered report, the live document of a draft."""
    if report.status == MonthlyReport.Status.DELIVERED and report.snapshot:
        return report.snapshot
    return report_document(report=report, today=today)


def reports_for_cycle(*, month: date, user_ids):
    """The month's reports of these CSMs (the CSM the report was drafted for), with recipients counted: one
    query per page."""
    return (MonthlyReport.objects.filter(month=month, csm_id__in=user_ids)
            .select_related("account", "csm", "delivered_by", "follow_up_task")
            .annotate(recipients_count=Count("recipients"))
            .order_by("status", "account__name", "id"))


def status_counts(*, month: date, user_ids) -> dict:
    """{'reports', 'delivered', 'to_deliver'} of these CSMs for the month: one query."""
    counts = MonthlyReport.objects.filter(month=month, csm_id__in=user_ids).aggregate(
        reports=Count("id"), delivered=Count("id", filter=Q(status=MonthlyReport.Status.DELIVERED)))
    counts["to_deliver"] = counts["reports"] - counts["delivered"]
    return counts


def delivery_by_csm(*, user_ids: list[int], month: date) -> dict[int, dict]:
    """Per CSM user id: the month's reports, how many are delivered, and how many have a follow-up call
    scheduled (a follow-up task linked, open or done; not cancelled). Every id asked for is in the answer
    (zeros when the CSM has no report). One query. Runs in the current tenant."""
    rows = (MonthlyReport.objects.filter(month=month, csm_id__in=user_ids).values("csm_id")
            .annotate(reports=Count("id"),
                      delivered=Count("id", filter=Q(status=MonthlyReport.Status.DELIVERED)),
                      follow_ups=Count("id", filter=Q(follow_up_task__isnull=False)
                                       & ~Q(follow_up_task__status=Task.Status.CANCELLED))))
    result = {int(uid): {"reports": 0, "delivered": 0, "follow_ups": 0} for uid in user_ids}
    for row in rows:
        result[row["csm_id"]] = {"reports": row["reports"], "delivered": row["delivered"],
                                 "follow_ups": row["follow_ups"]}
    return result


def account_reports(*, account, limit: int = 24) -> list[MonthlyReport]:
    """The account's reports, newest month first, with recipients counted (one query)."""
    return list(MonthlyReport.objects.filter(account=account)
                .select_related("delivered_by")
                .annotate(recipients_count=Count("recipients"))
                .order_by("-month")[:limit])
