"""Writes for health: defaults, scorecards, surveys, pulses, tickets, and the "score again soon" queue.
Keyword-only, one transaction each, inside the current tenant."""

import hashlib
import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact
from csplatform.db import pg_array
from csplatform.tenancy.context import current_tenant
from csplatform.tenancy.timezones import business_day

from .models import (
    HealthSettings,
    Measure,
    PendingRefresh,
    Scorecard,
    ScorecardSegment,
    ScorecardStage,
    SentimentPulse,
    SupportTicket,
    SurveyInvite,
    SurveyResponse,
)

K = Measure.Kind
# The scorecard every new tenant starts with (documented in docs/health.md). (kind, window, weight, red, green)
DEFAULT_MEASURES = [
    (K.SEAT_UTILISATION, 30, Decimal(20), Decimal(10), Decimal(60)),
    (K.FEATURE_BREADTH, 30, Decimal(10), Decimal(1), Decimal(6)),
    (K.USAGE_TREND, 30, Decimal(10), Decimal(-30), Decimal(10)),
    (K.NPS, 180, Decimal(15), Decimal(-20), Decimal(40)),
    (K.OPEN_PRIORITY_TICKETS, 30, Decimal(10), Decimal(3), Decimal(0)),
    (K.DAYS_SINCE_TOUCH, 30, Decimal(10), Decimal(60), Decimal(14)),
    (K.SPONSOR_ENGAGED, 90, Decimal(5), Decimal(0), Decimal(1)),
    (K.GOAL_ATTAINMENT, 90, Decimal(10), Decimal(25), Decimal(80)),
    (K.CSM_SENTIMENT, 90, Decimal(10), Decimal(1), Decimal(5)),
]


@transaction.atomic
def health_defaults_ensure() -> Scorecard:
    """Band settings and a default scorecard for the current tenant (idempotent)."""
    HealthSettings.objects.get_or_create(tenant=current_tenant())
    card = Scorecard.objects.filter(is_default=True).first()
    if card is None:
        card = Scorecard.objects.create(
            name="Standard health", is_default=True,
            description="Adoption, customer voice, support, engagement, outcomes and the CSM's read.")
        Measure.objects.bulk_create([
            Measure(scorecard=card, kind=kind, window_days=window, weight=weight, red_threshold=red,
                    green_threshold=green, position=i,
                    direction=Measure.Direction.HIGHER if green > red else Measure.Direction.LOWER)
            for i, (kind, window, weight, red, green) in enumerate(DEFAULT_MEASURES)
        ])
    return card


@transaction.atomic
def scorecard_save(*, scorecard: Scorecard, segments, stages, measures: list[Measure], removed: list[Measure]):
    """Saves a scorecard, its assignment and its measures together. A tenant always keeps one default."""
    if scorecard.is_default:
        Scorecard.objects.exclude(pk=scorecard.pk).filter(is_default=True).update(is_default=False)
    elif scorecard.pk and not Scorecard.objects.exclude(pk=scorecard.pk).filter(is_default=True).exists():
        raise ValidationError({"is_default": "Another scorecard must be the default before this one stops being it."})
    if not scorecard.is_default and not segments and not stages:
        raise ValidationError({"segments": "Pick the segments or lifecycle stages this scorecard is for "
                                           "(or make it the default)."})
    scorecard.save()
    ScorecardSegment.objects.filter(scorecard=scorecard).exclude(segment__in=segments).delete()
    ScorecardStage.objects.filter(scorecard=scorecard).exclude(stage__in=stages).delete()
    have_segments = set(ScorecardSegment.objects.filter(scorecard=scorecard).values_list("segment_id", flat=True))
    have_stages = set(ScorecardStage.objects.filter(scorecard=scorecard).values_list("stage_id", flat=True))
    ScorecardSegment.objects.bulk_create([ScorecardSegment(scorecard=scorecard, segment=s)
                                          for s in segments if s.pk not in have_segments])
    ScorecardStage.objects.bulk_create([ScorecardStage(scorecard=scorecard, stage=s)
                                        for s in stages if s.pk not in have_stages])
    for measure in removed:
        if measure.pk:
            measure.delete()
    for measure in measures:
        measure.scorecard = scorecard
        measure.full_clean(exclude=["scorecard"])
        measure.save()
    if not scorecard.measures.exists():
        raise ValidationError({"measures": "A scorecard needs at least one measure."})
    return scorecard


