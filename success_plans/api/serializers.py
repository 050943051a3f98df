"""Serializers of the success plans API. Creations go through success_plans.services where one exists;
the services' django ValidationErrors come back as DRF 400s with field messages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.fields import MemberField, TenantRelatedField
from accounts.api.serializers import SavesSentFieldsOnly, as_drf_error, same_account_only
from accounts.models import Account, Contact, LifecycleStage

from .. import services
from ..goals import goal_progress, goal_status
from ..models import (
    Advocacy,
    BusinessReview,
    Decision,
    FeedbackAccount,
    Goal,
    GoalUpdate,
    Playbook,
    PlaybookStep,
    ProductFeedback,
    ReviewContact,
    ReviewUser,
    SuccessPlan,
    Task,
    ValueRealised,
)


def _account_of(attrs, instance):
    return attrs.get("account") or (instance.account if instance is not None else None)


def _belongs(*, attrs: dict, field: str, account, noun: str = "") -> None:
    """A related object (plan, goal, contact) sent in `field` must be of the same account."""
    obj = attrs.get(field)
    if obj is not None and account is not None and obj.account_id != account.pk:
        what = noun or obj._meta.verbose_name
        raise serializers.ValidationError({field: [f"That {what} is not at {account.name}."]})


def _service(func, **kwargs):
    try:
        return func(**kwargs)
    except DjangoValidationError as error:
        raise as_drf_error(error) from error


def _full_clean(instance, exclude):
    try:
        instance.full_clean(exclude=exclude)
    except DjangoValidationError as error:
        raise as_drf_error(error) from error


# --- plans ---------------------------------------------------------------------------------------------


class SuccessPlanSerializer(SavesSentFieldsOnly, serializers.ModelSerializer):
    account = TenantRelatedField(model=Account, help_text="Set on creation; a plan cannot move")
    owner = MemberField(allow_null=True, required=False, help_text="Defaults to the token's user")

    class Meta:
        model = SuccessPlan
        fields = ["id", "account", "owner", "title", "period_start", "period_end", "status", "objectives",
                  "roi_hypothesis", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        same_account_only(attrs=attrs, instance=self.instance, noun="plan")
        start = attrs.get("period_start", getattr(self.instance, "period_start", None))
        end = attrs.get("period_end", getattr(self.instance, "period_end", None))
        if start and end and end < start:
            raise serializers.ValidationError({"period_end": ["The period ends before it starts."]})
        return attrs

    def create(self, validated_data):
        if "owner" not in validated_data:
            validated_data["owner"] = self.context["request"].user
        return super().create(validated_data)


# --- goals ---------------------------------------------------------------------------------------------


class GoalSerializer(serializers.ModelSerializer):
    """A goal with its derived `status` (the override when one is set) and `progress` (0..1)."""

    plan = TenantRelatedField(model=SuccessPlan, help_text="Set on creation; the goal's account is the plan's")
    approved_by = TenantRelatedField(
        model=Contact, allow_null=True, required=False,
        help_text="A contact of the plan's account who agreed to the goal (or use the approve action)",
    )
    status = serializers.SerializerMethodField(help_text="Derived from progress and dates, unless overridden")
    progress = serializers.SerializerMethodField(help_text="Share of the way from baseline to target, 0..1")

    class Meta:
        model = Goal
        fields = ["id", "plan", "account", "title", "measure", "unit", "baseline", "target", "current_value",
                  "current_as_of", "start_date", "due_date", "status", "progress", "status_override",
                  "override_reason", "approved_by", "approved_on", "created_by", "created_at"]
        read_only_fields = ["account", "current_value", "current_as_of", "status_override", "override_reason",
                            "created_by", "created_at"]

    @extend_schema_field(serializers.ChoiceField(choices=Goal.Status.choices))
    def get_status(self, goal) -> str:
        return goal_status(goal, self.context.get("today") or timezone.localdate())

    @extend_schema_field(serializers.DecimalField(max_digits=5, decimal_places=4))
    def get_progress(self, goal):
        value = goal_progress(baseline=goal.baseline, target=goal.target, current=goal.current_value)
        return str(value.quantize(type(value)("0.0001")))

    def validate(self, attrs):
        if self.instance is None:
            _belongs(attrs=attrs, field="approved_by", account=attrs["plan"].account, noun="contact")
        return attrs

    def create(self, validated_data):
        return _service(services.goal_create, by=self.context["request"].user, **validated_data)


class GoalUpdateSerializer(GoalSerializer):
    """Editing a goal. Its readings go through the progress action, approval through the approve action;
    `status_override` (with `override_reason`) sets a person's judgement, '' clears it."""

    plan = serializers.PrimaryKeyRelatedField(read_only=True)
    approved_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(GoalSerializer.Meta):
        read_only_fields = ["account", "current_value", "current_as_of", "approved_on", "created_by",
                            "created_at"]
        extra_kwargs = {"status_override": {"help_text": "'' clears it"}}

    def validate(self, attrs):
        return attrs

    @transaction.atomic
    def update(self, instance, validated_data):
        override = {k: validated_data.pop(k) for k in ("status_override", "override_reason") if k in validated_data}
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if validated_data:
            _full_clean(instance, exclude=["tenant", "created_by", "plan", "account", "approved_by"])
            instance.save(update_fields=list(validated_data))
        if override:
            instance = _service(
                services.goal_status_override, goal=instance,
                status=override.get("status_override", instance.status_override),
                reason=override.get("override_reason", instance.override_reason),
            )
        return instance


