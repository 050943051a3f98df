from django.urls import path

from .views import mine, plans, team

app_name = "compensation"

urlpatterns = [
    path("", mine.mine, name="mine"),
    path("statements/<int:statement_id>/", mine.statement, name="statement"),
    path("statements/<int:statement_id>/csv/", mine.statement_csv, name="statement_csv"),
    path("statements/<int:statement_id>/approve/", team.approve, name="approve"),
    path("team/", team.team, name="team"),
    path("team/csv/", team.team_csv, name="team_csv"),
    path("plans/", plans.plans, name="plans"),
    path("plans/assignments/new/", plans.assignment_save, name="assignment_new"),
    path("plans/assignments/<int:assignment_id>/", plans.assignment_save, name="assignment_edit"),
    path("plans/generate/", plans.generate, name="generate"),
    path("plans/next-year/", plans.next_year, name="plan_next_year"),
    path("plans/<int:plan_id>/", plans.plan_save, name="plan_edit"),
    path("plans/rules/<int:rule_id>/", plans.rule_save, name="rule_edit"),
]
