from rest_framework.routers import DefaultRouter

from .api.views import CompAttainmentViewSet, CompPlanViewSet, CompStatementViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("comp-plans", CompPlanViewSet, basename="compplan")
router.register("comp-statements", CompStatementViewSet, basename="compstatement")
router.register("comp-attainment", CompAttainmentViewSet, basename="comp-attainment")

urlpatterns = router.urls
