from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from csplatform.jobs.api import JobRunViewSet
from csplatform.security.ratelimit import rate_limited
from csplatform.tenancy import api as tenancy_api
from csplatform.tenancy import views as tenancy_views

public_page_limit = rate_limited("api-schema", limit=60, window_seconds=600)
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("job-runs", JobRunViewSet, basename="jobrun")

# Every page of a tenant lives under /t/<slug>/; TenantPathMiddleware resolves the slug.
tenant_patterns = [
    path("", tenancy_views.tenant_home, name="tenant_home"),
    path("members/", tenancy_views.tenant_members, name="tenant_members"),
    path("", include("insights.urls.home")),  # the executive headlines and the ops home (tenant_home sends there)
    path("ops/jobs/", include("csplatform.jobs.urls")),
    path("import/", include("accounts.importing.urls")),
    path("accounts/", include("accounts.urls")),
    path("plans/", include("success_plans.urls.plans")),
    path("reviews/", include("success_plans.urls.reviews")),
    path("programs/", include("success_plans.urls.programs")),
    path("health/", include("health.urls.pages")),
    path("health/account/", include("health.urls.account")),
    path("renewals/retention/", include("renewals.urls.retention")),
    path("renewals/", include("renewals.urls.board")),
    path("renewals/account/", include("renewals.urls.account")),
    path("forecast/", include("renewals.urls.forecast")),
    path("compensation/", include("compensation.urls")),
    path("reports/", include("insights.urls.reports")),
    path("targets/", include("insights.urls.targets")),
    path("coverage/", include("insights.urls.coverage")),
    path("team/", include("insights.urls.team")),
    path("search/", include("insights.urls.search")),
    path("", include("csplatform.security.urls")),
    path("", include("csplatform.notifications.urls")),  # /notifications/, /settings/me/
]

api_v1 = [
    path("me/", tenancy_api.me, name="api-me"),
    path("", include("accounts.api_urls")),
    path("", include("success_plans.api_urls")),
    path("", include("health.api_urls")),
    path("", include("renewals.api_urls")),
    path("", include("compensation.api_urls")),
    path("", include("insights.api.coverage_urls")),
    path("", include("insights.api.targets_urls")),
    path("", include("insights.api.reports_urls")),
    *router.urls,
]

urlpatterns = [
    path("", tenancy_views.pick_tenant, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
    # Public (no login): survey links. The tenant comes from the path, the answer from the token.
    path("survey/", include("health.urls.public")),
    path("api/v1/", include(api_v1)),
    # Public too; building the schema costs a second of CPU, so a client gets a few a minute.
    path("api/schema/", public_page_limit(SpectacularAPIView.as_view()), name="api-schema"),
    path("api/docs/", public_page_limit(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("admin/", admin.site.urls),
]

# A lost database connection answers 503 with Retry-After (JSON under /api/), anything else a bare 500.
handler500 = "csplatform.errors.server_error"
# An unknown path under /api/ answers JSON as the API does, pages Django's 404 page.
handler404 = "csplatform.tenancy.api_errors.not_found"
