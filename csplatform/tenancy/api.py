from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response


class MeSerializer(serializers.Serializer):
    tenant = serializers.CharField(help_text="Slug of the token's tenant")
    tenant_name = serializers.CharField()
    currency = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.CharField()
    token_name = serializers.CharField()
    token_expires_at = serializers.DateTimeField(allow_null=True)


@extend_schema(responses=MeSerializer, summary="Who the token acts as: tenant, user and role")
@api_view(["GET"])
def me(request):
    token = request.auth
    return Response(
        MeSerializer(
            {
                "tenant": request.tenant.slug,
                "tenant_name": request.tenant.name,
                "currency": request.tenant.currency,
                "email": request.user.email,
                "role": request.membership.role,
                "token_name": token.name,
                "token_expires_at": token.expires_at,
            }
        ).data
    )
