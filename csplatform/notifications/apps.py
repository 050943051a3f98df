from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class NotificationsConfig(AppConfig):
    name = "csplatform.notifications"
    label = "notifications"
    verbose_name = "Notifications and digests"

    def ready(self):
        # The apps above register their email digests in their own digests module (insights.digests).
        autodiscover_modules("digests")
