from django.urls import path

from ..views import forecast

app_name = "forecast"

urlpatterns = [
    path("", forecast.page, name="page"),
]
