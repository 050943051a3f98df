from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from csplatform.tenancy.permissions_doc import DOC_PATH, render


class Command(BaseCommand):
    help = f"Writes {DOC_PATH}: the role x action table and the action of every page and API operation."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help=f"Only say whether {DOC_PATH} is up to date "
                                                                 "(exit status 1 when it is not).")

    def handle(self, *args, check=False, **options):
        target = Path(settings.BASE_DIR) / DOC_PATH
        text = render()
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                raise CommandError(f"{DOC_PATH} is out of date: run `python manage.py render_permissions`.")
            self.stdout.write(f"{DOC_PATH} is up to date.")
            return
        target.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {DOC_PATH}.")
