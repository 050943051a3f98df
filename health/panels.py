"""The "Health" section of the Account 360 page (registered when apps.py imports this module).

Everything shown is read from precomputed rows (HealthScore, HealthAlert) plus a few small reads; the number
of queries is fixed whatever the length of the account's history.
"""

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.panels import register_account_panel
from accounts.permissions import account_writable
from csplatform.tenancy.permissions import role_can
from success_plans.models import Task

from . import selectors
from .models import Band, Measure, SurveyInvite

K = Measure.Kind
HISTORY_DAYS = 180
NPS_DAYS = 180
RECENT_RESPONSES = 10
RECENT_INVITES = 10
BAND_COLOURS = {Band.GREEN: "#1a7f37", Band.YELLOW: "#bf8700", Band.RED: "#cf222e", Band.NONE: "#6e7781"}


def format_raw(kind: str, raw) -> str:
    """A measure's raw value the way a CSM reads it (the unit depends on the kind)."""
    if raw is None:
        return "no data"
    value = float(raw)
    formats = {
        K.ACTIVE_USERS: lambda v: f"{v:,.1f} active users a day",
        K.SEAT_UTILISATION: lambda v: f"{v:.0f}% of seats",
        K.USAGE_EVENTS: lambda v: f"{v:,.0f} events",
        K.FEATURE_BREADTH: lambda v: f"{v:.1f} features a day",
        K.USAGE_TREND: lambda v: f"{v:+.0f}% vs the window before",
        K.NPS: lambda v: f"NPS {v:+.0f}",
        K.CSAT: lambda v: f"{v:.1f} of 5",
        K.OPEN_PRIORITY_TICKETS: lambda v: f"{v:.0f} open",
        K.TICKETS_OPENED: lambda v: f"{v:.0f} opened",
        K.DAYS_SINCE_TOUCH: lambda v: f"{v:.0f} days",
        K.SPONSOR_ENGAGED: lambda v: "yes" if v >= 1 else "no",
        K.GOAL_ATTAINMENT: lambda v: f"{v:.0f}% of goals",
        K.CSM_SENTIMENT: lambda v: f"{v:.0f} of 5",
    }
    return formats.get(kind, lambda v: f"{v:g}")(value)


def contributions(components, measures: dict) -> dict:
    """Each measure's part in the score: the weights of the measures without data are left out and the others
    renormalised, exactly as the recompute does, so the shares add up to 100%."""
    used = sum(float(weight) for _, _, score, weight in components if score is not None)
    rows = []
    for measure_id, raw, score, weight in components:
        measure = measures.get(measure_id)
        has_data = score is not None
        share = float(weight) / used if has_data and used else None
        rows.append({
            "name": measure.name if measure else "Removed measure",
            "kind": measure.kind if measure else "",
            "window_days": measure.window_days if measure and measure.kind != K.OPEN_PRIORITY_TICKETS else None,
            "raw": format_raw(measure.kind if measure else "", raw),
            "score": score,
            "weight": weight,
            "has_data": has_data,
            "share_pct": round(100 * share, 1) if share is not None else None,
            "points": round(float(score) * share, 1) if share is not None else None,
        })
    return {
        "rows": rows,
        "used_weight": used,
        "total_weight": sum(float(c[3]) for c in components),
        "missing": [r["name"] for r in rows if not r["has_data"]],
    }


def format_change(value) -> str:
    if value is None:
        return "no score to compare with"
    value = float(value)
    if value == 0:
        return "no change"
    return f"{'up' if value > 0 else 'down'} {abs(value):.1f} points"


def trend(history, green_from: int, yellow_from: int) -> dict:
    points = [{"day": day.isoformat(), "score": float(score) if score is not None else None, "band": band,
               "band_label": Band(band).label} for day, score, band in history]
    scored = [p for p in points if p["score"] is not None]
    summary = None
    if scored:
        low = min(scored, key=lambda p: p["score"])
        high = max(scored, key=lambda p: p["score"])
        summary = {"first": scored[0], "last": scored[-1], "low": low, "high": high, "days": len(scored)}
    return {
        "points": points,
        "summary": summary,
        "chart": {
            "labels": [p["day"] for p in points],
            "scores": [p["score"] for p in points],
            "bands": [p["band"] for p in points],
            "band_labels": [p["band_label"] for p in points],
            "green_from": green_from,
            "yellow_from": yellow_from,
            "colours": {str(k): v for k, v in BAND_COLOURS.items()},
        },
    }


def task_url(request, task: Task | None) -> str | None:
    """A page for the recovery task when one exists; an open task is listed in the success plan panel above."""
    if task is None:
        return None
    try:
        return reverse("plans:task_detail", kwargs={"tenant_slug": request.tenant.slug, "task_id": task.pk})
    except NoReverseMatch:
        pass
    if task.status == Task.Status.OPEN:
        return f"#task-{task.pk}"
    if task.plan_id:
        return reverse("plans:detail", kwargs={"tenant_slug": request.tenant.slug, "plan_id": task.plan_id})
    return None


def invite_state(invite: SurveyInvite, now) -> str:
    if invite.answered_at is not None:
        return "answered"
    if invite.expires_at <= now:
        return "expired"
    return "sent"


def health_panel(request, account) -> dict:
    membership = request.membership
    now = timezone.now()
    today = timezone.localdate()
    green_from, yellow_from = selectors.band_thresholds()
    latest = selectors.score_latest(account=account)
    components = latest.components if latest is not None else []
    measures = selectors.measures_by_id(c[0] for c in components)
    alert = selectors.alert_open(account=account)
    can_send = role_can(membership.role, "surveys.send")
    invites = selectors.invites_recent(account=account, limit=RECENT_INVITES) if can_send else []
    for invite in invites:
        invite.state = invite_state(invite, now)
    return {
        "score": latest,
        "band_label": Band(latest.band).label if latest is not None else Band.NONE.label,
        "stale": latest is not None and latest.day < today,
        "change_7d": format_change(latest.change_7d) if latest is not None else None,
        "change_30d": format_change(latest.change_30d) if latest is not None else None,
        "thresholds": {"green_from": green_from, "yellow_from": yellow_from},
        "contrib": contributions(components, measures),
        "trend": trend(selectors.score_history(account=account, days=HISTORY_DAYS, today=today),
                       green_from, yellow_from),
        "history_days": HISTORY_DAYS,
        "chart_id": f"health-trend-data-{account.pk}",
        "alert": alert,
        "alert_task_url": task_url(request, alert.task if alert else None),
        "responses": selectors.responses_recent(account=account, limit=RECENT_RESPONSES),
        "nps": selectors.nps(account=account, days=NPS_DAYS, now=now),
        "nps_days": NPS_DAYS,
        "pulse": selectors.pulse_latest(account=account),
        "pulse_form": getattr(request, "health_pulse_form", None),
        "pulse_saved": getattr(request, "health_pulse_saved", False),
        "survey_result": getattr(request, "health_survey_result", None),
        "can_pulse": account_writable(membership, account, "health.pulse"),
        "can_send_surveys": can_send,
        "invites": invites,
    }


register_account_panel(name="health", order=15, template="health/_account_panel.html", context=health_panel)
