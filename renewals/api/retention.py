"""GET /api/v1/retention/ (GRR and NRR from contracts, by tenant, segment, CSM or cohort) and
GET /api/v1/churn-analysis/ (churned and downsold ARR of closed renewals, and how well the health score
warned). Both computed on request in one query each (renewals.retention); docs/metrics.md has the formulas."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from accounts.models import Segment
from csplatform.tenancy.models import Membership
from csplatform.tenancy.permissions import ActionPermission
from health.models import Band

from ..periods import add_months, fiscal_quarter
from ..retention import GROUPINGS, WARNING_DAYS, churn_analysis, retention, total_of

MAX_YEARS = 5
GROUP_BY_LABELS = {"segment": "Segment", "csm": "CSM", "cohort": "Cohort (first contract's fiscal quarter)"}
GROUP_BY_CHOICES = [(key, GROUP_BY_LABELS[key]) for key in GROUPINGS]
MONEY = {"max_digits": 16, "decimal_places": 2}
PERCENT = {"max_digits": 7, "decimal_places": 1, "allow_null": True}


# --- query parameters -----------------------------------------------------------------------------------


class PeriodQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day of the period (YYYY-MM-DD). Default: the "
                                  "first day of the fiscal quarter of `end`")
    end = serializers.DateField(required=False, help_text="Last day of the period, inclusive. Default: today when "
                                "neither is given or start is not after today; else the last day of start's "
                                "fiscal quarter")

    def validate(self, attrs):
        tenant = self.context["tenant"]
        today = timezone.localdate()
        start, end = attrs.get("start"), attrs.get("end")
        if start is None:
            start = fiscal_quarter(tenant, end or today).start
        if end is None:
            end = today if start <= today else fiscal_quarter(tenant, start).end
        if end < start:
            raise serializers.ValidationError({"end": ["The period ends before it starts."]})
        if end >= add_months(start, 12 * MAX_YEARS):
            raise serializers.ValidationError({"end": [f"A period is at most {MAX_YEARS} years."]})
        attrs["start"], attrs["end"] = start, end
        return attrs


class RetentionQuerySerializer(PeriodQuerySerializer):
    group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES, required=False,
                                       help_text="Without it, one row: the tenant")
    csm = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                help_text="Only the accounts these CSMs (user ids) own today; repeat the parameter")
    segment = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                    help_text="Only the accounts in these segments (ids); repeat the parameter")

    def validate_csm(self, ids):
        known = set(Membership.objects.filter(tenant=self.context["tenant"], user_id__in=ids)
                    .values_list("user_id", flat=True))
        unknown = sorted(set(ids) - known)
        if unknown:
            raise serializers.ValidationError(f"No member with user id {unknown[0]} in this workspace.")
        return ids

    def validate_segment(self, ids):
        unknown = sorted(set(ids) - set(Segment.objects.filter(pk__in=ids).values_list("pk", flat=True)))
        if unknown:
            raise serializers.ValidationError(f"No segment with id {unknown[0]} in this workspace.")
        return ids


# --- responses ------------------------------------------------------------------------------------------


class RetentionRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="'total', the segment's or CSM's id, or the cohort's "
                                "fiscal quarter ('2026-Q1'); null for accounts without a segment or CSM")
    label = serializers.CharField()
    accounts = serializers.IntegerField(help_text="Accounts with ARR on the opening day: the base")
    starting_arr = serializers.DecimalField(**MONEY, help_text="The base's ARR on the opening day")
    churn = serializers.DecimalField(**MONEY, help_text="Opening ARR of the base accounts with no ARR at the end")
    contraction = serializers.DecimalField(**MONEY, help_text="ARR lost by base accounts that kept some")
    expansion = serializers.DecimalField(**MONEY, help_text="ARR gained by base accounts")
    ending_arr = serializers.DecimalField(**MONEY, help_text="The base's ARR on the last day")
    new_arr = serializers.DecimalField(**MONEY, help_text="ARR on the last day of accounts outside the base "
                                       "(new business); not in GRR or NRR")
    churned_accounts = serializers.IntegerField()
    new_accounts = serializers.IntegerField()
    grr = serializers.DecimalField(**PERCENT, help_text="Gross revenue retention %, null without a base")
    nrr = serializers.DecimalField(**PERCENT, help_text="Net revenue retention %, null without a base")


# One object, although the viewsets answer on their `list` route.
@extend_schema_serializer(many=False)
class RetentionSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    opening_day = serializers.DateField(help_text="The day the starting ARR is measured: the day before start")
    group_by = serializers.CharField(allow_null=True)
    currency = serializers.CharField(help_text="The tenant's currency: every amount is in it")
    total = RetentionRowSerializer(help_text="All the accounts asked for")
    rows = RetentionRowSerializer(many=True, help_text="One per group (just the total without group_by)")


class LossRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="The reason's, segment's or CSM's id, or the month "
                                "(YYYY-MM); null for no segment or no CSM")
    label = serializers.CharField()
    churned_renewals = serializers.IntegerField()
    churned_arr = serializers.DecimalField(**MONEY)
    downsell_renewals = serializers.IntegerField()
    downsold_arr = serializers.DecimalField(**MONEY)
    lost_arr = serializers.DecimalField(**MONEY, help_text="churned_arr + downsold_arr")


class BandRowSerializer(serializers.Serializer):
    band = serializers.ChoiceField(choices=Band.choices)
    renewals = serializers.IntegerField(help_text="Churned renewals whose account had this band then")
    churned_arr = serializers.DecimalField(**MONEY)
    share = serializers.DecimalField(**PERCENT, help_text="% of the period's churned ARR")


@extend_schema_serializer(many=False)
class ChurnAnalysisSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    currency = serializers.CharField()
    churned_renewals = serializers.IntegerField()
    churned_arr = serializers.DecimalField(**MONEY)
    downsell_renewals = serializers.IntegerField()
    downsold_arr = serializers.DecimalField(**MONEY)
    lost_arr = serializers.DecimalField(**MONEY)
    by_reason = LossRowSerializer(many=True, help_text="Biggest loss first")
    by_segment = LossRowSerializer(many=True, help_text="Biggest loss first")
    by_csm = LossRowSerializer(many=True, help_text="The renewal's owner (else the account's CSM); biggest first")
    by_month = LossRowSerializer(many=True, help_text="Every month of the period, oldest first")
    warning_days = serializers.IntegerField(help_text="How long before the close the band is read")
    bands = BandRowSerializer(many=True, help_text="Churned renewals by the band their account had "
                              "`warning_days` before closing (none: no score that day)")
    warned_share = serializers.DecimalField(**PERCENT, help_text="% of churned ARR that was red or yellow "
                                            "`warning_days` before; null without churn")


BAD_QUERY = OpenApiResponse(description="Bad parameters: the errors by field ({\"end\": [\"...\"]})")


class RetentionViewSet(viewsets.ViewSet):
    """Gross and net revenue retention computed from the contracts (leads and executives)."""

    permission_classes = [ActionPermission]
    required_actions = {"*": "retention.view"}

    @extend_schema(
        summary="GRR and NRR for a period",
        description=(
            "Per account, the starting ARR is its ARR on the day before `start`, the ending ARR its ARR on `end`. "
            "Accounts that start with ARR form the base: churn (nothing left), contraction, expansion; "
            "GRR = (start - churn - contraction) / start, NRR = (start - churn - contraction + expansion) / start. "
            "Accounts that start without ARR are new business (`new_arr`), outside both. At most "
            f"{MAX_YEARS} years; default the current fiscal quarter to date. Needs retention.view."
        ),
        parameters=[RetentionQuerySerializer],
        responses={200: RetentionSerializer, 400: BAD_QUERY},
    )
    def list(self, request):
        query = RetentionQuerySerializer(data=request.query_params, context={"tenant": request.tenant})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = retention(start=params["start"], end=params["end"], group_by=params.get("group_by"),
                         csm_ids=params.get("csm"), segment_ids=params.get("segment"))
        body = {"start": params["start"], "end": params["end"], "opening_day": params["start"] - timedelta(days=1),
                "group_by": params.get("group_by"), "currency": request.tenant.currency,
                "total": rows[0] if params.get("group_by") is None else total_of(rows), "rows": rows}
        return Response(RetentionSerializer(body).data)


class ChurnAnalysisViewSet(viewsets.ViewSet):
    """Churn and downsell recorded on closed renewals, and how well the health score warned (leads and
    executives)."""

    permission_classes = [ActionPermission]
    required_actions = {"*": "retention.view"}

    @extend_schema(
        summary="Churned and downsold ARR by reason, segment, CSM and month",
        description=(
            "Renewals closed (closed_on) in the period as churned (their current ARR) or downsell (current minus "
            f"renewed ARR). `bands`: each churned account's health band {WARNING_DAYS} days before its renewal "
            f"closed. At most {MAX_YEARS} years; default the current fiscal quarter to date. Needs retention.view."
        ),
        parameters=[PeriodQuerySerializer],
        responses={200: ChurnAnalysisSerializer, 400: BAD_QUERY},
    )
    def list(self, request):
        query = PeriodQuerySerializer(data=request.query_params, context={"tenant": request.tenant})
        query.is_valid(raise_exception=True)
        analysis = churn_analysis(start=query.validated_data["start"], end=query.validated_data["end"])
        body = {**analysis.__dict__, "lost_arr": analysis.lost_arr, "currency": request.tenant.currency,
                "warning_days": WARNING_DAYS}
        return Response(ChurnAnalysisSerializer(body).data)
