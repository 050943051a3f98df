from django.urls import path

from ..views import reviews

app_name = "reviews"

urlpatterns = [
    path("", reviews.review_list, name="list"),
    path("new/", reviews.review_create, name="new"),
    path("<int:review_id>/", reviews.review_detail, name="detail"),
    path("<int:review_id>/pack/", reviews.review_pack, name="pack"),
    path("<int:review_id>/edit/", reviews.review_edit, name="edit"),
    path("<int:review_id>/decisions/", reviews.decision_add, name="decision_add"),
    path("<int:review_id>/decisions/<int:decision_id>/close/", reviews.decision_close, name="decision_close"),
]
