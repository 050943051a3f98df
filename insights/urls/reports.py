from django.urls import path

from ..views import reports

app_name = "reports"

urlpatterns = [
    path("", reports.report_list, name="list"),
    path("<int:report_id>/", reports.report_detail, name="detail"),
    path("<int:report_id>/print/", reports.report_print, name="print"),
    path("<int:report_id>/recommendation/", reports.recommendation_save, name="recommendation"),
    path("<int:report_id>/refresh/", reports.figures_refresh, name="refresh"),
    path("<int:report_id>/deliver/", reports.deliver, name="deliver"),
    path("<int:report_id>/follow-up/", reports.follow_up, name="follow_up"),
]