class GoalProgressSerializer(serializers.ModelSerializer):
    as_of = serializers.DateField(required=False, help_text="Defaults to today; not in the future")

    class Meta:
        model = GoalUpdate
        fields = ["value", "as_of", "note"]


@extend_schema_field(OpenApiTypes.INT)
class ContactIdField(TenantRelatedField):
    """A contact id (typed for the schema, where the serializer has no model to say so)."""

    def __init__(self, **kwargs):
        super().__init__(model=Contact, **kwargs)


class GoalApproveSerializer(serializers.Serializer):
    contact = ContactIdField(help_text="The customer contact who agreed to the goal")
    on = serializers.DateField(required=False, help_text="Defaults to today")

    def validate(self, attrs):
        _belongs(attrs=attrs, field="contact", account=self.context["goal"].account, noun="contact")
        return attrs


# --- value ---------------------------------------------------------------------------------------------


class ValueRealisedSerializer(SavesSentFieldsOnly, serializers.ModelSerializer):
    account = TenantRelatedField(model=Account, help_text="Set on creation; a value record cannot move")
    plan = TenantRelatedField(model=SuccessPlan, allow_null=True, required=False,
                              help_text="Defaults to the goal's plan")
    goal = TenantRelatedField(model=Goal, allow_null=True, required=False)
    validated_by = TenantRelatedField(model=Contact, allow_null=True, required=False,
                                      help_text="The customer contact who confirmed it")
    validated_on = serializers.DateField(allow_null=True, required=False,
                                         help_text="Defaults to today when validated_by is set")

    class Meta:
        model = ValueRealised
        fields = ["id", "account", "plan", "goal", "kind", "amount", "realised_on", "how_measured", "validated_by",
                  "validated_on", "recorded_by", "created_at"]
        read_only_fields = ["recorded_by", "created_at"]

    def validate(self, attrs):
        same_account_only(attrs=attrs, instance=self.instance, noun="value record")
        account = _account_of(attrs, self.instance)
        for field, noun in (("plan", "plan"), ("goal", "goal"), ("validated_by", "contact")):
            _belongs(attrs=attrs, field=field, account=account, noun=noun)
        if self.instance is not None:
            if "validated_by" in attrs:
                if attrs["validated_by"] is None:
                    attrs["validated_on"] = None
                elif not attrs.get("validated_on") and not self.instance.validated_on:
                    attrs["validated_on"] = timezone.localdate()
            elif attrs.get("validated_on") and self.instance.validated_by_id is None:
                raise serializers.ValidationError({"validated_on": ["Say who validated it (validated_by)."]})
        elif attrs.get("validated_on") and not attrs.get("validated_by"):
            raise serializers.ValidationError({"validated_on": ["Say who validated it (validated_by)."]})
        return attrs

    def create(self, validated_data):
        return _service(services.value_record, by=self.context["request"].user, **validated_data)


# --- tasks ---------------------------------------------------------------------------------------------


class TaskSerializer(SavesSentFieldsOnly, serializers.ModelSerializer):
    account = TenantRelatedField(model=Account, help_text="Set on creation; a task cannot move")
    plan = TenantRelatedField(model=SuccessPlan, allow_null=True, required=False)
    owner = MemberField(allow_null=True, required=False, help_text="Defaults to the token's user")

    class Meta:
        model = Task
        fields = ["id", "account", "plan", "title", "description", "owner", "due_date", "priority", "status", "type",
                  "source", "playbook_run", "completed_at", "created_at"]
        read_only_fields = ["status", "source", "playbook_run", "completed_at", "created_at"]

    def validate(self, attrs):
        same_account_only(attrs=attrs, instance=self.instance, noun="task")
        _belongs(attrs=attrs, field="plan", account=_account_of(attrs, self.instance), noun="plan")
        return attrs

    def create(self, validated_data):
        if "owner" not in validated_data:
            validated_data["owner"] = self.context["request"].user
        task = super().create(validated_data)
        services.task_assigned_notify(task=task, by=self.context["request"].user)
        return task

    def update(self, instance, validated_data):
        owner_before = instance.owner_id
        task = super().update(instance, validated_data)
        if task.owner_id != owner_before:  # given to someone else: they hear of it
            services.task_assigned_notify(task=task, by=self.context["request"].user)
        return task


