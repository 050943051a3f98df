"""The compensation pages for every role: a CSM sees their own statements only (another's id answers 404, like
an absent one), managers see the team and approve drafts once, executives see totals only, ops edits
assignments and generates; another tenant's ids are not found. CSV content and a team page whose query count
does not grow with the number of CSMs or lines."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compensation import services
from compensation.models import CompAssignment, CompStatement
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals import services as renewals
from renewals.periods import month_start
from tests.api import member, reload
from tests.factories import AccountFactory, MembershipFactory

TODAY = timezone.localdate()
THIS_MONTH = month_start(TODAY)
BASE = "/t/alpha/compensation/"


@pytest.fixture
def executive(tenant_a):
    return member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")


def assign(tenant, plan, user, base="48000"):
    with tenant_context(tenant):
        return services.comp_assign(plan=plan, csm=user, annual_base=Decimal(base))


def won_expansion(tenant, csm, amount="10000", product="Analytics add-on"):
    account = AccountFactory(tenant=tenant, csm=csm, name=f"{product} Corp")
    with tenant_context(tenant):
        found = renewals.expansion_flag(account=account, by=csm, product=product, amount=Decimal(amount),
                                        expected_close=THIS_MONTH)
        renewals.expansion_move(expansion=found, stage="won", closed_on=THIS_MONTH)
    return account, found


def generate(tenant, assignment, month=THIS_MONTH):
    with tenant_context(tenant):
        return services.statement_generate(assignment=assignment, month=month)


@pytest.fixture
def statements(tenant_a, plan, csm, other_csm):
    """Chris: this month, base 48,000 (4,000.00) + 2.5% of a 10,000 expansion (250.00). Olive: base only."""
    account, expansion = won_expansion(tenant_a, csm)
    mine = generate(tenant_a, assign(tenant_a, plan, csm))
    theirs = generate(tenant_a, assign(tenant_a, plan, other_csm, "42000"))
    return {"mine": mine, "theirs": theirs, "account": account, "expansion": expansion}


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# --- My compensation ------------------------------------------------------------------------------


def test_it_shows_a_csm_this_months_statement_with_links_to_the_records_and_progress(client, csm, statements):
    client.force_login(csm)
    page = client.get(BASE).content.decode()
    assert "Analytics add-on Corp" in page and "250.00" in page and "4,000.00" in page
    assert f'/t/alpha/accounts/{statements["account"].pk}/' in page  # the line links to the source's account
    assert "1 of 36" in page  # the expansion counts toward the quota
    assert "0 approved documents this year; 0 of 4 toward the next 50" in page
    assert f'statements/{statements["mine"].pk}/' in page and "Olive" not in page


def test_it_previews_this_month_before_the_nightly_run(client, tenant_a, plan, csm):
    assign(tenant_a, plan, csm)
    client.force_login(csm)
    page = client.get(BASE).content.decode()
    assert 'id="preview-note"' in page and "4,000.00" in page


def test_it_tells_a_member_without_a_plan_and_sends_leads_to_the_team(client, teammate, manager, executive):
    client.force_login(teammate)
    assert 'id="no-plan"' in client.get(BASE).content.decode()
    for lead in (manager, executive):
        client.force_login(lead)
        assert client.get(BASE)["Location"] == f"{BASE}team/"


def test_it_answers_404_for_another_csms_statement_as_for_an_absent_one(client, csm, statements):
    client.force_login(csm)
    theirs = statements["theirs"].pk
    for url in (f"{BASE}statements/{theirs}/", f"{BASE}statements/{theirs}/csv/", f"{BASE}statements/999999/"):
        assert client.get(url).status_code == 404
    assert client.get(f"{BASE}statements/{statements['mine'].pk}/").status_code == 200


def test_it_exports_a_statement_as_csv_line_by_line(client, csm, statements):
    client.force_login(csm)
    response = client.get(f"{BASE}statements/{statements['mine'].pk}/csv/")
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert [(r["rule"], r["amount"], r["source_type"], r["source_id"]) for r in rows] == [
        ("Base salary", "4000.00", "", ""),
        ("New-business commission", "250.00", "renewals.expansionopportunity", str(statements["expansion"].pk))]
    assert {r["csm_email"] for r in rows} == {"csm@alpha.test"} and rows[0]["period"] == f"{THIS_MONTH:%Y-%m}"


def test_it_does_not_let_a_csm_see_the_team_approve_or_manage(client, csm, statements):
    client.force_login(csm)
    assert client.get(f"{BASE}team/").status_code == 403
    assert client.get(f"{BASE}team/csv/").status_code == 403
    assert client.get(f"{BASE}plans/").status_code == 403
    assert client.post(f"{BASE}statements/{statements['mine'].pk}/approve/").status_code == 403
    assert reload(statements["mine"], statements["mine"].tenant).status == "draft"


# --- Team compensation ----------------------------------------------------------------------------


def test_it_shows_a_manager_the_team_with_totals_and_links(client, manager, statements):
    client.force_login(manager)
    page = client.get(f"{BASE}team/").content.decode()
    assert "Chris Carter" in page and "Olive Other" in page and "4,250.00" in page and "3,500.00" in page
    assert "2 to approve" in page and f'statements/{statements["theirs"].pk}/' in page
    detail = client.get(f"{BASE}statements/{statements['theirs'].pk}/")
    assert detail.status_code == 200 and "Approve and lock" in detail.content.decode()


def test_it_lets_a_manager_approve_a_draft_once(client, manager, tenant_a, statements):
    client.force_login(manager)
    url = f"{BASE}statements/{statements['mine'].pk}/approve/"
    first = client.post(url, follow=True)
    assert "approved and locked" in first.content.decode()
    statement = reload(statements["mine"], tenant_a)
    assert (statement.status, statement.approved_by) == ("approved", manager)
    approved_at = statement.approved_at
    again = client.post(url, follow=True).content.decode()
    assert "already approved by" in again
    assert reload(statement, tenant_a).approved_at == approved_at
    page = client.get(f"{BASE}statements/{statement.pk}/").content.decode()
    assert "approved by" in page and "Approve and lock" not in page


def test_it_shows_executives_totals_only(client, executive, statements):
    client.force_login(executive)
    page = client.get(f"{BASE}team/").content.decode()
    assert "4,250.00" in page and 'id="totals-only"' in page
    table = page.split('id="team-statements"')[1].split("</table>")[0]
    assert "statements/" not in table and "<form" not in table
    assert client.get(f"{BASE}statements/{statements['mine'].pk}/").status_code == 404
    rows = csv_rows(client.get(f"{BASE}team/csv/"))
    assert {(r["csm_email"], r["total"]) for r in rows} == {("csm@alpha.test", "4250.00"),
                                                            ("other@alpha.test", "3500.00")}
    assert "rule" not in rows[0]


def test_it_exports_the_team_month_with_every_line(client, manager, statements):
    client.force_login(manager)
    rows = csv_rows(client.get(f"{BASE}team/csv/", {"month": f"{THIS_MONTH:%Y-%m}"}))
    assert sorted((r["csm_email"], r["rule"], r["amount"]) for r in rows) == [
        ("csm@alpha.test", "Base salary", "4000.00"), ("csm@alpha.test", "New-business commission", "250.00"),
        ("other@alpha.test", "Base salary", "3500.00")]
    previous = THIS_MONTH - timedelta(days=1)
    assert csv_rows(client.get(f"{BASE}team/csv/", {"month": f"{previous:%Y-%m}"})) == []


def test_it_filters_the_team_by_manager(client, tenant_a, plan, manager, statements):
    lone_manager = member(tenant_a, Role.MANAGER, "lone@alpha.test")
    stray = MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=lone_manager,
                              user__email="stray@alpha.test", user__full_name="Stray Person").user
    generate(tenant_a, assign(tenant_a, plan, stray))
    client.force_login(manager)
    page = client.get(f"{BASE}team/", {"team": manager.pk}).content.decode()
    assert "Chris Carter" in page and "Stray Person" not in page


def _team_queries(client, manager):
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{BASE}team/").status_code == 200
    return len(queries)


def test_it_reads_the_team_page_in_the_same_number_of_queries_for_2_or_12_csms(client, tenant_a, plan, manager,
                                                                               statements):
    few = _team_queries(client, manager)
    for n in range(10):
        user = MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=manager,
                                 user__email=f"more{n}@alpha.test").user
        won_expansion(tenant_a, user, product=f"Extra {n}")
        generate(tenant_a, assign(tenant_a, plan, user))
    assert _team_queries(client, manager) == few


# --- Ops: plans and assignments ---------------------------------------------------------------------


def test_it_shows_ops_the_plans_with_rules_and_assignments(client, owner, statements):
    client.force_login(owner)
    page = client.get(f"{BASE}plans/").content.decode()
    assert "Opportunity quota bonus" in page and "1,500.00" in page and "0.025" in page
    assert "Chris Carter" in page and "48,000.00" in page


def test_it_puts_a_csm_on_a_plan_and_refuses_a_base_out_of_range_with_field_errors(client, owner, tenant_a, plan,
                                                                                     csm):
    client.force_login(owner)
    bad = client.post(f"{BASE}plans/assignments/new/", {"plan": plan.pk, "csm": csm.pk, "annual_base": "60000"})
    assert bad.status_code == 400 and "base range is 40,000.00 to 50,000.00" in bad.content.decode()
    with tenant_context(tenant_a):
        assert not CompAssignment.objects.exists()
    good = client.post(f"{BASE}plans/assignments/new/", {"plan": plan.pk, "csm": csm.pk, "annual_base": "45000"})
    assert good.status_code == 302
    with tenant_context(tenant_a):
        assignment = CompAssignment.objects.get()
    assert assignment.annual_base == Decimal("45000")
    edit = client.post(f"{BASE}plans/assignments/{assignment.pk}/",
                       {"annual_base": "46000", "starts_on": str(assignment.starts_on),
                        "ends_on": str(assignment.starts_on - timedelta(days=1))})
    assert edit.status_code == 400 and "cannot end before it starts" in edit.content.decode()
    client.post(f"{BASE}plans/assignments/{assignment.pk}/", {"annual_base": "46000"})
    assert reload(assignment, tenant_a).annual_base == Decimal("46000")


def test_it_generates_this_months_statements_on_demand(client, owner, tenant_a, plan, csm):
    assign(tenant_a, plan, csm)
    client.force_login(owner)
    page = client.post(f"{BASE}plans/generate/", follow=True).content.decode()
    assert "1 draft statement(s)" in page
    with tenant_context(tenant_a):
        assert CompStatement.objects.get().period_start == THIS_MONTH


def test_it_keeps_managers_and_executives_out_of_plans(client, manager, executive):
    for user in (manager, executive):
        client.force_login(user)
        assert client.get(f"{BASE}plans/").status_code == 403
        assert client.post(f"{BASE}plans/generate/").status_code == 403


# --- Another tenant -------------------------------------------------------------------------------


def test_it_answers_404_to_another_tenants_member(client, outsider, statements):
    client.force_login(outsider)
    assert client.get(BASE).status_code == 404
    assert client.get(f"/t/bravo/compensation/statements/{statements['mine'].pk}/").status_code == 404
    assert client.post(f"/t/bravo/compensation/statements/{statements['mine'].pk}/approve/").status_code == 403
    with tenant_context(statements["mine"].tenant):
        assignment = CompAssignment.objects.first()
    assert client.post(f"/t/bravo/compensation/plans/assignments/{assignment.pk}/",
                       {"annual_base": "41000"}).status_code == 404


def test_it_shows_a_csm_the_year_end_gates_with_the_clients_that_fail_them(client, tenant_a, csm, statements):
    client.force_login(csm)
    page = client.get(BASE).content.decode()
    assert 'id="gate-case_study"' in page and "No completed case study" in page
    gate = page.split('id="gate-approved_goals"')[1].split("</li>")[0]
    assert "Failing" in gate and "Analytics add-on Corp" in gate
