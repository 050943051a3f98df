"""Design-system rules every template keeps (docs/experience.md, "Design system and accessibility").

The template scans are plain text checks, no database: a new delete form without a confirmation, a bare "None"
where an empty state belongs or a band badge without its name fails here, whoever adds it.
"""

import re
from pathlib import Path

import pytest

from tests.factories import AccountFactory

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# A tag that sends a request: a form (its action) or an element with its own htmx request.
REQUEST_TAG = re.compile(r"<(?:form\b|[a-z]+\b[^>]*\bhx-(?:post|delete|put|patch)=)[^>]*>", re.S)
URL_NAME = re.compile(r"""\{%\s*t?url\s+['"]([\w:.-]+)['"]""")
# Irreversible or hard-to-undo: deleting, revoking, removing, unlocking, moving books between CSMs, closing a
# renewal with its outcome, approving (and so locking) a commission statement.
DESTRUCTIVE = re.compile(r"(delete|revoke|remove|unlock|reassign|archive|purge|renewals:close$|compensation:approve$)")
DESTRUCTIVE_PAGE = re.compile(r"(delete|revoke|remove|unlock)")  # a confirmation page posting to itself
CONFIRMED = ("data-confirm=", "hx-confirm=", "data-confirm-page=")
BARE_NONE = re.compile(r">\s*None(?: open| yet)?\s*\.?\s*<")
EMPTY_BAND = re.compile(r'<span class="band band-[^"]*"[^>]*>\s*</span>')


def unconfirmed_destructive_requests(source: str, name: str = "") -> list[str]:
    """The tags of `source` that send a destructive request without asking first."""
    found = []
    for tag in REQUEST_TAG.findall(source):
        if 'method="get"' in tag.lower() or any(marker in tag for marker in CONFIRMED):
            continue
        urls = URL_NAME.findall(tag)
        destructive = any(DESTRUCTIVE.search(url) for url in urls)
        posts_to_itself = tag.startswith("<form") and "action=" not in tag and 'method="post"' in tag.lower()
        if destructive or (posts_to_itself and DESTRUCTIVE_PAGE.search(name)):
            found.append(" ".join(tag.split()))
    return found


def _templates():
    return sorted(p for p in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_it_asks_before_every_destructive_action(path):
    assert unconfirmed_destructive_requests(path.read_text(), path.name) == []


def test_the_check_catches_a_delete_form_without_confirmation():
    bad = """<form method="post" action="{% turl 'coverage:rule_delete' rule_id=1 %}" class="inline">"""
    good = bad.replace('class="inline"', 'class="inline" data-confirm="Delete the rule?"')
    htmx = """<button hx-post="{% turl 'security:token_revoke' token_id=t.id %}">Revoke</button>"""
    filter_form = """<form method="get" action="{% turl 'renewals:board' %}">"""
    assert unconfirmed_destructive_requests(bad) and unconfirmed_destructive_requests(htmx)
    assert unconfirmed_destructive_requests(good) == [] and unconfirmed_destructive_requests(filter_form) == []
    assert unconfirmed_destructive_requests('<form method="post">', "token_revoke.html")


def test_empty_states_say_more_than_none():
    offenders = [str(p.relative_to(TEMPLATES)) for p in _templates() if BARE_NONE.search(p.read_text())]
    assert offenders == []


def test_band_badges_always_carry_their_name():
    offenders = [str(p.relative_to(TEMPLATES)) for p in _templates() if EMPTY_BAND.search(p.read_text())]
    assert offenders == []


def test_a_form_error_sits_next_to_its_field_and_is_announced_with_it(client, tenant_a, teammate):
    account = AccountFactory(tenant=tenant_a, csm=teammate)
    client.force_login(teammate)
    response = client.post(
        f"/t/alpha/accounts/{account.pk}/activities/",
        {"kind": "call", "subject": "", "occurred_at": "2026-03-11T09:00", "minutes_spent": 30},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    html = response.content.decode()
    field = next(block for block in re.split(r'<div class="field(?=[ "])', html)[1:] if 'name="subject"' in block)
    assert field.startswith(" has-error")
    assert re.search(r'<input[^>]*name="subject"[^>]*aria-invalid="true"', field)
    assert re.search(r'<input[^>]*name="subject"[^>]*aria-describedby="id_subject_error"', field)
    assert re.search(r'id="id_subject_error"><small class="error"[^>]*>This field is required\.', field)
    assert 'for="id_subject"' in field


def test_the_nav_marks_the_current_section_and_shows_only_what_the_role_may_open(client, tenant_a, teammate):
    client.force_login(teammate)
    html = client.get("/t/alpha/accounts/escalations/").content.decode()
    nav = html.split('<nav id="main-nav"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == ["/t/alpha/accounts/escalations/"]
    assert 'href="/t/alpha/accounts/"' in nav and 'href="/t/alpha/forecast/"' not in nav  # a CSM has no forecast
    assert 'aria-controls="main-nav"' in html and 'class="skip-link" href="#main"' in html
