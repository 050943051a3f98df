from rest_framework.routers import DefaultRouter

from .reports import MonthlyReportViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("monthly-reports", MonthlyReportViewSet, basename="monthlyreport")

urlpatterns = router.urls
