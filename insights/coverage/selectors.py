"""Reads for coverage and capacity: accounts and ARR per CSM against the tenant's coverage rules.

A CSM's load is their active accounts weighted by the rule of each account's segment: an account in a segment
whose rule is "1 CSM : 10 accounts" takes 1/10 of a CSM, one in a segment without a rule takes 1/N of the
catch-all rule. 5 Enterprise accounts at 1:10 and 20 SMB accounts at 1:100 are 50% + 20% = 70% of one CSM;
over 100% is over capacity.

`coverage_by_csm` is a fixed number of queries (four) whatever the number of accounts or CSMs: the accounts are
counted per (CSM, segment) by the database, and only those groups are walked in Python."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db.models import Count, Q, Sum

from accounts.models import Account, Segment
from csplatform.tenancy.models import Membership, Role, User

from ..models import AccountAssignment, CoverageRule
from .defaults import DEFAULT_ACCOUNTS_PER_CSM

ZERO = Decimal("0")
TENTH = Decimal("0.1")
CSM_ROLES = (Role.CSM, Role.MANAGER)
NO_SEGMENT = "No segment"


def _percent(fraction: Fraction) -> Decimal:
    """A share of one CSM as a percentage with one decimal (70.0 for 7/10)."""
    return (Decimal(fraction.numerator) * 100 / Decimal(fraction.denominator)).quantize(TENTH, ROUND_HALF_UP)


def _csms(fraction: Fraction) -> Decimal:
    return (Decimal(fraction.numerator) / Decimal(fraction.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rule_label(*, accounts_per_csm: int, segment_name: str | None) -> str:
    if segment_name is None:
        return f"1 CSM : {accounts_per_csm} accounts (every account whose segment has no rule of its own)"
    return f"1 CSM : {accounts_per_csm} {segment_name} accounts"


def coverage_rules() -> list[dict]:
    """The current tenant's rules, segment rules in segment order, the catch-all last. One query."""
    rules = [
        {"id": r.pk, "rule": r, "segment_id": r.segment_id, "segment": r.segment.name if r.segment_id else None,
         "accounts_per_csm": r.accounts_per_csm, "is_default": r.segment_id is None,
         "label": rule_label(accounts_per_csm=r.accounts_per_csm, segment_name=r.segment.name if r.segment_id
                             else None)}
        for r in CoverageRule.objects.select_related("segment")
    ]
    return sorted(rules, key=lambda r: r["is_default"])


def _segment_columns(segments, rules_by_segment, default_per_csm, with_none: bool) -> list[dict]:
    columns = [{"id": s.pk, "name": s.name, "accounts_per_csm": rules_by_segment.get(s.pk, default_per_csm),
                "has_rule": s.pk in rules_by_segment} for s in segments]
    if with_none:
        columns.append({"id": None, "name": NO_SEGMENT, "accounts_per_csm": default_per_csm, "has_rule": False})
    return columns


def _cells(counts: dict, columns: list[dict]) -> tuple[list[dict], Fraction]:
    """One cell per segment column for a person (or the unassigned pool), and their load as a fraction of a CSM."""
    cells, load = [], Fraction(0)
    for column in columns:
        accounts, arr = counts.get(column["id"], (0, ZERO))
        share = Fraction(accounts, column["accounts_per_csm"])
        load += share
        cells.append({"segment_id": column["id"], "segment": column["name"], "accounts": accounts, "arr": arr,
                      "accounts_per_csm": column["accounts_per_csm"], "load_percent": _percent(share)})
    return cells, load


