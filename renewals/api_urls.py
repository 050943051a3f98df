from rest_framework.routers import DefaultRouter

from .api.retention import ChurnAnalysisViewSet, RetentionViewSet
from .api.views import ContractViewSet, ExpansionViewSet, ForecastSnapshotViewSet, RenewalViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("contracts", ContractViewSet, basename="contract")
router.register("renewals", RenewalViewSet, basename="renewal")
router.register("expansions", ExpansionViewSet, basename="expansion")
router.register("forecast-snapshots", ForecastSnapshotViewSet, basename="forecastsnapshot")
router.register("retention", RetentionViewSet, basename="retention")
router.register("churn-analysis", ChurnAnalysisViewSet, basename="churn-analysis")

urlpatterns = router.urls
