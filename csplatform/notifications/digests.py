"""Email digests: the registry of digest kinds, who is due one now, and sending each one exactly once.

The content is built by the apps above (insights.digests registers the daily and the weekly digest), so this
module only knows when, to whom and how: a member gets a digest of a kind when their role receives it, their
membership has it switched on, and their local time (User.time_zone) is between SEND_HOUR and LAST_HOUR on the
right weekday. Celery beat runs `digests_fan_out` every hour; a digest a run could not send (beat down at 07:00,
the mail server refusing) is tried again by the next runs until LAST_HOUR local.

Once per (tenant, member, kind, local date): a DigestDelivery row is claimed (inserted, or taken over from a failed
or abandoned attempt by compare-and-set) and committed before anything is sent, so two workers never both send.
It says "sent" only after the mail backend accepted the message; a send that raises leaves it "failed" (retried
by a later run, at most MAX_ATTEMPTS times). A worker killed between the mail server accepting the message and the
row's update leaves it "sending": after STALE_CLAIM it is taken over and sent again. That window is milliseconds
long, and a second copy of a digest is a smaller harm than a lost one, so we accept it.
"""

import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Tenant

from .models import DigestDelivery

logger = logging.getLogger(__name__)

SEND_HOUR = 7  # local time of the member
LAST_HOUR = 12  # later than this a missed digest is no longer worth sending that day
STALE_CLAIM = timedelta(minutes=30)  # a "sending" row older than this was left by a dead worker
MAX_ATTEMPTS = 3
MONDAY = 0


@dataclass(frozen=True)
class DigestEmail:
    subject: str
    text: str
    html: str
    items: int  # what the digest lists; 0 means nothing to say, and nothing is sent


@dataclass(frozen=True)
class Digest:
    kind: str
    label: str
    description: str  # what it holds, for the My settings page
    roles: frozenset[str]
    preference: str  # the Membership boolean that switches it off
    weekday: int | None  # 0 = Monday; None = every day
    build: Callable  # build(*, tenant, membership, local_date) -> DigestEmail | None, in the tenant's context


_DIGESTS: dict[str, Digest] = {}


def register_digest(digest: Digest) -> None:
    _DIGESTS[digest.kind] = digest


def registered_digests() -> list[Digest]:
    return sorted(_DIGESTS.values(), key=lambda d: (d.weekday is not None, d.kind))


def get_digest(kind: str) -> Digest:
    try:
        return _DIGESTS[kind]
    except KeyError:
        raise KeyError(f"Unknown digest {kind!r}; registered: {', '.join(sorted(_DIGESTS))}") from None


def digests_for_role(role: str) -> list[Digest]:
    return [d for d in registered_digests() if role in d.roles]


