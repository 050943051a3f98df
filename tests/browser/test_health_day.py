"""A day with customer health in the browser: the manager's morning on the portfolio dashboard and the
Account 360 health section, and a customer answering an emailed NPS survey without an account."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.alerts import alerts_update
from health.models import HealthAlert, Measure, SurveyInvite, SurveyResponse
from health.recompute import portfolio_rollup, scores_compute
from health.services import health_defaults_ensure, survey_send
from tests.factories import AccountFactory, ContactFactory, MembershipFactory, SentimentPulseFactory, TenantFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory
SLUG = "healthco"


def _tenant_with_scores():
    """Three accounts scored on the CSM's pulse alone: Initech was green and turns red today."""
    today = timezone.localdate()
    tenant = TenantFactory(slug=SLUG, name="Health Co")
    manager = MembershipFactory(tenant=tenant, role=Role.MANAGER, user__email="manager@healthco.test",
                                user__full_name="Mary Manager").user
    csm = MembershipFactory(tenant=tenant, role=Role.CSM, manager=manager, user__email="csm@healthco.test",
                            user__full_name="Chris Carter").user
    initech = AccountFactory(tenant=tenant, csm=csm, name="Initech")
    hooli = AccountFactory(tenant=tenant, csm=csm, name="Hooli")
    globex = AccountFactory(tenant=tenant, csm=csm, name="Globex")
    ContactFactory(tenant=tenant, account=initech, name="Carl Champion", email="carl@initech.test",
                   receives_surveys=True)
    start = today - timedelta(days=3)
    for account, score in ((initech, 4), (hooli, 5), (globex, 3)):
        SentimentPulseFactory(tenant=tenant, account=account, score=score, as_of=start)
    SentimentPulseFactory(tenant=tenant, account=initech, score=1, as_of=today)
    with tenant_context(tenant):
        card = health_defaults_ensure()
        card.measures.all().delete()
        Measure.objects.create(scorecard=card, kind=Measure.Kind.CSM_SENTIMENT, weight=Decimal(1),
                               red_threshold=Decimal(1), green_threshold=Decimal(5), window_days=90,
                               direction=Measure.Direction.HIGHER)
        for day in (start, today - timedelta(days=2), today - timedelta(days=1), today):
            scores_compute(tenant=tenant, day=day)
            portfolio_rollup(tenant=tenant, day=day)
        assert alerts_update(tenant=tenant, day=today) == 1
        alert = HealthAlert.objects.select_related("task").get()
    assert alert.account_id == initech.pk and alert.task is not None
    return tenant, initech, alert.task


def _browser_favicon_probe(msg) -> bool:
    # Chromium asks for /favicon.ico on pages that declare no icon (the public survey pages); not a page fault.
    return (msg.location.get("url") or "").endswith("/favicon.ico")


def _log_in(page, live_server, email):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/t/{SLUG}/health/")  # a manager lands on the portfolio


def test_a_manager_reviews_portfolio_health_and_sends_an_nps_survey_to_the_at_risk_account(
        live_server, transactional_db, page, screenshot):
    tenant, initech, task = _tenant_with_scores()
    problems, loaded = [], []
    page.on("response", lambda response: loaded.append((response.url, response.status)))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text} ({msg.location.get('url')})")
            if msg.type == "error" and not _browser_favicon_probe(msg) else None)

    _log_in(page, live_server, "manager@healthco.test")
    page.goto(f"{live_server.url}/t/{SLUG}/health/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio health")
    expect(page.locator("#band-mix-chart")).to_be_visible()
    page.wait_for_function("() => !!window.Chart && !!window.Chart.getChart('band-mix-chart')")
    assert (f"{live_server.url}/static/vendor/chart.umd.js", 200) in loaded  # vendored, never a CDN
    assert all(url.startswith(live_server.url) for url, _ in loaded)
    expect(page.locator("#band-mix tfoot")).to_contain_text("3")
    expect(page.locator("#green-share")).to_contain_text("33% green")
    at_risk = page.locator("#at-risk")
    expect(page.get_by_role("heading", name="At-risk accounts (1)")).to_be_visible()
    expect(at_risk).to_contain_text("Initech")
    expect(at_risk).to_contain_text(task.title)
    expect(at_risk).to_contain_text("Chris Carter")
    expect(at_risk).not_to_contain_text("Hooli")
    screenshot("dashboard")

    at_risk.get_by_role("link", name="Initech").click()
    page.wait_for_url(f"{live_server.url}/t/{SLUG}/accounts/{initech.pk}/")
    panel = page.locator("#health-panel")
    expect(panel.locator(".health-score .headline")).to_have_text("0")
    expect(panel.locator(".health-score")).to_contain_text("Red")
    expect(panel.get_by_role("region", name="At risk")).to_contain_text(task.title)
    trend = panel.locator("canvas[data-health-chart]")
    expect(trend).to_be_visible()
    page.wait_for_function(
        "() => !!window.Chart && !!window.Chart.getChart(document.querySelector('canvas[data-health-chart]'))")
    panel.scroll_into_view_if_needed()
    screenshot("account-health")

    url_before = page.url
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Send NPS survey").click()
    expect(page.locator("#survey-send-result")).to_have_text("NPS survey sent to 1 contact.")
    expect(page.locator("#health-panel .survey-invites")).to_contain_text("Carl Champion")
    assert page.url == url_before  # HTMX swapped the panel
    assert [m.to for m in mail.outbox] == [["carl@initech.test"]]
    with tenant_context(tenant):
        assert SurveyInvite.objects.filter(account=initech).count() == 1
    assert problems == []


def test_a_customer_answers_the_emailed_nps_survey_once(live_server, transactional_db, page, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tenant = TenantFactory(slug=SLUG, name="Health Co")
    manager = MembershipFactory(tenant=tenant, role=Role.MANAGER, user__email="manager@healthco.test").user
    account = AccountFactory(tenant=tenant, name="Initech")
    ContactFactory(tenant=tenant, account=account, name="Carl Champion", email="carl@initech.test",
                   receives_surveys=True)
    with tenant_context(tenant):
        health_defaults_ensure()
        [invite] = survey_send(account=account, by=manager, base_url=live_server.url + "/")
    # Sent on commit; without a wrapping transaction (transactional_db) that is at once.
    [message] = mail.outbox
    assert message.to == ["carl@initech.test"]
    link = re.search(rf"{re.escape(live_server.url)}/survey/{SLUG}/\S+/", message.body).group(0)

    page.goto(link)  # no login: the link is the customer's key
    expect(page.get_by_role("group")).to_contain_text("How likely are you to recommend Health Co")
    page.locator("label[for=score-9]").click()
    expect(page.locator("#score-9")).to_be_checked()
    page.get_by_label("Anything you would like to tell us?").fill("Support was quick this quarter.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_role("status")).to_contain_text("Your answer has been recorded")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Already answered")
    expect(page.get_by_role("button", name="Send my answer")).to_have_count(0)
    with tenant_context(tenant):
        response = SurveyResponse.objects.get()
        invite.refresh_from_db()
    assert (response.score, response.comment, response.source) == (9, "Support was quick this quarter.", "link")
    assert response.account_id == account.pk and response.invite_id == invite.pk
    assert invite.answered_at is not None
