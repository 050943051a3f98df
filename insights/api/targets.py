"""The targets API: the tenant's targets (everyone reads; ops change amount, period and on/off) and progress on
them (a CSM their own; leads and executives a person of their team with ?user=<id>, or the team).

A user id that is not a member of the token's tenant answers 404; a member the caller may not see answers 403
(the My work convention)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from csplatform.tenancy.permissions import ActionPermission

from ..models import Target
from ..targets import selectors
from ..targets.catalogue import spec_for
from ..targets.progress import targets_progress
from ..targets.services import TargetsInvalid, target_errors, targets_update

STATUS_HELP = "met, ahead, on_pace, behind (counts); met, not_met (shares, NPS); no_data"


class TargetSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    basis = serializers.SerializerMethodField()
    direction = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    how_counted = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = ["id", "metric", "label", "basis", "direction", "unit", "how_counted", "amount", "period",
                  "is_active", "position"]
        read_only_fields = ["id", "metric", "position"]

    def get_label(self, target) -> str:
        return spec_for(target.metric).label

    def get_basis(self, target) -> str:
        return spec_for(target.metric).basis

    def get_direction(self, target) -> str:
        return spec_for(target.metric).direction

    def get_unit(self, target) -> str:
        return spec_for(target.metric).unit

    def get_how_counted(self, target) -> str:
        return spec_for(target.metric).how

    def validate_amount(self, value):
        # A field validator, so a bad amount is reported together with a bad period.
        errors = target_errors(target=self.instance, amount=value) if self.instance else {}
        if errors:
            raise ValidationError(errors["amount"])
        return value

    def validate(self, attrs):
        errors = target_errors(target=self.instance, **attrs)
        if errors:
            raise ValidationError(errors)
        return attrs

    def update(self, instance, validated_data):
        try:
            targets_update(tenant=self.context["request"].tenant, changes={instance.pk: validated_data})
        except TargetsInvalid as refused:
            raise ValidationError(refused.errors[instance.pk]) from None
        instance.refresh_from_db()
        return instance


@extend_schema_view(
    list=extend_schema(summary="The tenant's targets", description="Every target, in use or not, with how its "
                       "metric is counted. Readable by every member."),
    retrieve=extend_schema(summary="One target"),
    partial_update=extend_schema(summary="Change a target's amount, period or on/off (ops)",
                                 description="Field-level 400 when a value does not fit the metric (for example a "
                                             "share above 100); nothing is written then."),
)
class TargetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                    viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    required_actions = {"list": "tenant.view", "retrieve": "tenant.view", "metadata": "tenant.view",
                        "partial_update": "targets.configure"}
    serializer_class = TargetSerializer
    http_method_names = ["get", "patch", "head", "options"]
    pagination_class = None
    queryset = Target.dangerously_unscoped.none()

    def get_queryset(self):
        return Target.objects.order_by("position", "id")


class CellSerializer(serializers.Serializer):
    target_id = serializers.IntegerField()
    metric = serializers.CharField()
    label = serializers.CharField()
    how = serializers.CharField()
    basis = serializers.CharField()
    direction = serializers.CharField()
    unit = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    period = serializers.CharField()
    period_label = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    actual = serializers.DecimalField(max_digits=16, decimal_places=1, allow_null=True,
                                      help_text="Count, share in % or NPS; null when there is nothing to measure")
    goal = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    expected = serializers.DecimalField(max_digits=16, decimal_places=1, allow_null=True,
                                        help_text="Expected by now (counts only)")
    status = serializers.CharField(help_text=STATUS_HELP)
    status_label = serializers.CharField()
    percent = serializers.IntegerField(allow_null=True, help_text="Progress bar, 0-100")
    pace = serializers.CharField(help_text="The pace needed for the rest of the period")
    detail = serializers.CharField()


class PersonProgressSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    cells = CellSerializer(many=True)


class TeamProgressSerializer(serializers.Serializer):
    name = serializers.CharField()
    people = serializers.IntegerField()
    cells = CellSerializer(many=True)


@extend_schema_serializer(many=False)  # the list action answers one object, not a list
class ProgressSerializer(serializers.Serializer):
    today = serializers.DateField()
    people = PersonProgressSerializer(many=True)
    team = TeamProgressSerializer()


@extend_schema_view(
    list=extend_schema(
        summary="Progress on the targets in use",
        description="Per person and for them together (counts add up; shares and NPS over the accounts together). "
                    "A CSM gets their own; leads and executives their team, or one person with ?user=<id>.",
        parameters=[OpenApiParameter("user", OpenApiTypes.STR, description="A user id, or `team`")],
        responses={200: ProgressSerializer},
    ),
)
class TargetProgressViewSet(viewsets.ViewSet):
    permission_classes = [ActionPermission]
    required_actions = {"*": "tenant.view"}

    def _user_ids(self, request) -> list[int]:
        membership = request.membership
        choice = request.query_params.get("user", "").strip()
        if choice in ("", str(request.user.pk)):
            return selectors.team_of(membership) if choice == "" and selectors.sees_team(membership) \
                else [request.user.pk]
        if choice == "team":
            if not selectors.sees_team(membership):
                raise PermissionDenied("Only leads and executives see the team's targets.")
            return selectors.team_of(membership)
        if not choice.isdigit():
            raise ValidationError({"user": ["A user id, or team."]})
        if not selectors.is_member(request.tenant, int(choice)):
            raise NotFound("No such member.")
        if not selectors.sees_team(membership) or int(choice) not in selectors.team_of(membership):
            raise PermissionDenied("You can see your own targets and your team's.")
        return [int(choice)]

    def list(self, request):
        progress = targets_progress(tenant=request.tenant, user_ids=self._user_ids(request),
                                    today=timezone.localdate())
        return Response(ProgressSerializer(progress).data)