def user_zone(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _recipients(*, tenant: Tenant, digest: Digest):
    return (
        Membership.objects.filter(
            tenant=tenant,
            role__in=digest.roles,
            user__is_active=True,
            user__is_service_account=False,
            **{digest.preference: True},
        )
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id")
    )


def members_due(*, tenant: Tenant, digest: Digest, at: datetime) -> list[tuple[Membership, date]]:
    """(membership, local date) of the members whose digest of this kind is due at `at` and not yet done.

    Two queries: the tenant's members who receive it, then the deliveries already done for their local dates.
    A member list is a few hundred rows at most, so the local time is worked out in Python."""
    due = []
    for membership in _recipients(tenant=tenant, digest=digest):
        local = at.astimezone(user_zone(membership.user))
        if SEND_HOUR <= local.hour < LAST_HOUR and digest.weekday in (None, local.weekday()):
            due.append((membership, local.date()))
    if not due:
        return []
    with tenant_context(tenant):
        done = set(
            DigestDelivery.objects.filter(
                kind=digest.kind,
                user_id__in=[m.user_id for m, _ in due],
                local_date__in={d for _, d in due},
            )
            .filter(
                Q(status__in=[DigestDelivery.Status.SENT, DigestDelivery.Status.EMPTY])
                | Q(status=DigestDelivery.Status.SENDING, claimed_at__gte=at - STALE_CLAIM)
                | Q(attempts__gte=MAX_ATTEMPTS)
            )
            .values_list("user_id", "local_date")
        )
    return [(m, d) for m, d in due if (m.user_id, d) not in done]


def digest_claim(*, user_id: int, kind: str, local_date: date, now: datetime) -> DigestDelivery | None:
    """Takes the (member, kind, local date) digest for this attempt, or None when another attempt has it (sent,
    nothing to send, being sent) or it failed MAX_ATTEMPTS times. Runs in the tenant's context; the caller commits
    before sending."""
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(user_id=user_id, kind=kind, local_date=local_date, claimed_at=now)
    except IntegrityError:
        pass
    retry = Q(status=DigestDelivery.Status.FAILED) | Q(
        status=DigestDelivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    won = (
        DigestDelivery.objects.filter(user_id=user_id, kind=kind, local_date=local_date, attempts__lt=MAX_ATTEMPTS)
        .filter(retry)
        .update(status=DigestDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, error="")
    )
    if not won:
        return None
    return DigestDelivery.objects.get(user_id=user_id, kind=kind, local_date=local_date)


def _finish(delivery: DigestDelivery, **fields) -> None:
    DigestDelivery.objects.filter(pk=delivery.pk, status=DigestDelivery.Status.SENDING).update(**fields)


def digest_deliver(
    *, tenant: Tenant, digest: Digest, membership: Membership, local_date: date, now: datetime | None = None
) -> str:
    """Claims, builds and sends one member's digest. Returns sent, empty, failed or skipped (someone else has it).

    Each step is its own transaction: the claim is committed before the email goes, and no transaction stays
    open while the mail server is talked to."""
    now = now or timezone.now()
    with tenant_context(tenant):
        delivery = digest_claim(user_id=membership.user_id, kind=digest.kind, local_date=local_date, now=now)
    if delivery is None:
        return "skipped"
    try:
        with tenant_context(tenant):
            email = digest.build(tenant=tenant, membership=membership, local_date=local_date)
        if email is None or not email.items:
            with tenant_context(tenant):
                _finish(delivery, status=DigestDelivery.Status.EMPTY)
            return "empty"
        message = EmailMultiAlternatives(
            subject=email.subject, body=email.text, to=[membership.user.email], from_email=settings.DEFAULT_FROM_EMAIL
        )
        message.attach_alternative(email.html, "text/html")
        message.send()
    except Exception as error:  # the row must say so, whatever went wrong, and the other members go on
        logger.exception("The %s digest for user %s in %s was not sent", digest.kind, membership.user_id, tenant.slug)
        with tenant_context(tenant):
            _finish(delivery, status=DigestDelivery.Status.FAILED, error=f"{type(error).__name__}: {error}"[:500])
        return "failed"
    with tenant_context(tenant):
        _finish(delivery, status=DigestDelivery.Status.SENT, sent_at=timezone.now(), items=email.items)
    return "sent"


def digests_send_due(*, tenant: Tenant, at: datetime | None = None, kinds=None) -> dict[str, int]:
    """The hourly run for one tenant: every digest due at `at` (now) in its members' local time."""
    at = at or timezone.now()
    outcomes: dict[str, int] = {}
    for digest in registered_digests():
        if kinds is not None and digest.kind not in kinds:
            continue
        for membership, local_date in members_due(tenant=tenant, digest=digest, at=at):
            outcome = digest_deliver(tenant=tenant, digest=digest, membership=membership, local_date=local_date)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def digests_send_for_date(*, tenant: Tenant, kind: str, local_date: date) -> dict[str, int]:
    """Sends `kind` for `local_date` now to every member who receives it, whatever their local time or the
    weekday (ops and tests: manage.py send_digests). Still once per member and date."""
    digest = get_digest(kind)
    outcomes: dict[str, int] = {}
    for membership in _recipients(tenant=tenant, digest=digest):
        outcome = digest_deliver(tenant=tenant, digest=digest, membership=membership, local_date=local_date)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
