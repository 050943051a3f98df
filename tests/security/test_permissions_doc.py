"""docs/permissions.md is what `manage.py render_permissions` writes from the code, so it stays true."""

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from csplatform.tenancy.permissions_doc import DOC_PATH, render


def test_docs_permissions_md_matches_the_code():
    written = (Path(settings.BASE_DIR) / DOC_PATH).read_text(encoding="utf-8")
    assert written == render(), f"{DOC_PATH} is out of date: run `python manage.py render_permissions`"


def test_render_permissions_check_says_so():
    out = StringIO()
    call_command("render_permissions", "--check", stdout=out)
    assert "up to date" in out.getvalue()
