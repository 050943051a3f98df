from django.urls import path

from .views import accounts, escalations, team

app_name = "accounts"

urlpatterns = [
    path("", accounts.account_list, name="list"),
    path("new/", accounts.account_edit, name="create"),
    path("<int:account_id>/", accounts.account_detail, name="detail"),
    path("<int:account_id>/edit/", accounts.account_edit, name="edit"),
    path("<int:account_id>/activities/", accounts.activity_create, name="log_activity"),
    path("<int:account_id>/contacts/new/", accounts.contact_edit, name="contact_create"),
    path("<int:account_id>/contacts/<int:contact_id>/", accounts.contact_edit, name="contact_edit"),
    path("<int:account_id>/escalations/new/", accounts.escalation_create, name="escalation_create"),
    path("escalations/", escalations.escalation_list, name="escalations"),
    path("escalations/<int:escalation_id>/", escalations.escalation_detail, name="escalation"),
    path("timesheet/", team.timesheet, name="timesheet"),
    path("workplan/", team.workplan, name="workplan"),
    path("next-steps/<int:activity_id>/done/", team.next_step_done, name="next_step_done"),
    path("book/", team.book_of_business, name="book"),
]
