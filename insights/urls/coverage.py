from django.urls import path

from ..views import coverage

app_name = "coverage"

urlpatterns = [
    path("", coverage.page, name="page"),
    path("reassign/", coverage.reassign, name="reassign"),
    path("rules/", coverage.rules, name="rules"),
    path("rules/new/", coverage.rule_new, name="rule_new"),
    path("rules/<int:rule_id>/", coverage.rule_save, name="rule_save"),
    path("rules/<int:rule_id>/delete/", coverage.rule_delete, name="rule_delete"),
]
