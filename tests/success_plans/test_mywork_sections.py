"""My work's Monday-morning sections: at-risk accounts (from health), renewals in the next 90 days (from renewals)
and the activity logged this week against the usual; each with an empty state that says what to do next, for one
person or a manager's team, at a query count that does not grow with the rows."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.models import HealthScore
from renewals.models import Contract, RenewalOpportunity
from tests.api import member
from tests.factories import AccountFactory, ActivityFactory, MembershipFactory
from tests.html import block

URL = "/t/alpha/plans/my-work/"
TODAY = timezone.localdate()
MONDAY = TODAY - timedelta(days=TODAY.weekday())
D = Decimal


@pytest.fixture
def other_csm(tenant_a):
    """A CSM of tenant A in nobody's team."""
    return MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="other@alpha.test",
                             user__full_name="Olga Other").user


def section(response, name):
    return next((s for s in response.context["sections"] if s["name"] == name), None)


def score(account, band, *, value, change_7d=None, day=TODAY):
    with tenant_context(account.tenant):
        return HealthScore.objects.create(account=account, day=day, band=band, score=value, change_7d=change_7d,
                                          computed_at=timezone.now())


def renewal(account, *, close, arr="12000", stage="engaged", category="commit", owner=None, closed=False):
    with tenant_context(account.tenant):
        contract = Contract.objects.create(account=account, start_date=close - timedelta(days=364), end_date=close,
                                           arr=D(arr))
        fields = {"stage": "closed", "outcome": "renewed_flat", "closed_on": TODAY, "renewed_arr": D(arr)} if closed \
            else {"stage": stage}
        return RenewalOpportunity.objects.create(account=account, contract=contract, owner=owner or account.csm,
                                                 category=category, current_arr=D(arr), expected_arr=D(arr),
                                                 close_date=close, **fields)


def logged(account, user, *, at, minutes=30):
    return ActivityFactory(tenant=account.tenant, account=account, logged_by=user, occurred_at=at,
                           minutes_spent=minutes)


