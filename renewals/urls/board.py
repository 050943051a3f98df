from django.urls import path

from ..views import board, settings

app_name = "renewals"

urlpatterns = [
    path("", board.board, name="board"),
    path("<int:renewal_id>/edit/", board.renewal_update, name="update"),
    path("<int:renewal_id>/close/", board.renewal_close, name="close"),
    path("settings/", settings.settings_page, name="settings"),
    path("settings/lead-days/", settings.lead_days_save, name="lead_days"),
    path("settings/reasons/new/", settings.reason_save, name="reason_new"),
    path("settings/reasons/<int:reason_id>/", settings.reason_save, name="reason_edit"),
    path("settings/probability/", settings.probability_save, name="probability"),
    path("settings/targets/new/", settings.target_save, name="target_new"),
    path("settings/targets/<int:target_id>/", settings.target_save, name="target_edit"),
    path("settings/targets/<int:target_id>/delete/", settings.target_delete, name="target_delete"),
    path("import/", settings.import_upload, name="import"),
    path("import/<str:token>/", settings.import_preview, name="import_preview"),
    path("import/<str:token>/commit/", settings.import_commit, name="import_commit"),
]
