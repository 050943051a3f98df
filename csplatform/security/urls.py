from django.urls import path

from . import views

app_name = "security"

# Included at the root of a tenant's pages: /t/<slug>/settings/tokens/, /t/<slug>/ops/security/, ...
urlpatterns = [
    path("settings/tokens/", views.my_tokens, name="my_tokens"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("ops/tokens/", views.tenant_tokens, name="tenant_tokens"),
    path("ops/security/", views.login_security, name="login_security"),
    path("ops/security/<int:user_id>/unlock/", views.login_unlock, name="login_unlock"),
]
