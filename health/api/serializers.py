"""Serializers of the health API.

Tickets and survey responses name their account by external id (`account`, the CRM's key) or by id
(`account_id`). The view loads every account, contact and existing ticket a request names in one query
each and passes them in the context (see `*_context` below), so a list of 1,000 items costs a handful of
queries, not one per item.
"""

from datetime import timedelta

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account, Contact
from csplatform.tenancy.api_input import lookup_key

from ..ingest import MAX_EVENTS
from ..models import HealthScore, SupportTicket, SurveyResponse

MAX_ITEMS = 1000
FUTURE_SLACK = timedelta(hours=1)
SCALES = {SurveyResponse.Kind.NPS: (0, 10), SurveyResponse.Kind.CSAT: (1, 5)}
BIGINT = 2**63 - 1


def _ids(values) -> set[int]:
    ids = set()
    for value in values:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= BIGINT:
            ids.add(value)
    return ids


def account_context(items: list) -> dict:
    """The accounts the items name, by external id and by id, in one query."""
    dicts = [item for item in items if isinstance(item, dict)]
    external_ids = {lookup_key(item.get("account")) for item in dicts} - {None}
    ids = _ids(item.get("account_id") for item in dicts)
    accounts = list(Account.objects.filter(Q(external_id__in=external_ids) | Q(pk__in=ids))) if (
        external_ids or ids) else []
    return {"accounts_by_external": {a.external_id: a for a in accounts if a.external_id},
            "accounts_by_id": {a.pk: a for a in accounts}}


def ticket_context(items: list) -> dict:
    keys = {lookup_key(item.get("external_id")) for item in items if isinstance(item, dict)} - {None}
    existing = SupportTicket.objects.filter(external_id__in=keys) if keys else []
    return {**account_context(items), "tickets": {t.external_id: t for t in existing}}


def survey_context(items: list) -> dict:
    context = account_context(items)
    dicts = [item for item in items if isinstance(item, dict)]
    contact_ids = _ids(item.get("contact_id") for item in dicts)
    emails = {key.lower() for key in (lookup_key(item.get("contact_email")) for item in dicts) if key}
    account_ids = {a.pk for a in context["accounts_by_id"].values()}
    wanted = Q(pk__in=contact_ids)
    if emails and account_ids:
        wanted |= Q(account_id__in=account_ids, email_key__in=emails)
    contacts = list(Contact.objects.annotate(email_key=Lower("email")).filter(wanted).order_by("pk")) if (
        contact_ids or emails) else []
    by_email = {}
    for contact in contacts:
        by_email.setdefault((contact.account_id, contact.email_key), contact)
    keys = {lookup_key(item.get("external_id")) for item in dicts} - {None}
    known = set(SurveyResponse.objects.filter(external_id__in=keys).values_list("external_id", flat=True)) if (
        keys) else set()
    return {**context, "contacts_by_id": {c.pk: c for c in contacts}, "contacts_by_email": by_email,
            "known_external_ids": known}


def _no(field: str, message: str):
    return serializers.ValidationError({field: [message]})


class AccountReferenceSerializer(serializers.Serializer):
    """`account` (external id) or `account_id`; `validate` replaces them with the Account (or None)."""

    account = serializers.CharField(required=False, max_length=64, help_text="The account's external id (CRM key)")
    account_id = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT,
                                          help_text="The account's id (instead of `account`)")

    def resolve_account(self, attrs: dict, *, required: bool) -> Account | None:
        ref, ref_id = attrs.pop("account", "").strip(), attrs.pop("account_id", None)
        account = None
        if ref_id is not None:
            account = self.context["accounts_by_id"].get(ref_id)
            if account is None:
                raise _no("account_id", f"No account with id {ref_id} in this workspace.")
        if ref:
            by_external = self.context["accounts_by_external"].get(ref)
            if by_external is None:
                raise _no("account", f"No account with external id {ref!r} in this workspace.")
            if account is not None and account.pk != by_external.pk:
                raise _no("account", "account and account_id name different accounts; send one of them.")
            account = by_external
        if account is None and required:
            raise _no("account", "Give the account's external id (account) or its id (account_id).")
        return account


