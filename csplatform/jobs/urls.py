from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_runs, name="runs"),
    path("<int:run_id>/", views.job_run_detail, name="run"),
    path("run-now/", views.run_nightly_now, name="run_now"),
]
