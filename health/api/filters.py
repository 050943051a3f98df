"""Filters of the health API lists. An account id of another tenant is a 400 (it is not a choice)."""

import django_filters

from accounts.api.filters import tenant_accounts

from ..models import Band, HealthScore, SupportTicket, SurveyResponse


class TicketFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull",
                                        help_text="true: open tickets only; false: closed ones only")

    class Meta:
        model = SupportTicket
        fields = ["account", "open", "priority"]


class SurveyResponseFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    since = django_filters.IsoDateTimeFilter(field_name="responded_at", lookup_expr="gte",
                                             help_text="Answered on or after this ISO 8601 date or time")

    class Meta:
        model = SurveyResponse
        fields = ["account", "kind", "since"]


class HealthScoreFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=tenant_accounts)
    day = django_filters.DateFilter(help_text="Default: the latest day computed (unless since/until is given)")
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte", help_text="From this day on (history)")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte", help_text="Up to this day (history)")
    band = django_filters.ChoiceFilter(choices=Band.choices)

    class Meta:
        model = HealthScore
        fields = ["account", "day", "since", "until", "band"]
