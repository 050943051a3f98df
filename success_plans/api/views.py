from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.serializers import Conflict
from accounts.api.views import AccountScopedViewSet, actions_for
from csplatform.tenancy.permissions import ActionPermission

from .. import selectors, services
from ..models import (
    Advocacy,
    BusinessReview,
    Decision,
    Goal,
    Playbook,
    PlaybookStep,
    ProductFeedback,
    SuccessPlan,
    Task,
    ValueRealised,
)
from . import filters
from .serializers import (
    AdvocacySerializer,
    BusinessReviewDetailSerializer,
    BusinessReviewSerializer,
    DecisionCloseSerializer,
    DecisionSerializer,
    GoalApproveSerializer,
    GoalProgressSerializer,
    GoalSerializer,
    GoalUpdateSerializer,
    PlaybookSerializer,
    ProductFeedbackSerializer,
    SuccessPlanSerializer,
    TaskSerializer,
    ValueRealisedSerializer,
    _service,
)


class SuccessPlanViewSet(AccountScopedViewSet):
    """Success plans: the customer's objectives and ROI hypothesis for a period. Writes need plans.edit on
    the plan's account."""

    serializer_class = SuccessPlanSerializer
    filterset_class = filters.SuccessPlanFilter
    required_actions = actions_for(write="plans.edit")
    queryset = SuccessPlan.dangerously_unscoped.none()  # for schema introspection only; see get_queryset

    def get_queryset(self):
        return SuccessPlan.objects.select_related("account").order_by("-period_start", "id")


