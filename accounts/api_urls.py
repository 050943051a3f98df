from rest_framework.routers import DefaultRouter

from accounts.api.views import AccountViewSet, ActivityViewSet, ContactViewSet, EscalationViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("activities", ActivityViewSet, basename="activity")
router.register("escalations", EscalationViewSet, basename="escalation")

urlpatterns = router.urls
