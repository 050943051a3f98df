from django.urls import path

from . import views

app_name = "accounts_import"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<str:token>/", views.preview, name="preview"),
    path("<str:token>/commit/", views.commit, name="commit"),
]
