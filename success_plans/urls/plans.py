from django.urls import path

from ..views import mywork, plans

app_name = "plans"

urlpatterns = [
    path("new/", plans.plan_edit, name="create"),
    path("my-work/", mywork.my_work, name="my_work"),
    path("<int:plan_id>/", plans.plan_detail, name="detail"),
    path("<int:plan_id>/edit/", plans.plan_edit, name="edit"),
    path("<int:plan_id>/goals/new/", plans.goal_create, name="goal_create"),
    path("<int:plan_id>/risks/new/", plans.risk_create, name="risk_create"),
    path("goals/<int:goal_id>/progress/", plans.goal_progress, name="goal_progress"),
    path("goals/<int:goal_id>/approve/", plans.goal_approve, name="goal_approve"),
    path("goals/<int:goal_id>/override/", plans.goal_override, name="goal_override"),
    path("risks/<int:risk_id>/status/", plans.risk_status, name="risk_status"),
    path("accounts/<int:account_id>/value/new/", plans.value_create, name="value_create"),
    path("accounts/<int:account_id>/tasks/new/", plans.task_create, name="task_create"),
    path("tasks/<int:task_id>/done/", plans.task_done, name="task_done"),
]
