"""The Renewals section of the Account 360 page: ARR today, contracts, 24 months of ARR history, the open and past
renewals with the probability, expansions with "Flag an expansion" and stage moves, permissions, query count."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.models import HealthScore
from renewals.models import ChurnReason, Contract, ExpansionOpportunity, RenewalOpportunity
from renewals.selectors import add_months, arr_history, month_end
from renewals.services import expansion_flag, renewal_close, renewals_open_due
from tests.api import member, reload

from .conftest import TODAY, contract

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def panel(html: str) -> str:
    start = html.index('id="renewals-panel"')
    return text(html[start:html.index("</section>", start)])


def page(client, account):
    response = client.get(f"/t/alpha/accounts/{account.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def flag_url(account, slug="alpha"):
    return f"/t/{slug}/renewals/account/{account.pk}/expansions/flag/"


def move_url(account, expansion, slug="alpha"):
    return f"/t/{slug}/renewals/account/{account.pk}/expansions/{expansion.pk}/move/"


def expansions(tenant):
    with tenant_context(tenant):
        return list(ExpansionOpportunity.objects.order_by("pk"))


@pytest.fixture
def executive(tenant_a):
    return member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")


@pytest.fixture
def history(tenant_a, account, csm):
    """A first year churned down at renewal, the second year open with its renewal, a red health score."""
    first = contract(account, start=TODAY - timedelta(days=400), end=TODAY - timedelta(days=36), arr="12000",
                     external_id="C-1", name="2024 subscription")
    with tenant_context(tenant_a):
        renewals_open_due(day=TODAY - timedelta(days=60))
        reason = ChurnReason.objects.get(name="Fewer seats needed")
        renewal_close(renewal=RenewalOpportunity.objects.get(contract=first), outcome="downsell",
                      renewed_arr=Decimal("9000"), reason=reason, reason_comment="Smaller team",
                      closed_on=TODAY - timedelta(days=40))
        renewals_open_due(day=TODAY + timedelta(days=300))  # the renewal of the second term is open now
        renewal = RenewalOpportunity.objects.get(stage="not_started")
        RenewalOpportunity.objects.filter(pk=renewal.pk).update(category="best_case", stage="proposal")
        HealthScore.objects.create(account=account, day=TODAY, band="red", score=20, components=[],
                                   computed_at=timezone.now())
    return first


def test_it_shows_arr_contracts_history_and_renewals(client, tenant_a, account, csm, history):
    client.force_login(csm)
    section = panel(page(client, account))
    assert "9,000 USD ARR today" in section
    assert "2024 subscription" in section and "C-1" in section
    assert "Platform: 1 × 12,000 = 12,000" in section and "Renewal of 2024 subscription" in section
    # ARR history: 12,000 before the renewal, 9,000 after; the table has 24 month ends.
    assert "to 9,000 on" in section and "highest 12,000" in section
    html = page(client, account)
    table = html[html.index('class="arr-history"'):]
    assert table[:table.index("</table>")].count("<tr>") == 25  # header + 24 months
    # The open renewal with its probability: best case 65 + proposal 5 + red -20 = 50%.
    assert "Best case" in section and "Proposal" in section and "50%" in section and "red" in section
    # The past renewal with its outcome and reason.
    assert "Downsell" in section and "Fewer seats needed" in section and "Smaller team" in section


def test_arr_history_takes_each_month_end_and_today(tenant_a, account):
    start = add_months(TODAY, -5)
    signed = contract(account, start=start, end=start + timedelta(days=364), arr="6000")
    cancelled = contract(account, start=add_months(TODAY, -3), end=TODAY + timedelta(days=200), arr="1000",
                         status=Contract.Status.CANCELLED, cancelled_on=add_months(TODAY, -1))
    points = arr_history(contracts=[signed, cancelled], today=TODAY, months=24)
    assert len(points) == 24 and points[-1]["day"] == TODAY
    assert points[-7]["day"] == month_end(add_months(TODAY, -6)) and points[-7]["arr"] == 0
    assert points[-6]["arr"] == Decimal("6000")  # from the month the contract started
    assert points[-3]["arr"] == Decimal("7000")  # both count
    assert points[-2]["arr"] == Decimal("6000")  # the cancelled one stopped counting
    assert points[0]["day"] == month_end(add_months(TODAY, -23))


def test_an_account_without_contracts_says_so(client, account, csm):
    client.force_login(csm)
    section = panel(page(client, account))
    assert "0 USD ARR today" in section and "No contracts yet" in section and "No open renewal." in section


def test_the_accounts_csm_flags_an_expansion_in_a_few_seconds(client, tenant_a, account, csm):
    client.force_login(csm)
    html = page(client, account)
    expected = (TODAY + timedelta(days=60)).isoformat()
    assert "Flag an expansion" in html and f'value="{expected}"' in html  # expected close defaults to +60 days
    response = client.post(flag_url(account), {"product": " Analytics add-on ", "kind": "cross_sell",
                                               "amount": "4800", "expected_close": expected}, **HTMX)
    assert response.status_code == 200
    section = panel(response.content.decode())
    assert "Expansion flagged: Analytics add-on (cross-sell)." in section
    assert "Analytics add-on · Cross-sell · 4,800 ARR · identified" in section and "found by Chris Carter" in section
    [flagged] = expansions(tenant_a)
    assert (flagged.product, flagged.amount, flagged.lead_source_id, flagged.owner_id, str(flagged.expected_close)) == (
        "Analytics add-on", Decimal("4800.00"), csm.pk, csm.pk, expected)

    response = client.post(flag_url(account), {"product": "Seats", "amount": "100",
                                               "expected_close": expected, "kind": "upsell"})  # without HTMX
    assert response.status_code == 302 and response["Location"] == f"/t/alpha/accounts/{account.pk}/"


def test_a_bad_flag_answers_400_with_field_errors_and_writes_nothing(client, tenant_a, account, csm):
    client.force_login(csm)
    response = client.post(flag_url(account), {"product": "", "amount": "-3", "kind": "gift",
                                               "expected_close": "soon"}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html and "Ensure this value is greater than or equal to 0." in html
    assert "Select a valid choice." in html and "Enter a valid date." in html
    response = client.post(flag_url(account), {"amount": "5"})  # the full page without HTMX
    assert response.status_code == 400 and "Initech" in response.content.decode()
    assert expansions(tenant_a) == []


def test_moving_an_expansion_to_won_adds_its_arr(client, tenant_a, account, csm):
    contract(account, start=TODAY - timedelta(days=100), end=TODAY + timedelta(days=265), arr="10000")
    with tenant_context(tenant_a):
        flagged = expansion_flag(account=account, by=csm, product="Seats", amount=Decimal("2000"),
                                 expected_close=TODAY)
    client.force_login(csm)
    response = client.post(move_url(account, flagged), {"stage": "won"}, **HTMX)
    assert response.status_code == 200
    section = panel(response.content.decode())
    assert "Seats won: its ARR is added as a contract." in section and "12,000 USD ARR today" in section
    assert reload(flagged, tenant_a).closed_on == TODAY
    response = client.post(move_url(account, flagged), {"stage": "lost"}, **HTMX)  # closed: no second move
    assert response.status_code == 400 and "This expansion is closed." in response.content.decode()
    response = client.post(move_url(account, flagged), {"stage": "sold"}, **HTMX)
    assert response.status_code == 400
    assert reload(flagged, tenant_a).stage == "won"


def test_who_may_flag_and_move(client, tenant_a, account, csm, other_csm, manager, executive, owner):
    with tenant_context(tenant_a):
        flagged = expansion_flag(account=account, by=csm, product="Seats", amount=Decimal("1"), expected_close=TODAY)
    data = {"product": "X", "amount": "1", "kind": "upsell", "expected_close": TODAY.isoformat()}
    for user in (other_csm, executive):
        client.force_login(user)
        assert "Flag an expansion" not in page(client, account)
        assert client.post(flag_url(account), data, **HTMX).status_code == 403
        assert client.post(move_url(account, flagged), {"stage": "lost"}, **HTMX).status_code == 403
    assert len(expansions(tenant_a)) == 1
    for user in (manager, owner):
        client.force_login(user)
        assert client.post(flag_url(account), data, **HTMX).status_code == 200
    tenant_a.csms_edit_all_accounts = True
    tenant_a.save()
    client.force_login(other_csm)  # the tenant lets CSMs work on every account
    assert client.post(flag_url(account), data, **HTMX).status_code == 200
    assert len(expansions(tenant_a)) == 4


def test_another_tenants_account_and_expansion_are_not_found(client, tenant_a, account, csm, outsider,
                                                             foreign_account):
    with tenant_context(tenant_a):
        flagged = expansion_flag(account=account, by=csm, product="Seats", amount=Decimal("1"), expected_close=TODAY)
    data = {"product": "X", "amount": "1", "kind": "upsell", "expected_close": TODAY.isoformat()}
    client.force_login(outsider)
    assert client.post(flag_url(account), data).status_code == 404
    assert client.post(flag_url(account, "bravo"), data, **HTMX).status_code == 404
    assert client.post(move_url(account, flagged, "bravo"), {"stage": "won"}, **HTMX).status_code == 404
    # An expansion of tenant A under an account of tenant B is not found either.
    assert client.post(move_url(foreign_account, flagged, "bravo"), {"stage": "won"}, **HTMX).status_code == 404
    assert reload(flagged, tenant_a).stage == "identified"


def test_the_panel_query_count_does_not_grow_with_the_history(client, tenant_a, account, csm):
    def panel_queries():
        client.force_login(csm)
        with CaptureQueriesContext(connection) as queries:
            page(client, account)
        return len(queries)

    contract(account, start=date(TODAY.year - 1, 1, 1), end=date(TODAY.year - 1, 12, 31))
    with tenant_context(tenant_a):
        expansion_flag(account=account, by=csm, product="Seats", amount=Decimal("1"), expected_close=TODAY)
    few = panel_queries()
    for year in range(2, 6):
        contract(account, start=date(TODAY.year - year, 1, 1), end=date(TODAY.year - year, 12, 31))
    with tenant_context(tenant_a):
        for i in range(8):
            expansion_flag(account=account, by=csm, product=f"P{i}", amount=Decimal("1"), expected_close=TODAY)
    assert panel_queries() == few
