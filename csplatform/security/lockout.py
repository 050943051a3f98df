"""django-axes wiring: who a login attempt is for, separate limits per email and per address, the lockout page.

Settings (csplatform/settings.py): AXES_FAILURE_LIMIT per email, LOGIN_IP_FAILURE_LIMIT per client address,
AXES_COOLOFF_TIME for both. The database handler keeps the counts in PostgreSQL, so every web process agrees.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.shortcuts import render


def login_username(request, credentials) -> str | None:
    """The email as the user typed it, trimmed and lower-cased: 'Ann@X.com ' and 'ann@x.com' count as one."""
    raw = credentials.get(settings.AXES_USERNAME_FORM_FIELD) if credentials else None
    if raw is None and request is not None:
        raw = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(raw, str):
        return None
    return raw.strip().lower()[:255] or None


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return (
        f"Too many failed logins for this email address or from your network. Try again in {lockout_minutes()} "
        "minutes, or ask an ops or admin person of your workspace to unlock your account (Ops: Login security)."
    )


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the lockout message in place of the form's error (status 429)."""
    username = get_client_username(request, credentials) or ""
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "lockout": lockout_message(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(lockout_minutes() * 60)
    return response


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate, higher limit for a client address.

    Axes compares a single count with AXES_FAILURE_LIMIT. The address's count is scaled by the ratio of the two
    limits, so that comparison is true exactly when the email reached AXES_FAILURE_LIMIT or the address reached
    LOGIN_IP_FAILURE_LIMIT (floor(n * L / I) >= L exactly when n >= I). Both count failures within the cool-off.
    """

    def get_failures(self, request, credentials=None) -> int:
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        by_email = _failures(recent.filter(username=username)) if username else 0
        ip_address = getattr(request, "axes_ip_address", None)
        by_address = _failures(recent.filter(ip_address=ip_address)) if ip_address else 0
        limit = settings.AXES_FAILURE_LIMIT
        return max(by_email, by_address * limit // settings.LOGIN_IP_FAILURE_LIMIT)