def health_restate(*, tenant, days: int, trigger: str = "restate") -> None:
    """Queues the recompute of the last `days` days, oldest first (so each day's 7/30-day changes are right)."""
    from csplatform.jobs.queue import publish_on_commit

    from .tasks import restate_history

    publish_on_commit(restate_history, (tenant.pk, days, trigger))


def refresh_soon(*, tenant, account_ids) -> None:
    """Marks accounts whose signals changed; their score for today is recomputed within a minute.

    Debounced per tenant: the first mark of a quiet tenant schedules one `health.refresh` run after
    HEALTH_REFRESH_DELAY_SECONDS; marks that arrive meanwhile ride along with it. The nightly run
    drains anything left, so a lost task delays a refresh by a night at most. A task lost because the broker
    was down is noticed sooner: marks older than the delay plus HEALTH_REFRESH_LOST_AFTER_SECONDS mean no run
    is coming, so the next signal schedules one (docs/reliability.md).
    """
    ids = {int(i) for i in account_ids}
    if not ids:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement: a usage batch touches thousands of accounts, and a model instance per account cost more
        # than the rollup itself. The SELECT sees the table as it was before the INSERT (one snapshot).
        with connection.cursor() as cursor:
            cursor.execute(
                """WITH marked AS (
                     INSERT INTO health_pendingrefresh (tenant_id, account_id, queued_at, touched_at)
                     SELECT %(tenant)s, a, %(now)s, %(now)s FROM unnest(%(ids)s::bigint[]) AS a ORDER BY a
                     ON CONFLICT (tenant_id, account_id) DO UPDATE SET touched_at = EXCLUDED.touched_at
                   )
                   SELECT MIN(queued_at) FROM health_pendingrefresh WHERE tenant_id = %(tenant)s""",
                {"tenant": tenant.pk, "now": now, "ids": pg_array(sorted(ids))})
            oldest_mark = cursor.fetchone()[0]
    else:
        oldest_mark = PendingRefresh.objects.order_by("queued_at").values_list("queued_at", flat=True).first()
        PendingRefresh.objects.bulk_create(
            [PendingRefresh(account_id=i, queued_at=now, touched_at=now) for i in sorted(ids)],
            update_conflicts=True, unique_fields=["tenant", "account"], update_fields=["touched_at"])
    lost_before = now - timedelta(
        seconds=settings.HEALTH_REFRESH_DELAY_SECONDS + settings.HEALTH_REFRESH_LOST_AFTER_SECONDS)
    if oldest_mark is None or oldest_mark < lost_before:
        refresh_schedule(tenant=tenant)


def refresh_schedule(*, tenant) -> None:
    from csplatform.jobs.queue import publish_on_commit
    from csplatform.jobs.tasks import run_job_for_tenant

    day = business_day().isoformat()  # the jobs' day, not the user's (a page may have activated their zone)
    publish_on_commit(run_job_for_tenant, ("health.refresh", tenant.pk, day, "signal"),
                      countdown=settings.HEALTH_REFRESH_DELAY_SECONDS)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def survey_send(*, account: Account, by, base_url: str, kind: str = SurveyInvite.Kind.NPS) -> list[SurveyInvite]:
    """Emails each survey contact of the account its own single-use link. Returns the invites."""
    tenant = current_tenant()
    contacts = list(Contact.objects.filter(account=account, receives_surveys=True).exclude(email="").order_by("name"))
    if not contacts:
        raise ValidationError("No contact of this account receives surveys: tick 'receives surveys' on a contact "
                              "with an email address first.")
    rules = HealthSettings.objects.get_or_create(tenant=tenant)[0]
    now = timezone.now()
    invites, messages = [], []
    for contact in contacts:
        token = secrets.token_urlsafe(32)
        invite = SurveyInvite.objects.create(account=account, contact=contact, kind=kind, token_hash=_token_hash(token),
                                             sent_at=now, sent_by=by,
                                             expires_at=now + timedelta(days=rules.survey_link_days))
        link = base_url.rstrip("/") + reverse("survey_answer", kwargs={"tenant_slug": tenant.slug, "token": token})
        body = render_to_string("health/email/survey.txt", {"contact": contact, "tenant": tenant, "link": link,
                                                            "kind": kind, "expires_at": invite.expires_at})
        messages.append(EmailMessage(subject=f"{tenant.name}: how likely are you to recommend us?", body=body,
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=[contact.email]))
        invites.append(invite)

    def send():
        for message in messages:
            message.send()

    transaction.on_commit(send)
    return invites