@extend_schema_view(
    update=extend_schema(request=GoalUpdateSerializer, responses=GoalSerializer),
    partial_update=extend_schema(request=GoalUpdateSerializer, responses=GoalSerializer),
)
class GoalViewSet(AccountScopedViewSet):
    """Measurable customer goals with their derived status and progress. Creating and editing need
    plans.edit, recording progress too; approving needs goals.approve; all on the goal's account."""

    filterset_class = filters.GoalFilter
    required_actions = actions_for(write="plans.edit", progress="plans.edit", approve="goals.approve")
    queryset = Goal.dangerously_unscoped.none()

    def get_queryset(self):
        return Goal.objects.select_related("account").order_by("due_date", "id")

    def get_serializer_class(self):
        return GoalUpdateSerializer if self.action in ("update", "partial_update") else GoalSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def account_to_create(self, validated_data):
        return validated_data["plan"].account

    def update(self, request, *args, **kwargs):
        # Answer with the full goal (derived status and progress included).
        super().update(request, *args, **kwargs)
        return Response(GoalSerializer(self.get_object(), context=self.get_serializer_context()).data)

    @extend_schema(summary="Record a reading of the goal's measure", request=GoalProgressSerializer,
                   responses={200: GoalSerializer})
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        goal = self.get_object()
        serializer = GoalProgressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _service(services.goal_progress_update, goal=goal, by=request.user, **serializer.validated_data)
        return Response(GoalSerializer(goal, context=self.get_serializer_context()).data)

    @extend_schema(summary="Record the customer contact who agreed to the goal", request=GoalApproveSerializer,
                   responses={200: GoalSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        goal = self.get_object()
        serializer = GoalApproveSerializer(data=request.data, context={"goal": goal})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        goal = _service(services.goal_approve, goal=goal, contact=data["contact"], on=data.get("on"))
        return Response(GoalSerializer(goal, context=self.get_serializer_context()).data)


class ValueRealisedViewSet(AccountScopedViewSet):
    """Value realised for a customer (ROI evidence). Writes need value.record on the account."""

    serializer_class = ValueRealisedSerializer
    filterset_class = filters.ValueRealisedFilter
    required_actions = actions_for(write="value.record")
    queryset = ValueRealised.dangerously_unscoped.none()

    def get_queryset(self):
        return ValueRealised.objects.select_related("account").order_by("-realised_on", "-id")


class TaskViewSet(AccountScopedViewSet):
    """Tasks and calls to action on accounts (manual or from playbooks). Writes need tasks.edit on the
    account; a task is completed once, with the complete action."""

    serializer_class = TaskSerializer
    filterset_class = filters.TaskFilter
    required_actions = actions_for(write="tasks.edit", complete="tasks.edit")
    queryset = Task.dangerously_unscoped.none()

    def get_queryset(self):
        return Task.objects.select_related("account").order_by("due_date", "id")

    @extend_schema(summary="Complete an open task", request=None,
                   responses={200: TaskSerializer, 409: OpenApiResponse(description="Not open (done or cancelled)")})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        if not services.task_complete(task=task):
            raise Conflict("This task is not open: it was already completed or cancelled.")
        task.refresh_from_db()
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data)


class BusinessReviewViewSet(AccountScopedViewSet):
    """QBRs and EBRs with attendees and the decisions taken; one review also lists the decisions carried
    forward (still open from the account's earlier reviews). Writes need reviews.edit on the account."""

    filterset_class = filters.BusinessReviewFilter
    required_actions = actions_for(write="reviews.edit")
    queryset = BusinessReview.dangerously_unscoped.none()

    def get_queryset(self):
        return BusinessReview.objects.select_related("account").prefetch_related(
            "contacts", "users", Prefetch("decisions", queryset=Decision.objects.order_by("due_date", "id")),
        ).order_by("-held_on", "-id")

    def get_serializer_class(self):
        return BusinessReviewDetailSerializer if self.action == "retrieve" else BusinessReviewSerializer


class DecisionViewSet(AccountScopedViewSet):
    """The decision log. Adding, editing and closing need reviews.edit on the decision's account."""

    serializer_class = DecisionSerializer
    filterset_class = filters.DecisionFilter
    required_actions = actions_for(write="reviews.edit", close="reviews.edit")
    queryset = Decision.dangerously_unscoped.none()

    def get_queryset(self):
        return Decision.objects.select_related("account").order_by("due_date", "id")

    def account_to_create(self, validated_data):
        return validated_data["review"].account

    @extend_schema(summary="Close an open decision as done or dropped", request=DecisionCloseSerializer,
                   responses={200: DecisionSerializer, 409: OpenApiResponse(description="Already closed")})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        decision = self.get_object()
        serializer = DecisionCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not _service(services.decision_close, decision=decision, status=serializer.validated_data["status"]):
            raise Conflict("This decision is already closed.")
        decision.refresh_from_db()
        return Response(DecisionSerializer(decision, context=self.get_serializer_context()).data)


class PlaybookViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Playbooks and their steps. Everyone reads them; ops and admins manage them (playbooks.manage)."""

    permission_classes = [ActionPermission]
    serializer_class = PlaybookSerializer
    filterset_class = filters.PlaybookFilter
    required_actions = actions_for(write="playbooks.manage")
    queryset = Playbook.dangerously_unscoped.none()

    def get_queryset(self):
        return Playbook.objects.prefetch_related(
            Prefetch("steps", queryset=PlaybookStep.objects.order_by("position", "day_offset", "id"))
        ).order_by("name", "id")


class AdvocacyViewSet(AccountScopedViewSet):
    """References, case studies, referrals, reviews and community participation. Writes need
    advocacy.record on the account."""

    serializer_class = AdvocacySerializer
    filterset_class = filters.AdvocacyFilter
    required_actions = actions_for(write="advocacy.record")
    queryset = Advocacy.dangerously_unscoped.none()

    def get_queryset(self):
        return Advocacy.objects.select_related("account").order_by("-happened_on", "-id")


@extend_schema_view(list=extend_schema(summary="Product feedback, most asked for first"))
class ProductFeedbackViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Product feedback (voice of the customer), ranked by the number of accounts asking. Writes need
    feedback.edit."""

    permission_classes = [ActionPermission]
    serializer_class = ProductFeedbackSerializer
    filterset_class = filters.ProductFeedbackFilter
    required_actions = actions_for(write="feedback.edit")
    queryset = ProductFeedback.dangerously_unscoped.none()

    def get_queryset(self):
        return selectors.feedback_ranking().prefetch_related("accounts").order_by("-prevalence", "-created_at", "-id")

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.status_code = status.HTTP_201_CREATED
        return response
