"""Filters of the contact, activity and escalation lists (the account list reuses accounts.filters)."""

import django_filters

from accounts.models import Account, Activity, Contact, Escalation


def tenant_accounts(request):
    # Called per request, so the choices are the token's tenant's accounts; another tenant's id is a 400.
    return Account.objects.all()


class ContactFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    email = django_filters.CharFilter(lookup_expr="iexact", help_text="Exact address, any case")

    class Meta:
        model = Contact
        fields = ["account", "persona", "email"]


class ActivityFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    logged_by = django_filters.NumberFilter(field_name="logged_by_id", help_text="User id of who logged it")
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="On or after this ISO 8601 time"
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Strictly before this ISO 8601 time"
    )

    class Meta:
        model = Activity
        fields = ["account", "kind", "logged_by", "occurred_after", "occurred_before"]


class EscalationFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)

    class Meta:
        model = Escalation
        fields = ["account", "status", "severity"]
