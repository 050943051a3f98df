"""The compensation API: plans with their rules (read), statements with their lines (read; a CSM sees only
their own, managers and ops everyone's; approve for managers), and attainment per CSM. Another tenant's ids
and another CSM's statements are not found (404)."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from csplatform.tenancy.permissions import ActionPermission, role_can

from .. import selectors, services
from ..models import CompPlan, CompStatement
from .serializers import AttainmentSerializer, CompPlanSerializer, CompStatementSerializer


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Changed meanwhile."
    default_code = "conflict"


class StatementFilter(django_filters.FilterSet):
    csm = django_filters.NumberFilter(field_name="csm_id", help_text="User id of the CSM")
    period_start = django_filters.DateFilter(help_text="First day of the month")
    period_after = django_filters.DateFilter(field_name="period_start", lookup_expr="gte",
                                             help_text="Months starting on or after")
    period_before = django_filters.DateFilter(field_name="period_start", lookup_expr="lte",
                                              help_text="Months starting on or before")

    class Meta:
        model = CompStatement
        fields = ["csm", "status", "period_start", "period_after", "period_before", "plan"]


@extend_schema_view(
    list=extend_schema(summary="Compensation plans with their rules", description="Newest plan year first."),
    retrieve=extend_schema(summary="One compensation plan with its rules"),
)
class CompPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Plans of a plan year (fiscal year named by its end year), each a list of rules with parameters."""

    permission_classes = [ActionPermission]
    required_actions = {"list": "comp.view_own", "retrieve": "comp.view_own", "metadata": "comp.view_own"}
    serializer_class = CompPlanSerializer
    filterset_fields = ["year", "is_default"]
    queryset = CompPlan.dangerously_unscoped.none()

    def get_queryset(self):
        return CompPlan.objects.prefetch_related("rules").order_by("-year", "name")


@extend_schema_view(
    list=extend_schema(summary="Statements with their lines",
                       description="Newest month first. A member sees their own statements; managers and ops see "
                                   "everyone's (comp.view_team)."),
    retrieve=extend_schema(summary="One statement with its lines",
                           description="Another CSM's statement answers 404, like one that does not exist."),
)
class CompStatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monthly statements: one per CSM per month, draft until a manager approves (then locked)."""

    permission_classes = [ActionPermission]
    required_actions = {"list": "comp.view_own", "retrieve": "comp.view_own", "metadata": "comp.view_own",
                        "approve": "comp.approve"}
    serializer_class = CompStatementSerializer
    filterset_class = StatementFilter
    queryset = CompStatement.dangerously_unscoped.none()

    def get_queryset(self):
        found = (CompStatement.objects.select_related("csm", "approved_by").prefetch_related("lines")
                 .order_by("-period_start", "csm_id"))
        if not selectors.sees_team(self.request.membership):
            found = found.filter(csm_id=self.request.membership.user_id)
        return found

    @extend_schema(
        summary="Approve a draft statement (then it is locked)",
        description="Compare-and-set: only a draft is approved; approving an approved statement answers 409 and "
                    "changes nothing. Needs comp.approve (managers, admins).",
        request=None,
        responses={200: CompStatementSerializer, 409: OpenApiResponse(description="Already approved")},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        statement = self.get_object()
        if not services.statement_approve(statement=statement, by=request.user):
            raise Conflict("This statement is already approved; it is locked.")
        return Response(self.get_serializer(self.get_queryset().get(pk=statement.pk)).data)


@extend_schema_view(
    list=extend_schema(
        summary="Attainment per CSM this plan year",
        description="Per CSM on the plan year's default plan (or `plan`): opportunities counted toward the quota vs "
                    "its threshold, approved process documents (and toward the next spiff), and the year-to-date "
                    "total of their statements. A member sees their own row; managers, ops and executives "
                    "everyone's.",
        responses={200: AttainmentSerializer(many=True)},
    ),
)
class CompAttainmentViewSet(viewsets.ViewSet):
    permission_classes = [ActionPermission]
    required_actions = {"*": "comp.view_own"}

    def list(self, request):
        today = timezone.localdate()
        plan_id = request.query_params.get("plan", "")
        plans = CompPlan.objects.prefetch_related("rules")
        if plan_id:
            plan = plans.filter(pk=plan_id).first() if plan_id.isdigit() else None
            if plan is None:
                return Response({"plan": ["No such plan."]}, status=status.HTTP_400_BAD_REQUEST)
        else:
            plan = plans.filter(year=selectors.plan_year_of(today), is_default=True).first()
        if plan is None:
            return Response([])
        role = request.membership.role
        everyone = role_can(role, "comp.view_team") or role_can(role, "comp.totals")
        rows = selectors.attainment(plan=plan, upto=today, csm_ids=None if everyone else [request.user.pk])
        return Response(AttainmentSerializer(rows, many=True).data)
