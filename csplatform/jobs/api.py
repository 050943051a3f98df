from rest_framework import serializers, viewsets

from csplatform.tenancy.permissions import ActionPermission

from .models import JobRun


class JobRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = ["id", "job", "day", "status", "started_at", "finished_at", "rows_written", "error", "trigger"]


class JobRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Nightly job attempts of the token's tenant, newest first."""

    serializer_class = JobRunSerializer
    permission_classes = [ActionPermission]
    required_actions = {"*": "jobs.view"}
    filterset_fields = ["job", "status", "day"]
    queryset = JobRun.dangerously_unscoped.none()  # for schema introspection only; see get_queryset

    def get_queryset(self):
        return JobRun.objects.all()
