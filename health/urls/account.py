from django.urls import path

from ..views import account

app_name = "account_health"

urlpatterns = [
    path("<int:account_id>/pulse/", account.pulse_set, name="pulse_set"),
    path("<int:account_id>/surveys/send/", account.survey_send, name="survey_send"),
]
