"""ARR from contracts. A contract counts on day d when start_date <= d <= end_date and it was not cancelled on
or before d. An account's ARR on d is the sum of its counting contracts' ARR; Account.arr holds today's."""

from datetime import date

from django.db import connection

from csplatform.tenancy.context import current_tenant

# The condition, for SQL over renewals_contract aliased `c` and a date parameter named `on`.
COUNTS_ON = ("c.start_date <= %(on)s AND c.end_date >= %(on)s "
             "AND (c.status = 'active' OR c.cancelled_on > %(on)s)")


def arr_on(*, on: date, account_ids=None) -> dict[int, object]:
    """{account id: ARR on the day} for the current tenant's accounts that have any (one query)."""
    only = ""
    params = {"t": current_tenant().pk, "on": on}
    if account_ids is not None:
        if not account_ids:
            return {}
        only = "AND c.account_id IN (" + ", ".join(str(int(i)) for i in account_ids) + ")"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.account_id, SUM(c.arr) FROM renewals_contract c "
                       f"WHERE c.tenant_id = %(t)s AND {COUNTS_ON} {only} GROUP BY c.account_id", params)
        return dict(cursor.fetchall())


def accounts_arr_refresh(*, on: date, account_ids=None) -> int:
    """Rewrites Account.arr (today's ARR, read by every page) from the contracts, in one UPDATE.

    Account.arr belongs to accounts but only this function writes it: it is the cached result of the
    contracts, which accounts cannot read (renewals is above it)."""
    only = ""
    if account_ids is not None:
        if not account_ids:
            return 0
        only = "AND a.id IN (" + ", ".join(str(int(i)) for i in account_ids) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE accounts_account AS a SET arr = COALESCE((
                  SELECT SUM(c.arr) FROM renewals_contract c
                  WHERE c.tenant_id = a.tenant_id AND c.account_id = a.id AND {COUNTS_ON}), 0)
                WHERE a.tenant_id = %(t)s {only}""",
            {"t": current_tenant().pk, "on": on})
        return cursor.rowcount