def at_local(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


# --- at-risk accounts -----------------------------------------------------------------------------------------


def test_it_lists_my_red_accounts_and_amber_ones_falling(client, tenant_a, csm, other_csm):
    red = AccountFactory(tenant=tenant_a, csm=csm, name="Red Co")
    falling = AccountFactory(tenant=tenant_a, csm=csm, name="Falling Co")
    rising = AccountFactory(tenant=tenant_a, csm=csm, name="Rising Co")
    green = AccountFactory(tenant=tenant_a, csm=csm, name="Green Co")
    theirs = AccountFactory(tenant=tenant_a, csm=other_csm, name="Their Red Co")
    yesterday_red = AccountFactory(tenant=tenant_a, csm=csm, name="Recovered Co")
    score(red, "red", value=22, change_7d=D("-3"))
    score(falling, "yellow", value=55, change_7d=D("-6.5"))
    score(rising, "yellow", value=50, change_7d=D("4"))
    score(green, "green", value=90, change_7d=D("-1"))
    score(theirs, "red", value=10)
    score(yesterday_red, "red", value=30, day=TODAY - timedelta(days=1))
    score(yesterday_red, "green", value=75)
    client.force_login(csm)
    response = client.get(URL)
    at_risk = section(response, "at_risk")
    assert [s.account.name for s in at_risk["rows"]] == ["Red Co", "Falling Co"]
    assert (at_risk["red"], at_risk["amber"]) == (1, 1)
    assert block(response, f"at-risk-{red.pk}") == "Red Co Red 22 -3.0 See why, and log a call"
    assert block(response, f"at-risk-{falling.pk}") == "Falling Co Amber 55 -6.5 See why, and log a call"
    assert 'href="/t/alpha/health/?csm=me"' in response.content.decode()


def test_the_at_risk_section_says_what_to_do_when_nothing_is_at_risk(client, tenant_a, csm):
    client.force_login(csm)
    assert "No health scores yet" in block(client.get(URL), "mywork-at-risk")
    score(AccountFactory(tenant=tenant_a, csm=csm), "green", value=88)
    empty = block(client.get(URL), "mywork-at-risk")
    assert "No account is red or slipping" in empty and "check the biggest drops this week" in empty


# --- renewals -------------------------------------------------------------------------------------------------


def test_it_lists_my_renewals_of_the_next_90_days(client, tenant_a, csm, other_csm):
    mine = AccountFactory(tenant=tenant_a, csm=csm, name="Initech")
    score(mine, "yellow", value=50, change_7d=D("2"))
    soon = renewal(mine, close=TODAY + timedelta(days=30), arr="24000", stage="proposal", category="best_case")
    late = renewal(AccountFactory(tenant=tenant_a, csm=csm, name="Overdue Co"), close=TODAY - timedelta(days=3))
    renewal(AccountFactory(tenant=tenant_a, csm=csm, name="Later Co"), close=TODAY + timedelta(days=91))
    renewal(AccountFactory(tenant=tenant_a, csm=csm, name="Closed Co"), close=TODAY + timedelta(days=5), closed=True)
    renewal(AccountFactory(tenant=tenant_a, csm=other_csm, name="Their Co"), close=TODAY + timedelta(days=5))
    client.force_login(csm)
    response = client.get(URL)
    due = section(response, "renewals")
    assert [r.pk for r in due["rows"]] == [late.pk, soon.pk]
    assert (due["total"], due["arr"], due["overdue"]) == (2, D("36000"), 1)
    assert block(response, f"renewal-due-{soon.pk}") == (
        f"Initech {soon.close_date:%Y-%m-%d} 24,000 USD Proposal Best case Amber")
    assert "overdue" in block(response, f"renewal-due-{late.pk}")
    assert 'href="/t/alpha/renewals/?csm=me"' in response.content.decode()


def test_the_renewals_section_says_what_to_do_when_none_is_due(client, tenant_a, csm):
    client.force_login(csm)
    empty = block(client.get(URL), "mywork-renewals")
    assert "No renewal closes in the next 90 days" in empty and "look further ahead on the renewals board" in empty


# --- activity this week -------------------------------------------------------------------------------------


def test_it_compares_this_weeks_activity_with_the_usual(client, tenant_a, csm, other_csm):
    account = AccountFactory(tenant=tenant_a, csm=csm)
    logged(account, csm, at=at_local(MONDAY, 0) + timedelta(minutes=1), minutes=45)  # this week
    logged(account, csm, at=at_local(MONDAY) - timedelta(days=7), minutes=60)  # the 8 weeks before: 16 activities
    for week in range(1, 9):
        logged(account, csm, at=at_local(MONDAY - timedelta(weeks=week)), minutes=20)
    for week in range(1, 8):
        logged(account, csm, at=at_local(MONDAY - timedelta(weeks=week), 15), minutes=0)
    logged(account, csm, at=at_local(MONDAY - timedelta(weeks=9)), minutes=500)  # before the window
    logged(account, other_csm, at=at_local(MONDAY), minutes=500)  # someone else's
    client.force_login(csm)
    response = client.get(URL)
    pace = response.context["pace"]
    assert (pace["count"], pace["minutes"]) == (1, 45)
    assert (pace["usual"], pace["usual_minutes"]) == (D("2.0"), D("27.5"))  # 16 and 220 over 8 weeks
    assert block(response, "activity-count") == "1 activity"
    assert block(response, "activity-usual") == "2 activities and 28 minutes"


def test_the_activity_section_says_what_to_do_when_nothing_was_logged(client, tenant_a, csm):
    client.force_login(csm)
    empty = block(client.get(URL), "mywork-activity")
    assert "No call, email, meeting or note logged in the last 9 weeks" in empty
    assert 'href="/t/alpha/accounts/?csm=me"' in client.get(URL).content.decode()


# --- who sees what ---------------------------------------------------------------------------------------------


def test_a_manager_sees_the_teams_sections(client, tenant_a, manager, csm, other_csm):
    team_account = AccountFactory(tenant=tenant_a, csm=csm, name="Team Co")
    outside = AccountFactory(tenant=tenant_a, csm=other_csm, name="Outside Co")
    for account in (team_account, outside):
        score(account, "red", value=15)
        renewal(account, close=TODAY + timedelta(days=10))
        logged(account, account.csm, at=timezone.now())
    client.force_login(manager)
    response = client.get(f"{URL}?user=team")
    assert [s.account.name for s in section(response, "at_risk")["rows"]] == ["Team Co"]
    assert [r.account.name for r in section(response, "renewals")["rows"]] == ["Team Co"]
    assert response.context["pace"]["count"] == 1
    assert "Chris Carter" in block(response, f"at-risk-{team_account.pk}")  # the CSM column of the team view


def test_ops_looking_at_their_own_work_see_no_book_sections(client, tenant_a, owner):
    client.force_login(owner)
    response = client.get(URL)
    assert response.status_code == 200
    assert section(response, "at_risk") is None and section(response, "renewals") is None
    assert response.context["pace"] is None


def test_another_tenants_rows_never_show(client, tenant_a, tenant_b, csm):
    outsider_csm = member(tenant_b, Role.CSM, "csm@bravo.test")
    secret = AccountFactory(tenant=tenant_b, csm=outsider_csm, name="Bravo Secret Customer")
    score(secret, "red", value=5)
    renewal(secret, close=TODAY + timedelta(days=3))
    client.force_login(csm)
    response = client.get(URL)
    assert "Bravo Secret" not in response.content.decode()
    assert section(response, "at_risk")["total"] == 0 and section(response, "renewals")["total"] == 0


def test_the_query_count_does_not_grow_with_the_sections_rows(client, tenant_a, csm, manager):
    def some_rows(n):
        for i in range(n):
            account = AccountFactory(tenant=tenant_a, csm=csm)
            score(account, ("red", "yellow")[i % 2], value=20 + i, change_7d=D("-2"))
            renewal(account, close=TODAY + timedelta(days=5 + i))
            logged(account, csm, at=timezone.now() - timedelta(days=3 * i))

    some_rows(1)
    counts = {}
    for who, url in ((csm, URL), (manager, f"{URL}?user=team")):
        client.force_login(who)
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        counts[url] = len(few)
    some_rows(7)
    for who, url in ((csm, URL), (manager, f"{URL}?user=team")):
        client.force_login(who)
        with CaptureQueriesContext(connection) as many:
            response = client.get(url)
        assert len(section(response, "at_risk")["rows"]) == 8 and len(section(response, "renewals")["rows"]) == 8
        assert len(many) == counts[url], url
