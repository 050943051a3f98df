"""Every CSV export quotes the text cells a spreadsheet would run as a formula (=, +, -, @, tab, CR first), and
leaves numbers alone. The exports: a statement's lines (My compensation), a team's month of lines (managers,
ops) and of totals (executives), all written through csplatform.csv_safety.SafeWriter."""

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from compensation.models import CompPlan
from csplatform.csv_safety import safe_cell, safe_row
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals.periods import fiscal_quarter
from tests.api import member
from tests.compensation.test_pages import assign, generate, won_expansion
from tests.factories import MembershipFactory

BASE = "/t/alpha/compensation/"
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", " =1+1"]


def csv_rows(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("text", FORMULAS)
def test_it_quotes_a_text_cell_that_a_spreadsheet_would_run(text):
    assert safe_cell(text) == "'" + text


def test_it_leaves_plain_text_and_numbers_as_they_are():
    assert safe_row(["Acme", "a=b", "", None, Decimal("-250.00"), -3, 1.5, "2026-11"]) == [
        "Acme", "a=b", "", None, Decimal("-250.00"), -3, 1.5, "2026-11"]


@pytest.fixture
def hostile(tenant_a):
    """A CSM and a manager whose names are formulas, with one statement this month (base + a commission)."""
    manager = MembershipFactory(tenant=tenant_a, role=Role.MANAGER, user__email="boss@alpha.test",
                                user__full_name="@SUM(1+1)*cmd|' /C calc'!A0").user
    csm = MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=manager, user__email="evil@alpha.test",
                            user__full_name="=HYPERLINK(\"http://evil.example\",\"pay\")").user
    with tenant_context(tenant_a):
        plan = CompPlan.objects.get(is_default=True, year=fiscal_quarter(tenant_a, timezone.localdate()).year)
    won_expansion(tenant_a, csm, product="=cmd|' /C calc'!A0")
    statement = generate(tenant_a, assign(tenant_a, plan, csm))
    return {"csm": csm, "manager": manager, "statement": statement}


def assert_no_formula(rows):
    cells = [value for row in rows for value in row.values()]
    assert cells and not [c for c in cells if c.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_it_quotes_formulas_in_a_csms_statement_export(client, hostile):
    client.force_login(hostile["csm"])
    rows = csv_rows(client.get(f"{BASE}statements/{hostile['statement'].pk}/csv/"))
    assert_no_formula(rows)
    assert {r["csm"] for r in rows} == {"'=HYPERLINK(\"http://evil.example\",\"pay\")"}
    assert [r["amount"] for r in rows] == ["4000.00", "250.00"]  # amounts stay numbers


def test_it_quotes_formulas_in_the_team_lines_export(client, hostile):
    client.force_login(hostile["manager"])
    rows = csv_rows(client.get(f"{BASE}team/csv/"))
    assert_no_formula(rows)
    assert {r["csm"] for r in rows} == {"'=HYPERLINK(\"http://evil.example\",\"pay\")"}


def test_it_quotes_formulas_in_the_team_totals_export(client, tenant_a, hostile):
    client.force_login(hostile["manager"])
    assert client.post(f"{BASE}statements/{hostile['statement'].pk}/approve/").status_code == 302
    client.force_login(member(tenant_a, Role.EXECUTIVE, "exec@alpha.test"))
    rows = csv_rows(client.get(f"{BASE}team/csv/"))
    assert_no_formula(rows)
    assert rows[0]["approved_by"] == "'@SUM(1+1)*cmd|' /C calc'!A0" and rows[0]["total"] == "4250.00"
