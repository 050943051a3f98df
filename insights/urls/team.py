from django.urls import path

from ..views import team

app_name = "team"

urlpatterns = [
    path("", team.page, name="page"),
]
