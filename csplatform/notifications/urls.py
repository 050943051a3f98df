from django.urls import path

from . import views

app_name = "notifications"

# Included at the root of a tenant's pages: /t/<slug>/notifications/, /t/<slug>/settings/me/.
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read-all/", views.notifications_read_all, name="read_all"),
    path("notifications/<int:notification_id>/", views.notification_open, name="open"),
    path("settings/me/", views.my_settings, name="my_settings"),
]