class TicketInSerializer(AccountReferenceSerializer):
    """A ticket to create or update, keyed by `external_id`. On update, the fields left out keep their value;
    close a ticket by sending it again with `closed_at`, reopen it with `closed_at: null`."""

    external_id = serializers.CharField(max_length=64, help_text="The ticket's id in the helpdesk: the key")
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=SupportTicket.Priority.choices, required=False,
                                       help_text="Default normal; high and urgent count as priority tickets")
    opened_at = serializers.DateTimeField(required=False, help_text="Required for a new ticket")
    closed_at = serializers.DateTimeField(required=False, allow_null=True, help_text="null while open")

    def validate(self, attrs):
        existing = self.context["tickets"].get(attrs["external_id"])
        account = self.resolve_account(attrs, required=existing is None)
        if "opened_at" not in attrs and existing is None:
            raise _no("opened_at", "A new ticket needs opened_at.")
        opened = attrs.get("opened_at", existing.opened_at if existing else None)
        closed = attrs["closed_at"] if "closed_at" in attrs else (existing.closed_at if existing else None)
        if closed is not None and closed < opened:
            raise _no("closed_at", "A ticket cannot close before it opened.")
        attrs["ticket"] = SupportTicket(
            external_id=attrs["external_id"],
            account_id=account.pk if account else existing.account_id,
            subject=attrs.get("subject", existing.subject if existing else ""),
            priority=attrs.get("priority", existing.priority if existing else SupportTicket.Priority.NORMAL),
            opened_at=opened, closed_at=closed,
        )
        attrs["created"] = existing is None
        return attrs


class TicketSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.external_id", read_only=True,
                                    help_text="The account's external id")
    account_id = serializers.IntegerField(read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = SupportTicket
        fields = ["id", "external_id", "account", "account_id", "account_name", "subject", "priority", "opened_at",
                  "closed_at"]
        read_only_fields = fields


class SurveyResponseInSerializer(AccountReferenceSerializer):
    """One NPS (0-10) or CSAT (1-5) answer of a contact of the account."""

    contact_id = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT)
    contact_email = serializers.EmailField(required=False, help_text="Instead of contact_id; any case")
    kind = serializers.ChoiceField(choices=SurveyResponse.Kind.choices)
    score = serializers.IntegerField(help_text="NPS 0-10, CSAT 1-5")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    responded_at = serializers.DateTimeField(required=False, help_text="Defaults to now")
    external_id = serializers.CharField(
        required=False, allow_blank=True, max_length=64, default="",
        help_text="Your id of this answer: sending it again updates the answer instead of adding one")

    def validate(self, attrs):
        low, high = SCALES[attrs["kind"]]
        if not low <= attrs["score"] <= high:
            raise _no("score", f"A {attrs['kind'].upper()} score is from {low} to {high}.")
        account = self.resolve_account(attrs, required=True)
        contact_id, email = attrs.pop("contact_id", None), attrs.pop("contact_email", "").strip()
        if contact_id is not None:
            contact = self.context["contacts_by_id"].get(contact_id)
            if contact is None:
                raise _no("contact_id", f"No contact with id {contact_id} in this workspace.")
            if contact.account_id != account.pk:
                raise _no("contact_id", f"{contact.name} is not a contact of {account.name}.")
        elif email:
            contact = self.context["contacts_by_email"].get((account.pk, email.lower()))
            if contact is None:
                raise _no("contact_email", f"No contact of {account.name} has the email {email}.")
        else:
            raise _no("contact_id", "Give the contact's id (contact_id) or email (contact_email).")
        now = timezone.now()
        responded_at = attrs.get("responded_at") or now
        if responded_at > now + FUTURE_SLACK:
            raise _no("responded_at", "In the future.")
        external_id = attrs["external_id"].strip()
        attrs["response"] = SurveyResponse(
            account_id=account.pk, contact_id=contact.pk, kind=attrs["kind"], score=attrs["score"],
            comment=attrs["comment"].strip(), responded_at=responded_at, source=SurveyResponse.Source.API,
            external_id=external_id)
        attrs["created"] = not external_id or external_id not in self.context["known_external_ids"]
        return attrs


class SurveyResponseSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.external_id", read_only=True,
                                    help_text="The account's external id")
    account_id = serializers.IntegerField(read_only=True)
    contact_id = serializers.IntegerField(read_only=True, allow_null=True)
    contact_email = serializers.EmailField(source="contact.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = SurveyResponse
        fields = ["id", "account", "account_id", "contact_id", "contact_email", "kind", "score", "comment",
                  "responded_at", "source", "external_id"]
        read_only_fields = fields


class UpsertResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class ComponentSerializer(serializers.Serializer):
    """One measure's part in a score. A measure without data has raw and score null and was left out
    (the other weights were renormalised)."""

    measure_id = serializers.IntegerField()
    measure = serializers.CharField(allow_null=True, help_text="null when the measure was deleted since")
    kind = serializers.CharField(allow_null=True)
    raw = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="0-100")
    weight = serializers.FloatField()


class HealthScoreSerializer(serializers.ModelSerializer):
    """Needs `measures` ({id: Measure}) in the context: the view loads them once per page."""

    account_name = serializers.CharField(source="account.name", read_only=True)
    components = serializers.SerializerMethodField()

    class Meta:
        model = HealthScore
        fields = ["id", "account", "account_name", "day", "score", "band", "change_7d", "change_30d", "scorecard",
                  "components", "computed_at"]
        read_only_fields = fields

    @extend_schema_field(ComponentSerializer(many=True))
    def get_components(self, obj):
        measures = self.context.get("measures", {})
        out = []
        for measure_id, raw, score, weight in obj.components:
            measure = measures.get(measure_id)
            out.append({"measure_id": measure_id, "measure": measure.name if measure else None,
                        "kind": measure.kind if measure else None, "raw": raw, "score": score, "weight": weight})
        # In the scorecard's order (SQLite's json_group_array does not keep the recompute's ORDER BY).
        return sorted(out, key=lambda c: (measures[c["measure_id"]].position if c["measure_id"] in measures
                                          else 1 << 15, c["measure_id"]))


def measure_ids_of(scores) -> set[int]:
    return {component[0] for score in scores for component in score.components}


# --- usage ingestion: for the OpenAPI schema only (the view does not run a serializer per event) ---------

class UsageEventSerializer(serializers.Serializer):
    account = serializers.CharField(required=False, max_length=64, help_text="The account's external id")
    account_id = serializers.IntegerField(required=False, help_text="The account's id (instead of `account`)")
    occurred_at = serializers.DateTimeField(
        help_text="ISO 8601 with a UTC offset (e.g. 2026-11-23T10:00:00Z); at most an hour in the future")
    event = serializers.CharField(max_length=120, help_text="The event or feature name")
    user_id = serializers.CharField(required=False, max_length=120, help_text="A string or an integer")
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, default=1, min_value=0,
                                        coerce_to_string=False, help_text="Default 1")


class UsageBatchSerializer(serializers.Serializer):
    batch_id = serializers.CharField(max_length=100, help_text="Your key for this batch, unique per workspace")
    events = serializers.ListField(child=UsageEventSerializer(), min_length=1, max_length=MAX_EVENTS)


class UsageBatchResultSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    accepted = serializers.IntegerField(help_text="Events counted (0 for a repeated batch)")
    accounts = serializers.IntegerField(help_text="Accounts touched")
    days = serializers.IntegerField(help_text="Days touched")
    duplicate = serializers.BooleanField(help_text="True when this batch id was already received with these events")


USAGE_ERRORS_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "invalid_events": {"type": "integer", "description": "How many events are invalid"},
        "errors": {
            "type": "array",
            "description": "The first 200 errors",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer", "nullable": True, "description": "Position in `events`"},
                    "field": {"type": "string", "nullable": True},
                    "error": {"type": "string"},
                },
            },
        },
    },
}
