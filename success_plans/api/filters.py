"""Filters of the success plans API lists. Related ids resolve inside the token's tenant (another
tenant's id is a 400)."""

import django_filters

from accounts.api.filters import tenant_accounts
from accounts.models import LifecycleStage

from ..models import (
    Advocacy,
    BusinessReview,
    Decision,
    Goal,
    Playbook,
    ProductFeedback,
    SuccessPlan,
    Task,
    ValueRealised,
)


def tenant_plans(request):
    return SuccessPlan.objects.all()


def tenant_reviews(request):
    return BusinessReview.objects.all()


def tenant_stages(request):
    return LifecycleStage.objects.all()


class UserIdOrMeFilter(django_filters.CharFilter):
    """A user id, or `me` for the token's user."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "A user id, or 'me'")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        if value == "me":
            request = getattr(self.parent, "request", None)
            return qs.filter(**{f"{self.field_name}_id": request.user.pk}) if request else qs.none()
        if value.isdigit():
            return qs.filter(**{f"{self.field_name}_id": int(value)})
        return qs.none()


class SuccessPlanFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    owner = UserIdOrMeFilter(field_name="owner")

    class Meta:
        model = SuccessPlan
        fields = ["account", "status", "owner"]


class GoalFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    plan = django_filters.ModelChoiceFilter(queryset=tenant_plans)
    approved = django_filters.BooleanFilter(field_name="approved_by", lookup_expr="isnull", exclude=True,
                                            help_text="true: approved by a customer contact; false: not yet")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte", help_text="Due on or after")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", help_text="Due on or before")

    class Meta:
        model = Goal
        fields = ["account", "plan", "approved", "due_after", "due_before"]


class ValueRealisedFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    plan = django_filters.ModelChoiceFilter(queryset=tenant_plans)
    validated = django_filters.BooleanFilter(field_name="validated_by", lookup_expr="isnull", exclude=True,
                                             help_text="true: confirmed by a customer contact")
    realised_after = django_filters.DateFilter(field_name="realised_on", lookup_expr="gte", help_text="On or after")
    realised_before = django_filters.DateFilter(field_name="realised_on", lookup_expr="lte",
                                                help_text="On or before")

    class Meta:
        model = ValueRealised
        fields = ["account", "plan", "goal", "kind", "validated", "realised_after", "realised_before"]


class TaskFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    owner = UserIdOrMeFilter(field_name="owner")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", help_text="Due on or before")

    class Meta:
        model = Task
        fields = ["account", "owner", "status", "type", "source", "priority", "due_before"]


class BusinessReviewFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    held_after = django_filters.DateFilter(field_name="held_on", lookup_expr="gte", help_text="Held on or after")
    held_before = django_filters.DateFilter(field_name="held_on", lookup_expr="lte", help_text="Held on or before")

    class Meta:
        model = BusinessReview
        fields = ["account", "kind", "held_after", "held_before"]


class DecisionFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    review = django_filters.ModelChoiceFilter(queryset=tenant_reviews)
    owner = UserIdOrMeFilter(field_name="owner")

    class Meta:
        model = Decision
        fields = ["account", "review", "status", "owner"]


class PlaybookFilter(django_filters.FilterSet):
    stage = django_filters.ModelChoiceFilter(queryset=tenant_stages)

    class Meta:
        model = Playbook
        fields = ["stage", "is_active"]


class AdvocacyFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    captured_by = UserIdOrMeFilter(field_name="captured_by")
    happened_after = django_filters.DateFilter(field_name="happened_on", lookup_expr="gte", help_text="On or after")
    happened_before = django_filters.DateFilter(field_name="happened_on", lookup_expr="lte",
                                                help_text="On or before")

    class Meta:
        model = Advocacy
        fields = ["account", "kind", "status", "captured_by", "happened_after", "happened_before"]


class ProductFeedbackFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts, field_name="accounts",
                                               help_text="Feedback this account asked for")

    class Meta:
        model = ProductFeedback
        fields = ["status", "product_area", "account"]
