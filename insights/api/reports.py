"""The monthly reports API (read-only): list with filters and retrieve. Everyone with reports.view reads every
report of the token's tenant; another tenant's id answers 404."""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from csplatform.tenancy.permissions import ActionPermission
from success_plans.models import Task

from ..models import MonthlyReport, ReportRecipient
from ..reports.selectors import parse_month


class MonthField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError("Give a month as YYYY-MM (or the first day, YYYY-MM-DD).") from None


@extend_schema_field(OpenApiTypes.STR)
class MonthFilter(django_filters.Filter):
    field_class = MonthField


class MonthlyReportFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id", help_text="Account id")
    month = MonthFilter(field_name="month", help_text="The month reported on, YYYY-MM")
    status = django_filters.ChoiceFilter(choices=MonthlyReport.Status.choices)
    csm = django_filters.NumberFilter(field_name="csm_id", help_text="User id of the CSM the report was drafted for")

    class Meta:
        model = MonthlyReport
        fields = ["account", "month", "status", "csm"]


class RecipientSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportRecipient
        fields = ["email", "contact", "sent_at"]
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "due_date", "status", "owner"]
        read_only_fields = fields


class MonthlyReportSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    seat_utilisation = serializers.SerializerMethodField(help_text="Active users as % of licensed seats")
    recipients = RecipientSerializer(many=True, read_only=True)
    follow_up = FollowUpSerializer(source="follow_up_task", read_only=True, allow_null=True)
    snapshot = serializers.JSONField(read_only=True, help_text="What was delivered (empty while a draft)")

    class Meta:
        model = MonthlyReport
        fields = ["id", "account", "account_name", "month", "status", "csm", "monthly_active_users",
                  "monthly_active_users_prev", "licensed_seats", "seat_utilisation", "features_used",
                  "features_used_prev", "usage_events", "usage_events_prev", "health_score", "health_score_prev",
                  "health_band", "value_realised_month", "value_realised_total", "arr", "renewal_date",
                  "renewal_stage", "nps_responses", "nps_score", "recommendation", "drafted_at", "delivered_at",
                  "delivered_by", "recipients", "follow_up", "snapshot"]
        read_only_fields = fields

    def get_seat_utilisation(self, report) -> float | None:
        if not report.licensed_seats:
            return None
        return round(100 * report.monthly_active_users / report.licensed_seats, 1)


@extend_schema_view(
    list=extend_schema(summary="Monthly client reports",
                       description="Newest month first. Filters: account, month (YYYY-MM), status, csm."),
    retrieve=extend_schema(summary="One monthly client report with its recipients and follow-up call"),
)
class MonthlyReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monthly reports: drafted by the nightly job, edited and delivered by the CSM on the report page."""

    permission_classes = [ActionPermission]
    required_actions = {"list": "reports.view", "retrieve": "reports.view", "metadata": "reports.view"}
    serializer_class = MonthlyReportSerializer
    filterset_class = MonthlyReportFilter
    queryset = MonthlyReport.dangerously_unscoped.none()

    def get_queryset(self):
        return (MonthlyReport.objects.select_related("account", "follow_up_task")
                .prefetch_related("recipients").order_by("-month", "account__name", "id"))
