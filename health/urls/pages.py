from django.urls import path

from ..views import portfolio, scorecards

app_name = "health"

urlpatterns = [
    path("", portfolio.portfolio, name="portfolio"),
    path("scorecards/", scorecards.scorecard_list, name="scorecards"),
    path("scorecards/new/", scorecards.scorecard_edit, name="scorecard_new"),
    path("scorecards/<int:pk>/", scorecards.scorecard_edit, name="scorecard_edit"),
    path("settings/", scorecards.settings_save, name="settings"),
    path("restate/", scorecards.restate, name="restate"),
]
