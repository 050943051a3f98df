"""The coverage API: per-CSM coverage against the tenant's rules (coverage.view: managers see their team, ops,
admins and executives everyone), and reassigning accounts (accounts.reassign).

A reassignment is all or nothing: an unknown account id, or another tenant's, answers 400 on `account_ids` and
writes nothing (the same answer for both); a `to_user` who is not a CSM or manager of the token's tenant answers
400 on `to_user`; a manager moving an account outside their team, or to someone outside it, answers 403 with the
reason."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.permissions import team_user_ids
from csplatform.tenancy.models import Role
from csplatform.tenancy.permissions import ActionPermission

from ..coverage import selectors, services
from ..models import AccountAssignment

MONEY = {"max_digits": 16, "decimal_places": 2}
PERCENT = {"max_digits": 9, "decimal_places": 1}


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    segment = serializers.IntegerField(source="segment_id", allow_null=True,
                                       help_text="Segment id; null for the catch-all rule (every other account)")
    segment_name = serializers.CharField(source="segment", allow_null=True)
    accounts_per_csm = serializers.IntegerField()
    label = serializers.CharField(help_text='For example "1 CSM : 10 Enterprise accounts"')


class SegmentCellSerializer(serializers.Serializer):
    segment = serializers.IntegerField(source="segment_id", allow_null=True, help_text="null: accounts without one")
    segment_name = serializers.CharField(source="segment")
    accounts = serializers.IntegerField()
    arr = serializers.DecimalField(**MONEY)
    accounts_per_csm = serializers.IntegerField(help_text="The rule the accounts count by")
    load_percent = serializers.DecimalField(**PERCENT, help_text="accounts / accounts_per_csm, in % of one CSM")


class CsmCoverageSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    name = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.CharField(help_text="Membership role; empty when the owner is no longer a member")
    is_member = serializers.BooleanField()
    accounts = serializers.IntegerField(help_text="Active accounts")
    arr = serializers.DecimalField(**MONEY, help_text="ARR of the active accounts, tenant currency")
    load_percent = serializers.DecimalField(**PERCENT, help_text="Sum of the segment loads; 100 = one CSM's book")
    over_capacity = serializers.BooleanField(help_text="Load over 100%")
    segments = SegmentCellSerializer(many=True)


class TotalSegmentSerializer(serializers.Serializer):
    segment = serializers.IntegerField(source="segment_id", allow_null=True)
    segment_name = serializers.CharField(source="segment")
    accounts = serializers.IntegerField()
    arr = serializers.DecimalField(**MONEY)


class TotalsSerializer(serializers.Serializer):
    people = serializers.IntegerField()
    accounts = serializers.IntegerField()
    arr = serializers.DecimalField(**MONEY)
    load_percent = serializers.DecimalField(**PERCENT, help_text="The rows' loads added up")
    average_load_percent = serializers.DecimalField(**PERCENT)
    over_capacity = serializers.IntegerField(help_text="People over 100%")
    csms_needed = serializers.DecimalField(max_digits=9, decimal_places=2,
                                           help_text="CSMs the rows' accounts and the unassigned ones need")
    segments = TotalSegmentSerializer(many=True)


class UnassignedSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    arr = serializers.DecimalField(**MONEY)
    load_percent = serializers.DecimalField(**PERCENT)
    segments = SegmentCellSerializer(many=True)


class CoverageSerializer(serializers.Serializer):
    currency = serializers.CharField()
    rules = RuleSerializer(many=True)
    csms = CsmCoverageSerializer(many=True, source="rows")
    totals = TotalsSerializer()
    unassigned = UnassignedSerializer()


class OneObjectSchema(AutoSchema):
    """GET /coverage/ answers one object (the figures), though its route is the router's list route."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class CoverageViewSet(viewsets.ViewSet):
    schema = OneObjectSchema()
    permission_classes = [ActionPermission]
    required_actions = {"*": "coverage.view"}

    @extend_schema(
        summary="Accounts, ARR and load per CSM against the coverage rules",
        description="Active accounts only. Load: each account counts 1/N of a CSM, N from its segment's rule (else "
                    "the catch-all rule). Managers get their team's rows; ops, admins and executives everyone's. "
                    "The unassigned pool is the tenant's.",
        responses={200: CoverageSerializer},
    )
    def list(self, request):
        membership = request.membership
        team = team_user_ids(membership) if membership.role == Role.MANAGER else None
        return Response(CoverageSerializer(selectors.coverage_by_csm(tenant=request.tenant, user_ids=team)).data)


class ReassignmentSerializer(serializers.Serializer):
    account_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False,
                                        max_length=services.MAX_ACCOUNTS)
    to_user = serializers.IntegerField(min_value=1, help_text="User id of a CSM or manager of this workspace")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.NOTE_MAX)

    def validate_to_user(self, value):
        user = selectors.coverage_people(tenant=self.context["request"].tenant).filter(pk=value).first()
        if user is None:
            raise serializers.ValidationError(f"No CSM or manager with id {value} in this workspace.")
        return user


class ReassignmentResultSerializer(serializers.Serializer):
    accounts = serializers.IntegerField(help_text="Accounts moved")
    tasks = serializers.IntegerField(help_text="Open tasks moved with them")
    renewals = serializers.IntegerField(help_text="Open renewals whose owner moved")
    expansions = serializers.IntegerField(help_text="Open expansions whose owner moved")
    draft_reports = serializers.IntegerField(help_text="Undelivered monthly reports the new CSM now delivers")
    unchanged = serializers.IntegerField(help_text="Accounts already with to_user (left as they were)")
    to_user = serializers.IntegerField(source="to_user.pk")


class AccountReassignmentViewSet(viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    required_actions = {"create": "accounts.reassign", "metadata": "accounts.reassign"}
    serializer_class = ReassignmentSerializer
    queryset = AccountAssignment.dangerously_unscoped.none()  # schema introspection only

    @extend_schema(
        summary="Move accounts to another CSM, all or nothing",
        description="Moves the accounts, their open tasks owned by the previous CSM, their open renewals and "
                    "expansions owned by them and their undelivered monthly reports; writes one assignment (the "
                    "trail) per account. Managers move their "
                    "team's and unassigned accounts within their team; ops and admins anywhere in the tenant.",
        request=ReassignmentSerializer,
        responses={201: ReassignmentResultSerializer,
                   400: OpenApiResponse(description="Field errors (account_ids, to_user, note); nothing written"),
                   403: OpenApiResponse(description="Not allowed (role, or outside the manager's team)")},
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            done = services.accounts_reassign(tenant=request.tenant, account_ids=data["account_ids"],
                                              to_user=data["to_user"], by=request.user, note=data["note"])
        except services.ReassignForbidden as refused:
            raise PermissionDenied(str(refused)) from refused
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict if hasattr(error, "error_dict")
                                              else {"non_field_errors": error.messages}) from error
        return Response(ReassignmentResultSerializer(done).data, status=status.HTTP_201_CREATED)
