from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import APIException

from accounts import services
from accounts.models import Account, Activity, Contact, Escalation, EscalationEvent, LifecycleStage, Segment
from accounts.services import activity_update

from .fields import MemberField, TenantRelatedField


class Conflict(APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = "Changed meanwhile; reload it and try again."


def as_drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


def external_id_free(*, model, value: str, instance) -> str:
    # The unique constraint includes the tenant, which the serializer never sees, so DRF adds no validator.
    if value and model.objects.filter(external_id=value).exclude(pk=getattr(instance, "pk", None)).exists():
        raise serializers.ValidationError(f"Another {model._meta.verbose_name} already has this external id.")
    return value


def churn_date_rule(*, attrs: dict, instance: Account | None) -> dict:
    status = attrs.get("status", instance.status if instance else Account.Status.ACTIVE)
    churn_date = attrs.get("churn_date", instance.churn_date if instance else None)
    if status == Account.Status.ACTIVE and churn_date is not None:
        if "churn_date" in attrs:
            raise serializers.ValidationError({"churn_date": ["Only a churned account has a churn date."]})
        attrs["churn_date"] = None  # re-activating an account forgets when it churned
    return attrs


def same_account_only(*, attrs: dict, instance, noun: str) -> None:
    if instance is not None and "account" in attrs and attrs["account"].pk != instance.account_id:
        raise serializers.ValidationError({"account": [f"A {noun} cannot move to another account."]})


class SavesSentFieldsOnly:
    """Updates save only the fields sent, so they cannot put back a value that changed meanwhile
    (last_touch_at, last_engaged_at and an escalation's status are written by other requests)."""

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        fields = list(validated_data)
        if fields and any(f.name == "updated_at" for f in instance._meta.concrete_fields):
            fields.append("updated_at")
        if fields:
            instance.save(update_fields=fields)
        return instance


class AccountSerializer(SavesSentFieldsOnly, serializers.ModelSerializer):
    segment = TenantRelatedField(model=Segment, allow_null=True, required=False)
    stage = TenantRelatedField(model=LifecycleStage, allow_null=True, required=False)
    csm = MemberField(allow_null=True, required=False, help_text="User id of a member of this workspace")
    parent = TenantRelatedField(model=Account, allow_null=True, required=False)

    class Meta:
        model = Account
        fields = [
            "id", "name", "external_id", "domain", "industry", "region", "segment", "stage", "csm", "parent",
            "licensed_seats", "long_term_potential", "status", "churn_date", "last_touch_at", "created_at",
            "updated_at",
        ]
        read_only_fields = ["last_touch_at", "created_at", "updated_at"]

    def validate_external_id(self, value):
        return external_id_free(model=Account, value=value, instance=self.instance)

    def validate_parent(self, value):
        if value is not None and self.instance is not None and value.pk == self.instance.pk:
            raise serializers.ValidationError("An account cannot be its own parent.")
        return value

    def validate(self, attrs):
        return churn_date_rule(attrs=attrs, instance=self.instance)


class ContactSerializer(SavesSentFieldsOnly, serializers.ModelSerializer):
    account = TenantRelatedField(model=Account, help_text="Set on creation; a contact cannot move")
    reports_to = TenantRelatedField(model=Contact, allow_null=True, required=False)

    class Meta:
        model = Contact
        fields = [
            "id", "account", "external_id", "name", "email", "title", "persona", "influence", "sentiment",
            "reports_to", "receives_surveys", "last_engaged_at", "created_at",
        ]
        read_only_fields = ["last_engaged_at", "created_at"]

    def validate_external_id(self, value):
        return external_id_free(model=Contact, value=value, instance=self.instance)

    def validate(self, attrs):
        same_account_only(attrs=attrs, instance=self.instance, noun="contact")
        account = attrs.get("account") or self.instance.account
        boss = attrs.get("reports_to")
        if boss is not None:
            if self.instance is not None and boss.pk == self.instance.pk:
                raise serializers.ValidationError({"reports_to": ["A contact cannot report to themselves."]})
            if boss.account_id != account.pk:
                raise serializers.ValidationError({"reports_to": [f"{boss.name} does not work at {account.name}."]})
        return attrs


class ActivitySerializer(serializers.ModelSerializer):
    account = TenantRelatedField(model=Account, help_text="Set on creation; an activity cannot move")
    contacts = TenantRelatedField(
        model=Contact, many=True, required=False, help_text="Ids of contacts of the same account who took part"
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="Defaults to now")

    class Meta:
        model = Activity
        fields = [
            "id", "account", "external_id", "kind", "occurred_at", "contacts", "logged_by", "subject", "body",
            "outcome", "next_step", "next_step_due", "next_step_done", "minutes_spent", "created_at",
        ]
        read_only_fields = ["logged_by", "created_at"]

    def validate_external_id(self, value):
        return external_id_free(model=Activity, value=value, instance=self.instance)

    def validate(self, attrs):
        same_account_only(attrs=attrs, instance=self.instance, noun="activity")
        account = attrs.get("account") or self.instance.account
        foreign = [c for c in attrs.get("contacts", []) if c.account_id != account.pk]
        if foreign:
            names = ", ".join(f"{c.name} (id {c.pk})" for c in foreign)
            raise serializers.ValidationError({"contacts": [f"{names}: not a contact of {account.name}."]})
        return attrs

    def create(self, validated_data):
        done = validated_data.pop("next_step_done", False)
        try:
            activity = services.activity_log(by=self.context["request"].user, **validated_data)
        except ValueError as error:
            raise serializers.ValidationError({"contacts": [str(error)]}) from error
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        if done:
            services.next_step_complete(activity=activity)
            activity.next_step_done = True
        return activity

    def update(self, instance, validated_data):
        validated_data.pop("account", None)
        return activity_update(activity=instance, **validated_data)


class EscalationEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = EscalationEvent
        fields = ["at", "by", "from_status", "to_status", "note"]


class EscalationSerializer(serializers.ModelSerializer):
    """Opening an escalation; it starts 'open' and moves with PATCH (see EscalationUpdateSerializer)."""

    account = TenantRelatedField(model=Account)
    owner = MemberField(required=False, help_text="Defaults to the token's user")
    escalated_to = MemberField(allow_null=True, required=False)
    events = EscalationEventSerializer(many=True, read_only=True, help_text="The status trail, oldest first")

    class Meta:
        model = Escalation
        fields = [
            "id", "account", "title", "description", "severity", "status", "owner", "escalated_to", "opened_at",
            "closed_at", "resolution", "events",
        ]
        read_only_fields = ["status", "opened_at", "closed_at", "resolution"]

    def create(self, validated_data):
        validated_data.setdefault("severity", Escalation.Severity.MEDIUM)
        try:
            return services.escalation_open(by=self.context["request"].user, **validated_data)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error


class EscalationUpdateSerializer(SavesSentFieldsOnly, EscalationSerializer):
    """A new `status` is a move: it is recorded in the trail with `note`; resolving needs a `resolution`."""

    account = serializers.PrimaryKeyRelatedField(read_only=True)
    note = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="Recorded in the trail with a status change"
    )

    class Meta(EscalationSerializer.Meta):
        fields = [*EscalationSerializer.Meta.fields, "note"]
        read_only_fields = ["opened_at", "closed_at"]

    def validate(self, attrs):
        escalation = self.instance
        moving = "status" in attrs and attrs["status"] != escalation.status
        if attrs.get("note") and not moving:
            raise serializers.ValidationError({"note": ["A note is recorded with a status change; send a new status."]})
        resolving = moving and attrs["status"] == Escalation.Status.RESOLVED
        if resolving and not (attrs.get("resolution") or escalation.resolution):
            raise serializers.ValidationError({"resolution": ["Say how it was resolved."]})
        return attrs

    @transaction.atomic
    def update(self, instance, validated_data):
        # One savepoint: a refused move must not leave the other edits of the same request behind.
        to_status = validated_data.pop("status", instance.status)
        note = validated_data.pop("note", "")
        resolution = validated_data.pop("resolution", None) if to_status != instance.status else None
        if to_status != instance.status:
            try:
                instance = services.escalation_move(
                    escalation=instance, by=self.context["request"].user, to_status=to_status, note=note,
                    resolution=resolution or "",
                )
            except services.StaleEscalation as error:
                raise Conflict(str(error)) from error
            except ValueError as error:
                raise serializers.ValidationError({"status": [str(error)]}) from error
        return super().update(instance, validated_data)
