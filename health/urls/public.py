from django.urls import path

from ..views import surveys

# No namespace: services.survey_send reverses "survey_answer" to build the emailed link.
urlpatterns = [
    path("<slug:tenant_slug>/<str:token>/", surveys.survey_answer, name="survey_answer"),
]
