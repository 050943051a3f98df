from rest_framework.routers import DefaultRouter

from .api.views import (
    AdvocacyViewSet,
    BusinessReviewViewSet,
    DecisionViewSet,
    GoalViewSet,
    PlaybookViewSet,
    ProductFeedbackViewSet,
    SuccessPlanViewSet,
    TaskViewSet,
    ValueRealisedViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("success-plans", SuccessPlanViewSet, basename="successplan")
router.register("goals", GoalViewSet, basename="goal")
router.register("value-records", ValueRealisedViewSet, basename="valuerealised")
router.register("tasks", TaskViewSet, basename="task")
router.register("reviews", BusinessReviewViewSet, basename="businessreview")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("playbooks", PlaybookViewSet, basename="playbook")
router.register("advocacy", AdvocacyViewSet, basename="advocacy")
router.register("feedback", ProductFeedbackViewSet, basename="productfeedback")

urlpatterns = router.urls
