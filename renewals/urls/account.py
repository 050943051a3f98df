from django.urls import path

from ..views import account

app_name = "account_renewals"

urlpatterns = [
    path("<int:account_id>/expansions/flag/", account.expansion_flag, name="expansion_flag"),
    path("<int:account_id>/expansions/<int:expansion_id>/move/", account.expansion_move, name="expansion_move"),
]
