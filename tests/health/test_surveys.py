"""NPS surveys: a lead sends them, each survey contact gets a single-use link, the public page records the answer."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from health import selectors
from health.models import SurveyInvite, SurveyResponse
from health.views.surveys import RATE_LIMIT
from tests.factories import ContactFactory, SurveyResponseFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
LINK = re.compile(r"http://testserver(/survey/alpha/[A-Za-z0-9_-]+/)")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def survey_contacts(tenant_a, account):
    return [ContactFactory(tenant=tenant_a, account=account, name=name, email=email, receives_surveys=True)
            for name, email in [("Ann Admin", "ann@initech.test"), ("Bob Buyer", "bob@initech.test")]]


@pytest.fixture
def links(client, tenant_a, account, manager, survey_contacts, django_capture_on_commit_callbacks):
    """The emailed links (paths) by recipient, sent by the manager through the page."""
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(send_url(account), **HTMX).status_code == 200
    client.logout()
    return {message.to[0]: LINK.search(message.body)[1] for message in mail.outbox}


def send_url(account):
    return f"/t/alpha/health/account/{account.pk}/surveys/send/"


def invites(tenant):
    with tenant_context(tenant):
        return list(SurveyInvite.objects.order_by("pk"))


def responses(tenant):
    with tenant_context(tenant):
        return list(SurveyResponse.objects.order_by("pk"))


def test_a_manager_sends_each_survey_contact_a_unique_link(client, tenant_a, account, manager, survey_contacts,
                                                           django_capture_on_commit_callbacks):
    ContactFactory(tenant=tenant_a, account=account, name="Quiet Carl", receives_surveys=False)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url(account), **HTMX)
    assert response.status_code == 200 and "NPS survey sent to 2 contacts." in response.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@initech.test", "bob@initech.test"]
    found = [LINK.search(m.body)[1] for m in mail.outbox]
    assert len(set(found)) == 2
    expires = invites(tenant_a)[0].expires_at
    assert all(expires.strftime("%-d %B %Y") in m.body and "Alpha Inc" in m.body for m in mail.outbox)
    assert "Hello Ann Admin" in next(m.body for m in mail.outbox if m.to == ["ann@initech.test"])
    assert len(invites(tenant_a)) == 2 and all(i.sent_by_id == manager.pk for i in invites(tenant_a))
    # The invites now show on the panel, to leads.
    assert "sent, open until" in client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()


def test_a_csm_may_not_send_surveys(client, tenant_a, account, csm, survey_contacts,
                                    django_capture_on_commit_callbacks):
    client.force_login(csm)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(send_url(account), **HTMX).status_code == 403
    assert mail.outbox == [] and invites(tenant_a) == []


def test_sending_without_survey_contacts_says_why(client, tenant_a, account, manager,
                                                  django_capture_on_commit_callbacks):
    ContactFactory(tenant=tenant_a, account=account, receives_surveys=False)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url(account), **HTMX)
    assert response.status_code == 400
    assert "No contact of this account receives surveys" in response.content.decode()
    assert mail.outbox == [] and invites(tenant_a) == []
    # Without HTMX: back to the account with the message.
    response = client.post(send_url(account), follow=True)
    assert "No contact of this account receives surveys" in response.content.decode()


def test_the_link_shows_the_question_without_login(tenant_a, links):
    response = Client().get(links["ann@initech.test"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "How likely are you to recommend Alpha Inc to a friend or colleague?" in html
    assert html.count('type="radio" name="score"') == 11
    assert '<label for="score-0">0' in html and '<label for="score-10">10' in html
    assert "Not at all likely" in html and "csrfmiddlewaretoken" in html
    # The link never travels in a Referer to another site. The form's page says same-origin, not no-referrer:
    # under no-referrer browsers post `Origin: null`, which the CSRF check refuses.
    assert response["X-Robots-Tag"].startswith("noindex") and response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_answering_records_the_response_once(tenant_a, account, survey_contacts, links):
    forged = Client(enforce_csrf_checks=True).post(links["ann@initech.test"], {"score": "0"})
    assert forged.status_code == 403 and responses(tenant_a) == []  # the form is CSRF-protected
    visitor = Client(enforce_csrf_checks=True)  # and works without a session
    visitor.get(links["ann@initech.test"])
    token = visitor.cookies["csrftoken"].value
    answer = {"score": "9", "comment": "Great onboarding", "csrfmiddlewaretoken": token}
    response = visitor.post(links["ann@initech.test"], answer, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    [recorded] = responses(tenant_a)
    ann = survey_contacts[0]
    assert (recorded.kind, recorded.score, recorded.comment, recorded.source, recorded.contact_id,
            recorded.account_id) == ("nps", 9, "Great onboarding", "link", ann.pk, account.pk)
    invite = next(i for i in invites(tenant_a) if i.contact_id == ann.pk)
    assert invite.answered_at is not None and recorded.invite_id == invite.pk

    again = visitor.post(links["ann@initech.test"], {**answer, "score": "0"})
    assert again.status_code == 410 and "Already answered" in again.content.decode()
    assert again["Referrer-Policy"] == "no-referrer" and again["X-Robots-Tag"].startswith("noindex")
    assert visitor.get(links["ann@initech.test"]).status_code == 410
    assert len(responses(tenant_a)) == 1
    # Bob's link is his own and still open.
    assert Client().get(links["bob@initech.test"]).status_code == 200


def test_an_expired_link_answers_410_and_records_nothing(tenant_a, links):
    with tenant_context(tenant_a):
        SurveyInvite.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    visitor = Client()
    response = visitor.get(links["ann@initech.test"])
    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert visitor.post(links["ann@initech.test"], {"score": "10"}).status_code == 410
    assert responses(tenant_a) == []


def test_unknown_tokens_tenants_and_another_tenants_token_all_answer_the_same_404(tenant_a, tenant_b, links):
    visitor = Client()
    path = links["ann@initech.test"]
    token = path.rstrip("/").rsplit("/", 1)[1]
    wrong = visitor.get(f"/survey/alpha/{token[:-2]}xx/")
    cross = visitor.get(f"/survey/bravo/{token}/")
    nowhere = visitor.get(f"/survey/no-such-tenant/{token}/")
    assert wrong.status_code == cross.status_code == nowhere.status_code == 404
    assert wrong.content == cross.content == nowhere.content
    assert "Alpha Inc" not in cross.content.decode() and "Link not valid" in cross.content.decode()
    assert visitor.post(f"/survey/bravo/{token}/", {"score": "10"}).status_code == 404
    assert responses(tenant_a) == []


def test_an_inactive_tenants_links_answer_404(tenant_a, links):
    tenant_a.is_active = False
    tenant_a.save()
    assert Client().get(links["ann@initech.test"]).status_code == 404


@pytest.mark.parametrize("bad", [{"score": "11"}, {"score": "-1"}, {"score": "ten"}, {}])
def test_an_answer_out_of_range_answers_400_and_writes_nothing(tenant_a, links, bad):
    response = Client().post(links["ann@initech.test"], {**bad, "comment": "keep me"})
    html = response.content.decode()
    assert response.status_code == 400 and "Pick a score from 0 to 10." in html and "keep me" in html
    assert responses(tenant_a) == []
    assert all(i.answered_at is None for i in invites(tenant_a))


def test_the_page_is_rate_limited_per_client_ip_and_tenant(tenant_a, links, rate_limit_clock):
    path = links["ann@initech.test"]
    visitor = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(RATE_LIMIT):
        assert visitor.get(path).status_code == 200
    limited = visitor.get(path)
    assert limited.status_code == 429 and "Too many requests" in limited.content.decode()
    assert limited["Retry-After"] == "600" and limited["Referrer-Policy"] == "no-referrer"
    assert visitor.post(path, {"score": "10"}).status_code == 429
    assert responses(tenant_a) == []
    # Another visitor, and the same visitor on another tenant's page, are counted apart.
    assert Client(REMOTE_ADDR="203.0.113.8").get(path).status_code == 200
    assert visitor.get("/survey/bravo/whatever/").status_code == 404


def test_nps_is_percent_promoters_minus_percent_detractors(tenant_a, account):
    for score in [9, 10, 9, 10, 9, 7, 8, 7, 6, 0]:  # 5 promoters, 3 passives, 2 detractors
        SurveyResponseFactory(tenant=tenant_a, account=account, score=score)
    SurveyResponseFactory(tenant=tenant_a, account=account, score=0,
                          responded_at=timezone.now() - timedelta(days=200))  # too old to count
    SurveyResponseFactory(tenant=tenant_a, account=account, kind="csat", score=1)  # not NPS
    with tenant_context(tenant_a):
        nps = selectors.nps(account=account, days=180)
        tenant_wide = selectors.nps(days=180)
    assert (nps.promoters, nps.passives, nps.detractors, nps.responses, nps.score) == (5, 3, 2, 10, 30)
    assert tenant_wide.score == 30
    assert selectors.nps_score(0, 0, 0) is None
    assert selectors.nps_score(1, 0, 2) == -33 and selectors.nps_score(2, 1, 0) == 67


def test_the_panel_shows_the_accounts_nps_and_response_count(client, tenant_a, account, csm):
    for score in [9, 10, 9, 10, 9, 7, 8, 7, 6, 0]:
        SurveyResponseFactory(tenant=tenant_a, account=account, score=score)
    client.force_login(csm)
    html = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert "+30</strong> from 10 responses (5 promoters, 3 passives, 2 detractors)" in html
