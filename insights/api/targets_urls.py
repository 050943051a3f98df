from rest_framework.routers import DefaultRouter

from .targets import TargetProgressViewSet, TargetViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("targets", TargetViewSet, basename="target")
router.register("target-progress", TargetProgressViewSet, basename="target-progress")

urlpatterns = router.urls
