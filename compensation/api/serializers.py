"""Serializers of the compensation API: plans with their rules, statements with their lines, attainment."""

from rest_framework import serializers

from ..models import CompLine, CompPlan, CompRule, CompStatement

MONEY = {"max_digits": 16, "decimal_places": 2}


class CompRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompRule
        fields = ["id", "kind", "rate", "amount", "threshold", "count_won_only", "year_end", "position"]
        read_only_fields = fields


class CompPlanSerializer(serializers.ModelSerializer):
    rules = CompRuleSerializer(many=True, read_only=True)

    class Meta:
        model = CompPlan
        fields = ["id", "name", "year", "base_min", "base_max", "is_default", "rules"]
        read_only_fields = fields


class CompLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompLine
        fields = ["rule_kind", "basis", "basis_amount", "rate", "amount", "explanation", "source_type", "source_id",
                  "position"]
        read_only_fields = fields


class CompStatementSerializer(serializers.ModelSerializer):
    csm_name = serializers.CharField(source="csm.display_name", read_only=True)
    approved_by_name = serializers.SerializerMethodField()
    lines = CompLineSerializer(many=True, read_only=True)

    class Meta:
        model = CompStatement
        fields = ["id", "plan", "csm", "csm_name", "period_start", "status", "total", "generated_at", "approved_by",
                  "approved_by_name", "approved_at", "lines"]
        read_only_fields = fields

    def get_approved_by_name(self, statement) -> str | None:
        return statement.approved_by.display_name if statement.approved_by else None


class AttainmentSerializer(serializers.Serializer):
    csm = serializers.IntegerField(source="csm_id", help_text="User id of the CSM")
    csm_name = serializers.CharField()
    plan = serializers.IntegerField(source="plan_id")
    opportunities = serializers.IntegerField(help_text="Opportunities counted toward the quota this plan year")
    quota = serializers.IntegerField(allow_null=True, help_text="The quota bonus threshold (null: no quota rule)")
    quota_reached = serializers.BooleanField()
    approved_docs = serializers.IntegerField(help_text="Process documents authored and approved this plan year")
    docs_per_spiff = serializers.IntegerField(allow_null=True)
    docs_toward_next = serializers.IntegerField(allow_null=True, help_text="Approved documents toward the next spiff")
    spiffs_earned = serializers.IntegerField()
    ytd_total = serializers.DecimalField(**MONEY, help_text="Sum of this plan year's statements to date")
    months = serializers.IntegerField(help_text="Statements this plan year to date")
