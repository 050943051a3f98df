"""One filter set for the account list page and the API."""

import django_filters
from django.db.models import Q

from csplatform.tenancy.models import User

from .models import Account, LifecycleStage, Segment


class AccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    csm = django_filters.CharFilter(method="by_csm", label="CSM", help_text="a user id, 'me' or 'none'")
    segment = django_filters.ModelChoiceFilter(queryset=Segment.objects.all(), empty_label="Any")
    stage = django_filters.ModelChoiceFilter(queryset=LifecycleStage.objects.all(), empty_label="Any")
    status = django_filters.ChoiceFilter(choices=Account.Status.choices, empty_label="Any")
    external_id = django_filters.CharFilter()
    ordering = django_filters.OrderingFilter(
        empty_label="Name",
        fields=[
            ("name", "name"), ("last_touch_at", "last_touch"), ("licensed_seats", "seats"),
            ("segment__position", "segment"), ("stage__position", "stage"), ("csm__full_name", "csm"),
        ]
    )

    class Meta:
        model = Account
        fields = ["q", "csm", "segment", "stage", "status", "external_id"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id=value))

    def by_csm(self, queryset, name, value):
        if value == "me":
            return queryset.filter(csm=self.request.user) if self.request else queryset.none()
        if value == "none":
            return queryset.filter(csm__isnull=True)
        if value.isdigit():
            return queryset.filter(csm_id=int(value))
        return queryset.none()


def csm_choices(tenant):
    return User.objects.filter(memberships__tenant=tenant, memberships__role__in=["csm", "manager"]).order_by(
        "full_name", "email"
    )
