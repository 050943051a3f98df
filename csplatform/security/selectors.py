"""Reads for the login security and API token pages; all limited to one tenant's members."""

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models.functions import Lower
from django.utils import timezone

from csplatform.tenancy.models import ApiToken, Membership, User


@dataclass(frozen=True)
class MemberLoginFailures:
    user: User
    failures: int  # within the cool-off
    last_failure: datetime
    locked_until: datetime | None  # their email is locked until then
    network_locked_until: datetime | None  # an address they tried from is locked (by anyone's failures)


def _lock_end(rows, limit: int, cool_off) -> datetime | None:
    """rows: (attempt time, failures). Axes locks while the rows newer than now - cool-off add up to `limit`; the
    rows leave that window oldest first, so the lock ends a cool-off after the row whose count reaches it."""
    total = 0
    for attempt_time, failures in sorted(rows, key=lambda row: row[0], reverse=True):
        total += failures
        if total >= limit:
            return attempt_time + cool_off
    return None


def member_login_failures(*, tenant) -> list[MemberLoginFailures]:
    """Members of `tenant` with failed logins within the cool-off, locked ones first.

    Only this tenant's members are listed, and no address is returned: an address may also carry other
    tenants' users' failures.
    """
    cool_off = settings.AXES_COOLOFF_TIME
    now = timezone.now()
    recent = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off)
    members = (
        Membership.objects.filter(tenant=tenant)
        .annotate(login=Lower("user__email"))
        .filter(login__in=recent.exclude(username=None).values("username"))
        .select_related("user")
    )
    user_by_login = {m.login: m.user for m in members}
    if not user_by_login:
        return []
    rows = list(recent.filter(username__in=user_by_login).values_list(
        "username", "ip_address", "attempt_time", "failures_since_start"))
    addresses = {ip for _, ip, _, _ in rows if ip}
    rows_by_address: dict[str, list] = {}
    for ip, attempt_time, failures in recent.filter(ip_address__in=addresses).values_list(
            "ip_address", "attempt_time", "failures_since_start"):
        rows_by_address.setdefault(ip, []).append((attempt_time, failures))
    address_lock = {ip: _lock_end(r, settings.LOGIN_IP_FAILURE_LIMIT, cool_off) for ip, r in rows_by_address.items()}

    result = []
    for login, user in user_by_login.items():
        mine = [(t, n, ip) for username, ip, t, n in rows if username == login]
        locked_until = _lock_end([(t, n) for t, n, _ in mine], settings.AXES_FAILURE_LIMIT, cool_off)
        network_locks = [address_lock.get(ip) for _, _, ip in mine if address_lock.get(ip)]
        result.append(MemberLoginFailures(
            user=user,
            failures=sum(n for _, n, _ in mine),
            last_failure=max(t for t, _, _ in mine),
            locked_until=locked_until if locked_until and locked_until > now else None,
            network_locked_until=max(network_locks) if network_locks and max(network_locks) > now else None,
        ))
    result.sort(key=lambda r: (r.locked_until is None and r.network_locked_until is None, r.user.email))
    return result


def token_status(token: ApiToken, now=None) -> str:
    now = now or timezone.now()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def tokens_with_status(tokens) -> list[ApiToken]:
    now = timezone.now()
    tokens = list(tokens)
    for token in tokens:
        token.status = token_status(token, now)
    return tokens


def active_token_count(*, tenant, user) -> int:
    now = timezone.now()
    return (ApiToken.objects.filter(tenant=tenant, user=user, revoked_at=None)
            .exclude(expires_at__lte=now).count())

