from django.urls import path

from ..views import targets

app_name = "targets"

urlpatterns = [
    path("", targets.configure, name="configure"),
]
