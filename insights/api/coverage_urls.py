from rest_framework.routers import DefaultRouter

from .coverage import AccountReassignmentViewSet, CoverageViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("coverage", CoverageViewSet, basename="coverage")
router.register("account-reassignments", AccountReassignmentViewSet, basename="account-reassignment")

urlpatterns = router.urls
