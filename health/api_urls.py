from rest_framework.routers import DefaultRouter

from .api.usage import UsageEventViewSet
from .api.views import HealthScoreViewSet, SupportTicketViewSet, SurveyResponseViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("usage-events", UsageEventViewSet, basename="usageevent")
router.register("support-tickets", SupportTicketViewSet, basename="supportticket")
router.register("survey-responses", SurveyResponseViewSet, basename="surveyresponse")
router.register("health-scores", HealthScoreViewSet, basename="healthscore")

urlpatterns = router.urls
