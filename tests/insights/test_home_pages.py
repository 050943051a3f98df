"""Home after login depends on the role: CSMs land on My work, managers on the portfolio, executives on the
headline numbers, ops and admins on what to fix today. The headline figures agree with the pages that explain them;
the ops home counts what needs fixing; another tenant's rows never show; the query count does not grow with the
rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.importing.files import Table
from accounts.importing.mapping import mapping_guess
from accounts.importing.resources import RESOURCES
from accounts.importing.services import import_commit
from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.models import HealthScore, UsageBatch, UsageDaily
from renewals.forecast import forecast_compute, forecast_summary
from renewals.models import Contract, RenewalOpportunity, RetentionTarget
from renewals.periods import fiscal_quarter, last_quarters
from renewals.retention import retention
from tests.api import member
from tests.factories import (
    AccountFactory,
    ContactFactory,
    JobRunFactory,
    SupportTicketFactory,
    SurveyResponseFactory,
)
from tests.html import block, page_text
from tests.renewals.conftest import contract

pytestmark = pytest.mark.postgres

TODAY = timezone.localdate()
D = Decimal
PASSWORD = "correct horse battery"  # tests/factories.py UserFactory
EXEC_URL = "/t/alpha/headlines/"
OPS_URL = "/t/alpha/ops/"


def score(account, band, *, day=TODAY, value=None, change_7d=None):
    with tenant_context(account.tenant):
        return HealthScore.objects.create(
            account=account, day=day, band=band, score=value if value is not None else {"green": 80, "yellow": 55,
                                                                                         "red": 20}[band],
            change_7d=change_7d, computed_at=timezone.now())


# --- landing --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "home"), [
    (Role.CSM, "/t/alpha/plans/my-work/"),
    (Role.MANAGER, "/t/alpha/health/"),
    (Role.EXECUTIVE, EXEC_URL),
    (Role.OPS, OPS_URL),
    (Role.ADMIN, OPS_URL),
])
def test_it_lands_each_role_on_its_home_after_login(client, tenant_a, role, home):
    user = member(tenant_a, role, f"{role}@alpha.test")
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert [url for url, _ in response.redirect_chain][-2:] == ["/t/alpha/", home]
    assert response.request["PATH_INFO"] == home


def test_it_keeps_the_members_list_reachable(client, tenant_a, owner, teammate):
    client.force_login(teammate)
    response = client.get("/t/alpha/members/")
    assert response.status_code == 200 and "owner@alpha.test" in page_text(response)
    client.force_login(owner)
    assert 'href="/t/alpha/members/"' in client.get(OPS_URL).content.decode()


def test_the_homes_follow_the_role_table(client, tenant_a, owner, teammate, outsider):
    client.force_login(teammate)  # a CSM: neither home is theirs
    assert client.get(EXEC_URL).status_code == 403
    assert client.get(OPS_URL).status_code == 403
    client.force_login(owner)  # ops: their home, and the headlines (as the retention page) through the address
    assert client.get(OPS_URL).status_code == 200
    assert client.get(EXEC_URL).status_code == 200
    client.force_login(outsider)  # another tenant's member: the workspace does not exist for them
    for url in ("/t/alpha/", EXEC_URL, OPS_URL, "/t/alpha/members/"):
        assert client.get(url).status_code == 404


# --- the executive's headlines -------------------------------------------------------------------------------


@pytest.fixture
def executive(tenant_a):
    return member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")


@pytest.fixture
def headline_book(tenant_a, csm):
    """ARR 100,000 today over four active accounts, one per band: red 30,000, amber 20,000, green 10,000 and
    40,000 not scored yet; a churned account carries none. In the last complete quarter the green account kept its
    10,000 and another lost 5,000 (its contract ended): GRR = NRR = 10,000 / 15,000 = 66.7%."""
    previous = last_quarters(tenant_a, 2, TODAY)[0]
    green = AccountFactory(tenant=tenant_a, csm=csm, name="Green Co")
    contract(green, start=previous.start - timedelta(days=200), end=TODAY + timedelta(days=400), arr="10000")
    lost = AccountFactory(tenant=tenant_a, csm=csm, name="Lost Co")
    contract(lost, start=previous.start - timedelta(days=300), end=previous.start + timedelta(days=10), arr="5000")
    accounts = {"green": green}
    for band, name, arr in (("yellow", "Amber Co", "20000"), ("red", "Red Co", "30000"), ("none", "New Co", "40000")):
        accounts[band] = AccountFactory(tenant=tenant_a, csm=csm, name=name)
        contract(accounts[band], start=TODAY, arr=arr)
    for band in ("green", "yellow", "red"):
        score(accounts[band], band, day=TODAY - timedelta(days=1))
    churned = AccountFactory(tenant=tenant_a, csm=csm, name="Gone Co", status="churned", churn_date=TODAY)
    score(churned, "red")
    return previous


def test_the_headlines_show_the_health_mix_by_arr(client, tenant_a, executive, headline_book):
    client.force_login(executive)
    response = client.get(EXEC_URL)
    assert response.status_code == 200
    mix = {b.band: (b.arr, b.share, b.accounts) for b in response.context["mix"]["bands"]}
    assert mix == {"red": (D("30000"), D("30.0"), 1), "yellow": (D("20000"), D("20.0"), 1),
                   "green": (D("10000"), D("10.0"), 1), "none": (D("40000"), D("40.0"), 1)}
    assert block(response, "mix-red") == "Red 30,000 USD 30.0% 1"
    assert block(response, "mix-yellow") == "Amber 20,000 USD 20.0% 1"
    assert block(response, "mix-none") == "No score 40,000 USD 40.0% 1"
    html = response.content.decode()
    assert 'style="width: 30.0%; background: var(--band-red)"' in html
    assert 'aria-label="ARR by health band: Red 30.0%, Amber 20.0%, Green 10.0%, No score 40.0%"' in html
    assert 'href="/t/alpha/health/"' in html  # the page that explains the mix


def test_the_headlines_show_the_retention_page_figures(client, tenant_a, executive, headline_book):
    previous = headline_book
    client.force_login(executive)
    response = client.get(EXEC_URL)
    with tenant_context(tenant_a):
        [expected] = retention(start=previous.start, end=previous.end)
    assert response.context["retained"] == expected
    assert (expected.grr, expected.nrr) == (D("66.7"), D("66.7"))
    assert block(response, "headline-nrr").startswith("NRR 66.7%")
    assert block(response, "headline-grr").startswith("GRR 66.7%")
    assert f'href="/t/alpha/renewals/retention/?period={previous.key}#bridge"' in response.content.decode()


def test_the_headlines_show_the_forecast_against_the_target(client, tenant_a, executive, headline_book, csm):
    quarter = fiscal_quarter(tenant_a, TODAY)
    client.force_login(executive)
    assert "has not been computed yet" in block(client.get(EXEC_URL), "no-forecast")
    renewing = AccountFactory(tenant=tenant_a, csm=csm, name="Renewing Co")
    with tenant_context(tenant_a):
        due = Contract.objects.create(account=renewing, start_date=TODAY - timedelta(days=300), end_date=TODAY,
                                      arr=D("8000"))
        RenewalOpportunity.objects.create(account=renewing, contract=due, owner=csm, current_arr=D("8000"),
                                          expected_arr=D("8000"), close_date=TODAY, category="at_risk")
        forecast_compute(tenant=tenant_a, day=TODAY)
        summary = forecast_summary(day=TODAY, quarter_start=quarter.start)
        RetentionTarget.objects.create(year=quarter.year, quarter=quarter.quarter, grr_target=int(summary.grr) - 1,
                                       nrr_target=int(summary.nrr) + 5)
    below = (int(summary.nrr) + 5 - summary.nrr).quantize(D("0.1"))
    assert summary.grr < 100  # the at-risk renewal is expected to churn in part
    response = client.get(EXEC_URL)
    assert block(response, "forecast-grr").startswith(
        f"Forecast GRR {summary.grr}% target {int(summary.grr) - 1}% · on target")
    assert block(response, "forecast-nrr").startswith(
        f"Forecast NRR {summary.nrr}% target {int(summary.nrr) + 5}% · {below} points below")
    assert f'href="/t/alpha/forecast/?quarter={quarter.key}"' in response.content.decode()


def test_the_headlines_say_what_is_missing_on_an_empty_book(client, tenant_a, executive):
    client.force_login(executive)
    response = client.get(EXEC_URL)
    assert response.status_code == 200
    assert "No active account has ARR yet" in block(response, "no-arr")
    assert "no rate yet" in block(response, "no-retention")


# --- the ops home --------------------------------------------------------------------------------------------


@pytest.fixture
def ops_book(tenant_a, csm):
    now = timezone.now()
    owned = AccountFactory(tenant=tenant_a, csm=csm, name="Owned Co")
    unowned = AccountFactory(tenant=tenant_a, csm=None, name="Nobody's Co")
    AccountFactory(tenant=tenant_a, csm=None, name="Gone Co", status="churned", churn_date=TODAY)
    ContactFactory(tenant=tenant_a, account=owned, name="Has Email")
    ContactFactory(tenant=tenant_a, account=unowned, name="Nora Noemail", email="")
    ContactFactory(tenant=tenant_a, account=owned, name="Ned Noemail", email="")
    JobRunFactory(tenant=tenant_a, job="health.scores", status=JobRun.Status.FAILED, error="boom",
                  started_at=now - timedelta(days=2))
    JobRunFactory(tenant=tenant_a, job="health.scores", status=JobRun.Status.SUCCEEDED, rows_written=42,
                  started_at=now - timedelta(hours=3))
    with tenant_context(tenant_a):
        UsageBatch.objects.create(batch_id="b-1", digest="x", events=1234, received_at=now - timedelta(hours=5))
    SurveyResponseFactory(tenant=tenant_a, account=owned, responded_at=now - timedelta(days=20))
    SupportTicketFactory(tenant=tenant_a, account=owned, opened_at=now - timedelta(hours=1))
    return {"owned": owned, "unowned": unowned}


def test_the_ops_home_counts_what_to_fix(client, tenant_a, owner, ops_book):
    client.force_login(owner)
    response = client.get(OPS_URL)
    assert response.status_code == 200
    assert block(response, "unowned-count") == "1"
    assert 'href="/t/alpha/accounts/?csm=none&amp;status=active"' in response.content.decode()
    assert block(response, "no-email-count") == "2"
    assert [c.name for c in response.context["no_email"]["contacts"]] == ["Nora Noemail", "Ned Noemail"]
    scores = block(response, "job-healthscores")
    assert "Succeeded" in scores and "boom" not in scores  # the latest run, not the failure before it
    assert scores.endswith("42 1")  # the latest run's rows; one failure this week
    assert "No run in the last 35 days" in block(response, "job-healthalerts")
    fixes = block(response, "fixes")
    assert "1 failed run in the last 7 days" in fixes and "1 active account without a CSM" in fixes
    assert "2 contacts without an email" in fixes


def test_the_ops_home_shows_the_last_ingest_per_source(client, tenant_a, owner, ops_book):
    client.force_login(owner)
    response = client.get(OPS_URL)
    sources = {s.key: s for s in response.context["sources"]}
    assert sources["usage"].last_at is not None and not sources["usage"].quiet
    assert "1,234 events in that batch" in block(response, "source-usage")
    assert not sources["tickets"].quiet and "1 opened in the last 7 days" in block(response, "source-tickets")
    assert sources["surveys"].quiet and "Quiet for more than 14 days" in block(response, "source-surveys")
    assert sources["contracts"].last_at is None and "Nothing received yet" in block(response, "source-contracts")
    contract(ops_book["owned"], start=TODAY, arr="1000", external_id="C-1")
    assert client.get(OPS_URL).context["sources"][3].last_at is not None


def test_usage_rows_written_today_count_as_a_live_feed_without_any_batch(client, tenant_a, owner, csm):
    account = AccountFactory(tenant=tenant_a, csm=csm)
    with tenant_context(tenant_a):
        UsageDaily.objects.create(account=account, day=TODAY, active_users=3, events=40)
    client.force_login(owner)
    response = client.get(OPS_URL)
    usage = response.context["sources"][0]
    assert usage.last_at is None and not usage.quiet
    assert block(response, "source-usage").startswith(
        f"Product usage No batch received through the API latest day with usage {TODAY:%Y-%m-%d}")


def test_the_ops_home_shows_the_latest_import_of_each_kind(client, tenant_a, owner, ops_book):
    def commit(kind, headers, *rows):
        table = Table(headers=headers, rows=[list(r) for r in rows], row_numbers=list(range(2, len(rows) + 2)))
        with tenant_context(tenant_a):
            return import_commit(kind=kind, table=table,
                                 mapping=mapping_guess(columns=RESOURCES[kind].columns, headers=headers))

    assert commit("accounts", ["Account ID", "Account Name"], ["A-1", "Acme"], ["A-2", "Bolt"]).committed
    refused = commit("contacts", ["Contact ID", "Full Name", "Account ID"], ["P-1", "Pat", "NO-SUCH-ACCOUNT"])
    assert not refused.committed
    client.force_login(owner)
    response = client.get(OPS_URL)
    assert block(response, "import-accounts").split()[3:5] == ["Succeeded", "2"]
    contacts = block(response, "import-contacts")
    assert "Failed" in contacts and "1 row with errors; nothing was imported" in contacts
    assert "No import recorded" in block(response, "import-contracts")
    assert "the latest attempt of an import was refused" in block(response, "fixes")


def test_the_ops_home_has_nothing_to_fix_on_a_tidy_tenant(client, tenant_a, owner, csm):
    for job in ("platform.table_volume",):
        JobRunFactory(tenant=tenant_a, job=job)
    client.force_login(owner)
    response = client.get(OPS_URL)
    assert "jobs" in response.context["fixes"]  # the other nightly jobs never ran: that needs looking at
    assert "owners" not in response.context["fixes"] and "emails" not in response.context["fixes"]
    assert "Every active account has a CSM" in block(response, "unowned-count")


# --- another tenant ------------------------------------------------------------------------------------------


def test_another_tenants_rows_never_show(client, tenant_a, tenant_b, owner, executive, csm):
    secret = AccountFactory(tenant=tenant_b, csm=None, name="Bravo Secret Customer")
    contract(secret, start=TODAY, arr="999000")
    score(secret, "red")
    ContactFactory(tenant=tenant_b, account=secret, name="Bravo Secret Contact", email="")
    JobRunFactory(tenant=tenant_b, job="health.scores", status=JobRun.Status.FAILED, error="bravo secret failure")
    with tenant_context(tenant_b):
        UsageBatch.objects.create(batch_id="b-secret", digest="x", events=777777, received_at=timezone.now())
    client.force_login(owner)
    ops = client.get(OPS_URL)
    assert ops.context["unowned"] == 0 and ops.context["no_email"]["total"] == 0 and ops.context["failures"] == 0
    assert ops.context["sources"][0].last_at is None
    client.force_login(executive)
    headlines = client.get(EXEC_URL)
    assert headlines.context["mix"]["total_arr"] == 0
    for page in (ops, headlines):
        content = page.content.decode()
        assert "Bravo" not in content and "bravo" not in content and "777,777" not in content
        assert "999,000" not in content


# --- query counts --------------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_counts_do_not_grow_with_the_rows(client, tenant_a, owner, executive, csm):
    def some_rows(n):
        now = timezone.now()
        for i in range(n):
            account = AccountFactory(tenant=tenant_a, csm=None if i % 2 else csm)
            contract(account, start=TODAY - timedelta(days=100), arr=str(1000 + i))
            score(account, ("red", "yellow", "green")[i % 3])
            ContactFactory(tenant=tenant_a, account=account, email="")
            JobRunFactory(tenant=tenant_a, job="health.scores", status=JobRun.Status.FAILED,
                          started_at=now - timedelta(hours=i))
            JobRunFactory(tenant=tenant_a, job="import.accounts", started_at=now - timedelta(hours=i))
            SupportTicketFactory(tenant=tenant_a, account=account)
            SurveyResponseFactory(tenant=tenant_a, account=account)

    some_rows(1)
    client.force_login(owner)
    ops_few = _queries(client, OPS_URL)
    client.force_login(executive)
    exec_few = _queries(client, EXEC_URL)
    some_rows(8)
    client.force_login(owner)
    assert _queries(client, OPS_URL) == ops_few
    client.force_login(executive)
    assert _queries(client, EXEC_URL) == exec_few
