from django.urls import path

from ..views import retention

app_name = "retention"

urlpatterns = [
    path("", retention.page, name="page"),
]
