"""Money figures the same way on every page: `{{ amount|money }}` -> "12,345 USD".

The tenant's ISO code follows the amount rather than a symbol: "$" is USD, CAD and AUD alike, the code is what
the CRM exports and the CSV downloads carry, and tenants with customers in several regions read it without
guessing. Grouping is fixed (comma thousands, point decimals) so a figure looks the same in a page, an email
digest and a test, whatever the server locale.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from csplatform.tenancy.context import current_tenant_or_none

register = template.Library()

MISSING = "—"


def format_money(value, currency: str | None = None, places: int = 0) -> str:
    """`value` (Decimal, int, float or numeric string) rounded half up to `places`, grouped, with the code.

    None or a non-number renders as an em dash, so a template never prints "None USD".
    """
    if value is None or value == "":
        return MISSING
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return MISSING
    if not amount.is_finite():
        return MISSING
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0 USD" for a tiny negative rounded away
    text = f"{rounded:,.{places}f}"
    return f"{text} {currency}" if currency else text


def _parse(arg) -> tuple[str | None, int]:
    """The filter's argument: decimals (`2`), a currency code (`"EUR"`) or both (`"EUR,2"`)."""
    currency, places = None, 0
    if arg is None or arg == "":
        return currency, places
    for part in str(arg).split(","):
        part = part.strip()
        if part.isdigit():
            places = int(part)
        elif part:
            currency = part.upper()
    return currency, places


@register.filter(is_safe=False)
def money(value, arg=None):
    """`{{ x|money }}` whole units in the current tenant's currency; `{{ x|money:2 }}` with cents;
    `{{ x|money:"EUR" }}` or `{{ x|money:"EUR,2" }}` in an explicit currency (e.g. outside a tenant)."""
    currency, places = _parse(arg)
    if currency is None:
        tenant = current_tenant_or_none()
        currency = tenant.currency if tenant is not None else None
    return format_money(value, currency, places)


@register.filter(is_safe=False)
def amount(value, places=0):
    """The number alone, grouped like `money` (table cells whose header already names the currency)."""
    try:
        places = int(places)
    except (TypeError, ValueError):
        places = 0
    return format_money(value, None, places)
