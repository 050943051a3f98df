from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "csplatform.jobs"
    label = "jobs"
    verbose_name = "Nightly jobs"

    def ready(self):
        # Each app registers its nightly jobs in its own jobs.py with @nightly_job.
        autodiscover_modules("jobs")
