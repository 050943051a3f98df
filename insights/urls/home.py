from django.urls import path

from ..views import home_exec, home_ops

app_name = "homes"

urlpatterns = [
    path("headlines/", home_exec.page, name="executive"),
    path("ops/", home_ops.page, name="ops"),
]
