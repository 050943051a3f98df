"""The renewals board: open renewals by month with totals and health bands, filters, inline edits and closing,
who may do what, and a query count that does not grow with the number of renewals."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.models import HealthScore
from renewals.models import ChurnReason, Contract, RenewalOpportunity
from renewals.selectors import add_months
from renewals.services import renewals_open_due
from tests.api import member, reload
from tests.factories import AccountFactory, SegmentFactory

from .conftest import TODAY, contract

URL = "/t/alpha/renewals/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def open_renewal(account, *, ends_in=30, arr="12000"):
    """A contract ending in `ends_in` days and its renewal, opened as the nightly job does."""
    end = TODAY + timedelta(days=ends_in)
    signed = contract(account, start=end - timedelta(days=364), end=end, arr=arr)
    with tenant_context(account.tenant):
        renewals_open_due(day=TODAY)
        return RenewalOpportunity.objects.get(contract=signed)


def band(account, value, day=TODAY):
    with tenant_context(account.tenant):
        HealthScore.objects.create(account=account, day=day, band=value, score={"green": 85, "red": 20}.get(value),
                                   components=[], computed_at=timezone.now())


def reasons(tenant):
    with tenant_context(tenant):
        return {r.name: r for r in ChurnReason.objects.all()}


def edit_url(renewal, slug="alpha"):
    return f"/t/{slug}/renewals/{renewal.pk}/edit/"


def close_url(renewal, slug="alpha"):
    return f"/t/{slug}/renewals/{renewal.pk}/close/"


def edit_data(renewal, **changes):
    data = {"stage": renewal.stage, "category": renewal.category, "expected_arr": str(renewal.expected_arr),
            "close_date": renewal.close_date.isoformat()}
    return {**data, **changes}


@pytest.fixture
def executive(tenant_a):
    return member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")


@pytest.fixture
def renewal(account):
    return open_renewal(account)


def test_it_groups_open_renewals_by_month_with_totals_band_and_owner(client, tenant_a, account, csm, other_csm):
    other = AccountFactory(tenant=tenant_a, csm=other_csm, name="Globex")
    first = open_renewal(account, ends_in=20, arr="12000")
    open_renewal(other, ends_in=80, arr="30000")
    late = AccountFactory(tenant=tenant_a, csm=csm, name="Hooli")
    open_renewal(late, ends_in=-10, arr="5000")
    band(account, "red")
    band(other, "green", day=TODAY - timedelta(days=2))  # the latest score, even if not today's
    client.force_login(csm)
    response = client.get(URL, {"csm": ""})
    assert response.status_code == 200
    page = text(response.content.decode())
    first_month = first.close_date.strftime("%B %Y")
    assert "Overdue 1 renewal · 5,000 up" in page
    assert f"{first_month} " in page and "Initech" in page and "Globex" in page
    assert "Red" in page and "Green" in page and "No data" in page  # Hooli has no score
    assert "Chris Carter" in page  # the owner is the account's CSM when the renewal opened
    assert f'href="/t/alpha/accounts/{account.pk}/"' in response.content.decode()
    totals = text(re.search(r'<table id="renewal-totals">.*?</table>', response.content.decode(), re.S).group(0))
    assert "All 3 47,000 47,000" in totals
    assert totals.index("Overdue") < totals.index(first_month)


def test_a_csm_starts_on_their_own_renewals(client, tenant_a, account, csm, other_csm):
    open_renewal(account)
    open_renewal(AccountFactory(tenant=tenant_a, csm=other_csm, name="Globex"))
    client.force_login(csm)
    page = client.get(URL).content.decode()
    assert "Initech" in page and "Globex" not in page
    assert "Globex" in client.get(URL, {"csm": ""}).content.decode()


def test_it_filters_by_segment_category_and_month_range(client, tenant_a, account, owner):
    enterprise = SegmentFactory(tenant=tenant_a, name="Enterprise")
    big = AccountFactory(tenant=tenant_a, name="Massive Dynamic", segment=enterprise)
    near = open_renewal(account, ends_in=10)
    far = open_renewal(big, ends_in=100)
    with tenant_context(tenant_a):
        RenewalOpportunity.objects.filter(pk=far.pk).update(category="commit")
    client.force_login(owner)
    assert "Initech" not in client.get(URL, {"segment": enterprise.pk}).content.decode()
    page = client.get(URL, {"category": "commit"}).content.decode()
    assert "Massive Dynamic" in page and "Initech" not in page
    month = add_months(far.close_date, 0).strftime("%Y-%m")
    page = client.get(URL, {"month_from": month, "month_to": month}).content.decode()
    assert "Massive Dynamic" in page and "Initech" not in page
    assert near.close_date < far.close_date


def test_bad_filters_answer_400_and_list_nothing(client, account, owner):
    open_renewal(account)
    client.force_login(owner)
    response = client.get(URL, {"month_from": "2025-13", "category": "maybe"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a month as YYYY-MM." in page and "Initech" not in page


def test_the_accounts_csm_edits_a_renewal_inline(client, tenant_a, renewal, csm):
    client.force_login(csm)
    close = TODAY + timedelta(days=45)
    response = client.post(edit_url(renewal), edit_data(renewal, stage="proposal", category="best_case",
                                                         expected_arr="13500.50", close_date=close.isoformat()), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'\n<tbody id="renewal-{renewal.pk}"') or f'<tbody id="renewal-{renewal.pk}"' in html
    assert "saved." in html and 'value="proposal" selected' in html and "13500.50" in html
    renewal = reload(renewal, tenant_a)
    assert (renewal.stage, renewal.category, renewal.expected_arr, renewal.close_date) == (
        "proposal", "best_case", Decimal("13500.50"), close)


def test_without_htmx_an_edit_goes_back_to_the_board_with_its_filters(client, tenant_a, renewal, csm):
    client.force_login(csm)
    response = client.post(edit_url(renewal), {**edit_data(renewal, category="commit"), "back": "csm=&category=commit"})
    assert response.status_code == 302 and response["Location"] == f"{URL}?csm=&category=commit"
    assert reload(renewal, tenant_a).category == "commit"


def test_a_bad_edit_answers_400_with_the_error_in_the_row_and_writes_nothing(client, tenant_a, renewal, csm):
    client.force_login(csm)
    response = client.post(edit_url(renewal), edit_data(renewal, stage="engaged", expected_arr="-5"), **HTMX)
    assert response.status_code == 400
    page = text(response.content.decode())
    assert "Not saved: Expected ARR: Ensure this value is greater than or equal to 0." in page
    response = client.post(edit_url(renewal), edit_data(renewal, stage="closed", close_date="someday"), **HTMX)
    assert response.status_code == 400
    page = text(response.content.decode())
    assert "Stage: Pick a stage." in page and "Close date: Enter a valid date." in page
    # Without HTMX: the board, with the row that was not saved on top.
    response = client.post(edit_url(renewal), edit_data(renewal, expected_arr="lots"))
    assert response.status_code == 400 and "Not saved" in response.content.decode()
    fresh = reload(renewal, tenant_a)
    assert (fresh.stage, fresh.expected_arr) == ("not_started", Decimal("12000.00"))


def test_a_closed_renewal_cannot_be_edited(client, tenant_a, renewal, csm):
    client.force_login(csm)
    assert client.post(close_url(renewal), {"outcome": "renewed_flat"}, **HTMX).status_code == 200
    response = client.post(edit_url(renewal), edit_data(renewal, category="commit"), **HTMX)
    assert response.status_code == 400 and "This renewal is closed" in response.content.decode()


def test_who_may_edit_a_renewal(client, tenant_a, renewal, csm, other_csm, manager, executive, owner, outsider):
    data = edit_data(renewal, category="commit")
    for user in (other_csm, executive):
        client.force_login(user)
        assert client.post(edit_url(renewal), data, **HTMX).status_code == 403
        assert client.post(close_url(renewal), {"outcome": "renewed_flat"}, **HTMX).status_code == 403
        page = client.get(URL, {"csm": ""}).content.decode()
        assert "Initech" in page and f'id="renewal-form-{renewal.pk}"' not in page  # read-only row
    assert reload(renewal, tenant_a).category == "pipeline"
    for user in (manager, owner):  # the CSM's manager, and ops
        client.force_login(user)
        assert client.post(edit_url(renewal), data, **HTMX).status_code == 200
    client.force_login(csm)
    assert f'id="renewal-form-{renewal.pk}"' in client.get(URL).content.decode()


def test_another_tenants_renewal_is_not_found(client, tenant_a, renewal, outsider):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    assert client.post(edit_url(renewal), edit_data(renewal)).status_code == 404
    for url in (edit_url(renewal, "bravo"), close_url(renewal, "bravo")):
        assert client.post(url, {**edit_data(renewal), "outcome": "renewed_flat"}, **HTMX).status_code == 404
    assert client.get("/t/bravo/renewals/").status_code == 200
    assert reload(renewal, tenant_a).is_open


def test_closing_a_downsell_records_outcome_reason_and_next_term(client, tenant_a, renewal, csm):
    reason = reasons(tenant_a)["Fewer seats needed"]
    client.force_login(csm)
    response = client.post(close_url(renewal), {"outcome": "downsell", "renewed_arr": "9000", "reason": reason.pk,
                                                "reason_comment": "Half the team left"}, **HTMX)
    assert response.status_code == 200
    page = text(response.content.decode())
    assert "closed: downsell." in page and "Closed: downsell, 9,000 renewed" in page
    renewal = reload(renewal, tenant_a)
    assert (renewal.outcome, renewal.renewed_arr, renewal.reason_id, renewal.reason_comment, renewal.closed_on) == (
        "downsell", Decimal("9000.00"), reason.pk, "Half the team left", TODAY)
    with tenant_context(tenant_a):
        assert Contract.objects.get(renewal_of=renewal.contract).arr == Decimal("9000.00")


def test_a_bad_close_answers_400_with_field_errors_and_writes_nothing(client, tenant_a, renewal, csm):
    listed = reasons(tenant_a)
    client.force_login(csm)
    cases = [
        ({"outcome": "churned"}, "Pick the churn reason."),
        ({"outcome": "churned", "reason": listed["Fewer seats needed"].pk},
         "Fewer seats needed is not a churn reason."),
        ({"outcome": "renewed_expansion", "renewed_arr": "100"}, "An expansion renews more than 12000"),
        ({"outcome": "downsell", "renewed_arr": "-1", "reason": listed["Price"].pk}, "Ensure this value is greater"),
        ({"outcome": ""}, "Pick an outcome."),
    ]
    for data, message in cases:
        response = client.post(close_url(renewal), data, **HTMX)
        assert response.status_code == 400, data
        html = response.content.decode()
        assert message in html and "Not closed" in html and "<details open>" in html
    with tenant_context(tenant_a):
        ChurnReason.objects.filter(name="Price").update(is_active=False)
    response = client.post(close_url(renewal), {"outcome": "downsell", "renewed_arr": "6000",
                                                "reason": listed["Price"].pk}, **HTMX)
    assert response.status_code == 400 and "Pick a reason from the list." in response.content.decode()
    assert reload(renewal, tenant_a).is_open
    with tenant_context(tenant_a):
        assert Contract.objects.count() == 1


def test_the_close_form_offers_the_active_reasons_with_what_they_apply_to(client, tenant_a, renewal, csm):
    with tenant_context(tenant_a):
        ChurnReason.objects.filter(name="Price").update(is_active=False)
    client.force_login(csm)
    html = client.get(URL).content.decode()
    assert 'data-applies-to="downsell"' in html and "Fewer seats needed (downsell only)" in html
    assert "Switched to a competitor (churn only)" in html and ">Price<" not in html


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CSM])
def test_the_board_query_count_does_not_grow_with_the_renewals(client, tenant_a, role):
    user = member(tenant_a, role, f"{role}-q@alpha.test")
    segment = SegmentFactory(tenant=tenant_a, name="SMB")

    def board_queries(total):
        with tenant_context(tenant_a):
            have = RenewalOpportunity.objects.count()
        for i in range(have, total):
            account = AccountFactory(tenant=tenant_a, csm=user, segment=segment)
            end = TODAY + timedelta(days=i % 110 - 5)  # some overdue, the others over four months
            contract(account, start=end - timedelta(days=364), end=end, arr=str(1000 + i))
            if i % 2:
                band(account, "green")
        with tenant_context(tenant_a):
            renewals_open_due(day=TODAY)
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"csm": ""})
        assert response.status_code == 200
        assert response.content.decode().count('class="renewal-row"') == total
        return len(queries)

    assert board_queries(20) == board_queries(200)
