"""Money figures: the same grouping, rounding and currency code on every page (templatetags/formatting.py)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import Context, Template

from csplatform.tenancy.context import _current_tenant


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.fixture
def tenant_in_euros():
    token = _current_tenant.set(SimpleNamespace(currency="EUR"))
    yield
    _current_tenant.reset(token)


def test_it_groups_thousands_and_adds_the_tenants_currency(tenant_in_euros):
    assert render("{{ x|money }}", x=Decimal("1234567.49")) == "1,234,567 EUR"


def test_it_rounds_half_up_like_the_statements_do(tenant_in_euros):
    assert render("{{ x|money }}", x=Decimal("2.5")) == "3 EUR"
    assert render("{{ x|money:2 }}", x=Decimal("1999.005")) == "1,999.01 EUR"


def test_it_keeps_the_sign_of_a_negative_amount(tenant_in_euros):
    assert render("{{ x|money }}", x=Decimal("-12000.4")) == "-12,000 EUR"
    assert render("{{ x|money }}", x=Decimal("-0.4")) == "0 EUR"  # never "-0 EUR"


def test_it_takes_an_explicit_currency_and_decimals(tenant_in_euros):
    assert render("{{ x|money:c }}", x=Decimal("9000"), c="USD") == "9,000 USD"
    assert render('{{ x|money:"gbp,2" }}', x=1500) == "1,500.00 GBP"


def test_it_renders_a_missing_amount_as_a_dash_not_none(tenant_in_euros):
    assert render("{{ x|money }}", x=None) == "—"
    assert render("{{ x|money }}", x="n/a") == "—"


def test_it_accepts_ints_floats_and_strings_from_snapshots(tenant_in_euros):
    assert render("{{ x|money }} {{ y|money:2 }} {{ z|money }}", x=42, y="12.5", z=3.0) == "42 EUR 12.50 EUR 3 EUR"


def test_without_a_tenant_it_prints_the_number_alone():
    assert render("{{ x|money }}", x=Decimal("1000")) == "1,000"


def test_amount_groups_like_money_without_the_code(tenant_in_euros):
    assert render("{{ x|amount }} / {{ x|amount:2 }}", x=Decimal("98765.432")) == "98,765 / 98,765.43"