class SurveyLinkUnusable(Exception):
    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def survey_invite_for_token(token: str) -> SurveyInvite:
    """The invite of a link, or SurveyLinkUnusable('unknown' | 'answered' | 'expired')."""
    invite = SurveyInvite.objects.filter(token_hash=_token_hash(token)).select_related("contact").first()
    if invite is None:
        raise SurveyLinkUnusable("unknown")
    if invite.answered_at is not None:
        raise SurveyLinkUnusable("answered")
    if invite.expires_at <= timezone.now():
        raise SurveyLinkUnusable("expired")
    return invite


@transaction.atomic
def survey_answer(*, token: str, score: int, comment: str = "") -> SurveyResponse:
    invite = survey_invite_for_token(token)
    low, high = (0, 10) if invite.kind == SurveyInvite.Kind.NPS else (1, 5)
    if not low <= score <= high:
        raise ValidationError({"score": f"Pick a score from {low} to {high}."})
    now = timezone.now()
    # Compare-and-set: two submissions racing on one link record one answer.
    if SurveyInvite.objects.filter(pk=invite.pk, answered_at__isnull=True).update(answered_at=now) != 1:
        raise SurveyLinkUnusable("answered")
    response = SurveyResponse.objects.create(
        account_id=invite.account_id, contact_id=invite.contact_id, kind=invite.kind, score=score,
        comment=comment.strip()[:4000], responded_at=now, source=SurveyResponse.Source.LINK, invite=invite)
    refresh_soon(tenant=current_tenant(), account_ids=[invite.account_id])
    return response


@transaction.atomic
def survey_responses_record(*, responses: list[SurveyResponse]) -> int:
    """Records responses from the API; one with an external id already recorded is updated, not doubled."""
    SurveyResponse.objects.bulk_create(
        [r for r in responses if not r.external_id], batch_size=1000)
    keyed = [r for r in responses if r.external_id]
    if keyed:
        # The external id is unique only where it is set (a partial index), which ON CONFLICT cannot name
        # through bulk_create: look the known ones up (locked) and update them, insert the others.
        known = dict(SurveyResponse.objects.select_for_update().filter(external_id__in=[r.external_id for r in keyed])
                     .values_list("external_id", "pk"))
        for response in keyed:
            response.pk = known.get(response.external_id)
        SurveyResponse.objects.bulk_update([r for r in keyed if r.pk], batch_size=1000,
                                           fields=["account", "contact", "kind", "score", "comment", "responded_at"])
        SurveyResponse.objects.bulk_create([r for r in keyed if not r.pk], batch_size=1000)
    refresh_soon(tenant=current_tenant(), account_ids=[r.account_id for r in responses])
    return len(responses)


@transaction.atomic
def tickets_upsert(*, tickets: list[SupportTicket]) -> int:
    """Creates or updates tickets by external id (closing a ticket is sending it again with `closed_at`)."""
    SupportTicket.objects.bulk_create(
        tickets, update_conflicts=True, unique_fields=["tenant", "external_id"],
        update_fields=["account", "subject", "priority", "opened_at", "closed_at"])
    refresh_soon(tenant=current_tenant(), account_ids=[t.account_id for t in tickets])
    return len(tickets)


@transaction.atomic
def pulse_set(*, account: Account, by, score: int, comment: str = "", as_of: date | None = None) -> SentimentPulse:
    pulse = SentimentPulse(account=account, score=score, comment=comment.strip(),
                           as_of=as_of or timezone.localdate(), set_by=by)
    pulse.full_clean()
    pulse.save()
    refresh_soon(tenant=current_tenant(), account_ids=[account.pk])
    return pulse