# --- reviews and decisions -----------------------------------------------------------------------------


class DecisionSerializer(SavesSentFieldsOnly, serializers.ModelSerializer):
    review = TenantRelatedField(model=BusinessReview, help_text="Set on creation; the account is the review's")
    owner = MemberField(allow_null=True, required=False, help_text="A user who owns it")
    owner_contact = TenantRelatedField(model=Contact, allow_null=True, required=False,
                                       help_text="When the customer owns it: a contact of the review's account")

    class Meta:
        model = Decision
        fields = ["id", "review", "account", "text", "owner", "owner_contact", "due_date", "status", "closed_at",
                  "created_at"]
        read_only_fields = ["account", "status", "closed_at", "created_at"]

    def validate(self, attrs):
        if self.instance is not None and "review" in attrs and attrs["review"].pk != self.instance.review_id:
            raise serializers.ValidationError({"review": ["A decision cannot move to another review."]})
        review = attrs.get("review") or self.instance.review
        _belongs(attrs=attrs, field="owner_contact", account=review.account, noun="contact")
        return attrs

    def create(self, validated_data):
        return _service(services.decision_add, **validated_data)


class DecisionCloseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Decision.Status.DONE, Decision.Status.DROPPED])


class BusinessReviewSerializer(serializers.ModelSerializer):
    account = TenantRelatedField(model=Account, help_text="Set on creation; a review cannot move")
    plan = TenantRelatedField(model=SuccessPlan, allow_null=True, required=False)
    contacts = TenantRelatedField(model=Contact, many=True, required=False,
                                  help_text="Ids of the account's contacts who attended")
    users = MemberField(many=True, required=False, help_text="Ids of the members who attended")
    decisions = DecisionSerializer(many=True, read_only=True, help_text="Decisions taken at this review")

    class Meta:
        model = BusinessReview
        fields = ["id", "account", "plan", "kind", "held_on", "agenda", "notes", "contacts", "users", "decisions",
                  "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        same_account_only(attrs=attrs, instance=self.instance, noun="review")
        account = _account_of(attrs, self.instance)
        _belongs(attrs=attrs, field="plan", account=account, noun="plan")
        foreign = [c for c in attrs.get("contacts", []) if c.account_id != account.pk]
        if foreign:
            names = ", ".join(f"{c.name} (id {c.pk})" for c in foreign)
            raise serializers.ValidationError({"contacts": [f"{names}: not a contact of {account.name}."]})
        return attrs

    def create(self, validated_data):
        validated_data.setdefault("kind", BusinessReview.Kind.QBR)
        return _service(services.review_create, **validated_data)

    @transaction.atomic
    def update(self, instance, validated_data):
        validated_data.pop("account", None)
        contacts = validated_data.pop("contacts", None)
        users = validated_data.pop("users", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if validated_data:
            instance.save(update_fields=list(validated_data))
        if contacts is not None:
            ReviewContact.objects.filter(review=instance).exclude(contact__in=contacts).delete()
            have = set(ReviewContact.objects.filter(review=instance).values_list("contact_id", flat=True))
            ReviewContact.objects.bulk_create(
                [ReviewContact(review=instance, contact=c) for c in dict.fromkeys(contacts) if c.pk not in have])
        if users is not None:
            ReviewUser.objects.filter(review=instance).exclude(user__in=users).delete()
            have = set(ReviewUser.objects.filter(review=instance).values_list("user_id", flat=True))
            ReviewUser.objects.bulk_create(
                [ReviewUser(review=instance, user=u) for u in dict.fromkeys(users) if u.pk not in have])
        return BusinessReview.objects.prefetch_related("contacts", "users", "decisions").get(pk=instance.pk)


class BusinessReviewDetailSerializer(BusinessReviewSerializer):
    carried_forward = serializers.SerializerMethodField(
        help_text="Decisions still open from this account's earlier reviews")

    class Meta(BusinessReviewSerializer.Meta):
        fields = [*BusinessReviewSerializer.Meta.fields, "carried_forward"]

    @extend_schema_field(DecisionSerializer(many=True))
    def get_carried_forward(self, review):
        from ..selectors import decisions_for_review

        return DecisionSerializer(decisions_for_review(review=review)["carried"], many=True).data


# --- playbooks -----------------------------------------------------------------------------------------


class PlaybookStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = ["id", "title", "description", "day_offset", "type", "priority", "position"]
        read_only_fields = ["id"]


class PlaybookSerializer(serializers.ModelSerializer):
    """A playbook with its steps. Sending `steps` on update replaces them all (runs already applied keep
    their tasks)."""

    stage = TenantRelatedField(model=LifecycleStage, allow_null=True, required=False,
                               help_text="Applied when an account enters this stage")
    steps = PlaybookStepSerializer(many=True, required=False)

    class Meta:
        model = Playbook
        fields = ["id", "name", "description", "stage", "is_active", "steps", "created_at"]
        read_only_fields = ["created_at"]

    def validate_name(self, value):
        # The unique constraint includes the tenant, which the serializer never sees, so DRF adds no validator.
        if Playbook.objects.filter(name=value).exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError("Another playbook already has this name.")
        return value

    @staticmethod
    def _steps_create(playbook, steps):
        PlaybookStep.objects.bulk_create([
            PlaybookStep(playbook=playbook, **{"position": i, **step}) for i, step in enumerate(steps)
        ])

    @transaction.atomic
    def create(self, validated_data):
        steps = validated_data.pop("steps", [])
        playbook = Playbook.objects.create(**validated_data)
        self._steps_create(playbook, steps)
        return Playbook.objects.prefetch_related("steps").get(pk=playbook.pk)

    @transaction.atomic
    def update(self, instance, validated_data):
        steps = validated_data.pop("steps", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if validated_data:
            instance.save(update_fields=list(validated_data))
        if steps is not None:
            PlaybookStep.objects.filter(playbook=instance).delete()
            self._steps_create(instance, steps)
        return Playbook.objects.prefetch_related("steps").get(pk=instance.pk)


# --- advocacy and feedback -----------------------------------------------------------------------------


class AdvocacySerializer(SavesSentFieldsOnly, serializers.ModelSerializer):
    account = TenantRelatedField(model=Account, help_text="Set on creation; a record cannot move")
    contact = TenantRelatedField(model=Contact, allow_null=True, required=False)

    class Meta:
        model = Advocacy
        fields = ["id", "account", "contact", "kind", "status", "happened_on", "notes", "captured_by", "created_at"]
        read_only_fields = ["captured_by", "created_at"]

    def validate(self, attrs):
        same_account_only(attrs=attrs, instance=self.instance, noun="record")
        _belongs(attrs=attrs, field="contact", account=_account_of(attrs, self.instance), noun="contact")
        return attrs

    def create(self, validated_data):
        return _service(services.advocacy_record, by=self.context["request"].user, **validated_data)


class ProductFeedbackSerializer(serializers.ModelSerializer):
    accounts = TenantRelatedField(model=Account, many=True, required=False,
                                  help_text="Ids of the accounts asking for it; on update, the whole list")
    prevalence = serializers.SerializerMethodField(help_text="How many accounts ask for it")

    class Meta:
        model = ProductFeedback
        fields = ["id", "title", "description", "product_area", "status", "accounts", "prevalence", "created_by",
                  "created_at"]
        read_only_fields = ["created_by", "created_at"]

    def get_prevalence(self, feedback) -> int:
        if hasattr(feedback, "prevalence"):
            return feedback.prevalence
        return feedback.accounts.count()

    @staticmethod
    def _accounts_set(feedback, accounts):
        wanted = {a.pk for a in accounts}
        FeedbackAccount.objects.filter(feedback=feedback).exclude(account_id__in=wanted).delete()
        have = set(FeedbackAccount.objects.filter(feedback=feedback).values_list("account_id", flat=True))
        FeedbackAccount.objects.bulk_create(
            [FeedbackAccount(feedback=feedback, account_id=pk) for pk in sorted(wanted - have)])

    def _reloaded(self, feedback):
        from ..selectors import feedback_ranking

        return feedback_ranking().prefetch_related("accounts").get(pk=feedback.pk)

    @transaction.atomic
    def create(self, validated_data):
        accounts = validated_data.pop("accounts", [])
        feedback = ProductFeedback.objects.create(created_by=self.context["request"].user, **validated_data)
        self._accounts_set(feedback, accounts)
        return self._reloaded(feedback)

    @transaction.atomic
    def update(self, instance, validated_data):
        accounts = validated_data.pop("accounts", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if validated_data:
            instance.save(update_fields=list(validated_data))
        if accounts is not None:
            self._accounts_set(instance, accounts)
        return self._reloaded(instance)