def coverage_by_csm(*, tenant, user_ids=None) -> dict:
    """Coverage of the current tenant's active accounts, per person who carries a book.

    Rows: every CSM member (with or without accounts), every manager member who owns active accounts, and
    anyone else who still owns active accounts (another role, or someone no longer a member: `is_member`
    False), so that the rows plus the unassigned pool add up to every active account. `user_ids` limits the
    rows and totals to those people (the unassigned pool stays the tenant's: a manager may pick from it).
    Money is Decimal in `tenant.currency`; load percentages are Decimal with one decimal.

    Four queries: rules, segments, accounts grouped by (CSM, segment), and the people's memberships."""
    rules = coverage_rules()
    rules_by_segment = {r["segment_id"]: r["accounts_per_csm"] for r in rules if not r["is_default"]}
    default_rule = next((r for r in rules if r["is_default"]), None)
    default_per_csm = default_rule["accounts_per_csm"] if default_rule else DEFAULT_ACCOUNTS_PER_CSM
    segments = list(Segment.objects.order_by("position", "name"))

    accounts = Account.objects.filter(status=Account.Status.ACTIVE)
    if user_ids is not None:
        accounts = accounts.filter(Q(csm_id__in=list(user_ids)) | Q(csm__isnull=True))
    groups = (accounts.values("csm_id", "csm__full_name", "csm__email", "segment_id")
              .annotate(accounts=Count("id"), arr=Sum("arr")).order_by())
    by_owner: dict[int | None, dict] = defaultdict(dict)
    names: dict[int, tuple[str, str]] = {}
    with_none = False
    for group in groups:
        by_owner[group["csm_id"]][group["segment_id"]] = (group["accounts"], group["arr"] or ZERO)
        with_none |= group["segment_id"] is None
        if group["csm_id"] is not None:
            names[group["csm_id"]] = (group["csm__full_name"], group["csm__email"])
    columns = _segment_columns(segments, rules_by_segment, default_per_csm, with_none)

    owners = [owner for owner in by_owner if owner is not None]
    people = Membership.objects.filter(tenant=tenant).filter(Q(role=Role.CSM) | Q(user_id__in=owners))
    if user_ids is not None:
        people = people.filter(user_id__in=list(user_ids))
    memberships = {m.user_id: m for m in people.select_related("user")}

    rows = []
    for user_id in set(memberships) | set(owners):
        membership = memberships.get(user_id)
        user = membership.user if membership else User(pk=user_id, full_name=names[user_id][0],
                                                       email=names[user_id][1])
        cells, load = _cells(by_owner.get(user_id, {}), columns)
        load_percent = _percent(load)
        rows.append({
            "user_id": user_id, "user": user, "name": user.display_name, "email": user.email,
            "role": membership.role if membership else "",
            "role_label": membership.get_role_display() if membership else "Not a member",
            "is_member": membership is not None,
            "accounts": sum(c["accounts"] for c in cells), "arr": sum((c["arr"] for c in cells), ZERO),
            "segments": cells, "load": load, "load_percent": load_percent,
            "bar_percent": min(load_percent, Decimal(100)), "over_capacity": load > 1,
        })
    rows.sort(key=lambda r: (r["name"].lower(), r["email"]))

    unassigned_cells, unassigned_load = _cells(by_owner.get(None, {}), columns)
    team_load = sum((r["load"] for r in rows), Fraction(0))
    people_count = len(rows)
    totals = {
        "people": people_count,
        "accounts": sum(r["accounts"] for r in rows),
        "arr": sum((r["arr"] for r in rows), ZERO),
        "segments": [{"segment_id": c["id"], "segment": c["name"],
                      "accounts": sum(r["segments"][i]["accounts"] for r in rows),
                      "arr": sum((r["segments"][i]["arr"] for r in rows), ZERO)} for i, c in enumerate(columns)],
        # The team's load in CSMs (100% = one CSM's capacity), and the average per person.
        "load_percent": _percent(team_load),
        "average_load_percent": _percent(team_load / people_count) if people_count else Decimal("0.0"),
        "over_capacity": sum(1 for r in rows if r["over_capacity"]),
        # CSMs the book needs by the rules, unassigned accounts included (2.35 = two and a bit CSMs).
        "csms_needed": _csms(team_load + unassigned_load),
    }
    unassigned = {
        "accounts": sum(c["accounts"] for c in unassigned_cells),
        "arr": sum((c["arr"] for c in unassigned_cells), ZERO),
        "segments": unassigned_cells,
        "load_percent": _percent(unassigned_load),
    }
    for row in rows:
        del row["load"]  # a Fraction: callers get the Decimal percentage
    return {"currency": tenant.currency, "rules": rules, "segments": columns, "rows": rows, "totals": totals,
            "unassigned": unassigned}


def unassigned_accounts():
    """Active accounts of the current tenant without a CSM, biggest ARR first (a queryset for a paginator)."""
    return (Account.objects.filter(status=Account.Status.ACTIVE, csm__isnull=True).select_related("segment")
            .order_by("-arr", "name", "id"))


def book_of(*, user_id: int):
    """A person's active accounts, biggest ARR first (a queryset for a paginator)."""
    return (Account.objects.filter(status=Account.Status.ACTIVE, csm_id=user_id).select_related("segment")
            .order_by("-arr", "name", "id"))


def coverage_people(*, tenant, user_ids=None):
    """Users who may be given accounts: the tenant's CSM and manager members (optionally only `user_ids`)."""
    people = User.objects.filter(memberships__tenant=tenant, memberships__role__in=CSM_ROLES)
    if user_ids is not None:
        people = people.filter(pk__in=list(user_ids))
    return people.order_by("full_name", "email")


def assignment_trail(*, account, limit: int = 20) -> list[AccountAssignment]:
    """An account's reassignments, newest first (one query)."""
    return list(AccountAssignment.objects.filter(account=account).select_related("from_user", "to_user", "by")
                [:limit])


def recent_assignments(*, limit: int = 10) -> list[AccountAssignment]:
    """The tenant's latest reassignments with their accounts (one query)."""
    return list(AccountAssignment.objects.select_related("account", "from_user", "to_user", "by")[:limit])
