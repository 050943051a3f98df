"""Writes for coverage: moving accounts between CSMs (with what follows the CSM), and ops' coverage rules.

A reassignment is one transaction, all or nothing, set-based: the accounts are locked and checked together,
then one UPDATE per kind of row (open tasks, open renewals, open expansions, the accounts) and one INSERT of
the trail. What happened on the account before (activities, closed tasks, delivered reports, closed
opportunities and the renewals' credited CSM) stays as it was."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from accounts.permissions import team_user_ids
from accounts.services import accounts_csm_set
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Role
from csplatform.tenancy.permissions import role_can
from csplatform.tenancy.timezones import business_day
from health.models import PortfolioHealthDaily
from health.services import refresh_soon
from renewals.services import forecast_refresh_soon, open_opportunities_follow_csm
from success_plans.models import Task
from success_plans.services import open_tasks_follow_csm

from ..models import AccountAssignment, CoverageRule
from ..reports.services import report_drafts_follow_csm

MAX_ACCOUNTS = 500  # per request: a whole book, and a bound on the lists the checks name
NOTE_MAX = AccountAssignment._meta.get_field("note").max_length
CSM_ROLES = (Role.CSM, Role.MANAGER)


class ReassignForbidden(PermissionDenied):
    """The person may not move these accounts, or not to that person (403 with the reason)."""


def _names(rows, limit: int = 5) -> str:
    names = [r["name"] for r in rows[:limit]]
    more = len(rows) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _account_ids(raw) -> list[int]:
    if raw is None or isinstance(raw, str | bytes) or not hasattr(raw, "__iter__"):
        raise ValidationError({"account_ids": "Send a list of account ids."})
    ids = []
    for value in raw:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError({"account_ids": f"{value!r} is not an account id."}) from None
    ids = sorted(set(ids))
    if not ids:
        raise ValidationError({"account_ids": "Pick at least one account."})
    if len(ids) > MAX_ACCOUNTS:
        raise ValidationError({"account_ids": f"At most {MAX_ACCOUNTS} accounts at a time; this is {len(ids)}."})
    return ids


def reassignment_check(*, tenant, account_ids, to_user, by, note: str = "", lock: bool = False) -> dict:
    """Everything `accounts_reassign` checks, without writing (the page's confirmation step uses it too).

    Refuses with ReassignForbidden (403) when `by` may not reassign (accounts.reassign: managers, ops, admins),
    or is a manager and an account belongs to a CSM outside their team or `to_user` is not on it; with
    ValidationError (400, by field) for unknown or another tenant's accounts (the same answer for both), churned
    accounts, a `to_user` who is not a CSM or manager here, a note too long. Returns the accounts that move
    (id, name, csm_id; those already with `to_user` are left out and counted as `unchanged`) and the open tasks,
    renewals and expansions that follow them."""
    with tenant_context(tenant):
        membership = Membership.objects.filter(tenant=tenant, user_id=getattr(by, "pk", None)).first()
        if membership is None or not role_can(membership.role, "accounts.reassign"):
            raise ReassignForbidden("Your role cannot reassign accounts: managers, ops and admins can.")
        errors = {}
        try:
            ids = _account_ids(account_ids)
        except ValidationError as error:
            errors.update(error.message_dict)
            ids = []
        if len(note or "") > NOTE_MAX:
            errors["note"] = f"Keep the note to {NOTE_MAX} characters."
        target = None
        if to_user is None:
            errors["to_user"] = "Pick the CSM who takes the accounts."
        else:
            target = Membership.objects.filter(tenant=tenant, user_id=to_user.pk).first()
            if target is None or target.role not in CSM_ROLES:
                errors["to_user"] = f"{to_user} is not a CSM or manager of this workspace."
        found = Account.objects.filter(pk__in=ids)
        if lock:
            found = found.select_for_update()
        accounts = list(found.order_by("name", "id").values("id", "name", "csm_id", "status"))
        missing = sorted(set(ids) - {a["id"] for a in accounts})
        if missing:
            # Another tenant's account looks exactly like one that does not exist.
            errors["account_ids"] = "No such account: " + ", ".join(str(i) for i in missing[:10]) + (
                f" and {len(missing) - 10} more." if len(missing) > 10 else ".")
        churned = [a for a in accounts if a["status"] != Account.Status.ACTIVE]
        if churned and "account_ids" not in errors:
            errors["account_ids"] = f"Only active accounts are reassigned: {_names(churned)} churned."
        if errors:
            raise ValidationError(errors)
        if membership.role == Role.MANAGER:
            team = team_user_ids(membership)
            outside = [a for a in accounts if a["csm_id"] is not None and a["csm_id"] not in team]
            if outside:
                raise ReassignForbidden(f"You may move only your team's accounts and unassigned ones: "
                                        f"{_names(outside)} belong to a CSM outside your team.")
            if to_user.pk not in team:
                raise ReassignForbidden(f"{to_user} is not on your team: a manager moves accounts within it.")
        moving = [a for a in accounts if a["csm_id"] != to_user.pk]
        if not moving:
            raise ValidationError({"account_ids": f"{'This account is' if len(accounts) == 1 else 'These accounts are'}"
                                                  f" already with {to_user}."})
        return {"accounts": moving, "unchanged": len(accounts) - len(moving), "to_user": to_user,
                "tasks": _open_tasks_following(moving)}


def _open_tasks_following(accounts) -> int:
    """How many open tasks would move (for the confirmation): the same rule as open_tasks_follow_csm, one query."""
    return Task.objects.filter(account_id__in=[a["id"] for a in accounts], status=Task.Status.OPEN).filter(
        Q(owner_id=F("account__csm_id")) | Q(owner__isnull=True, account__csm__isnull=True)).count()


def accounts_reassign(*, tenant, account_ids, to_user, by, note: str = "") -> dict:
    """Moves accounts to `to_user`, all or nothing, in one transaction (see reassignment_check for refusals).

    With each account go its open tasks owned by its previous CSM and its open renewals and expansions owned by
    them (on an unassigned account: those without an owner), and its undelivered monthly reports. One
    AccountAssignment per account records from, to, by, when, the tasks moved and the note. Afterwards (on
    commit) today's health band counts and forecast per CSM are recomputed, when the nightly jobs already wrote
    today's, so the dashboards do not show the old CSM until tomorrow. Returns the counts: accounts, tasks,
    renewals, expansions, draft_reports, unchanged."""
    note = (note or "").strip()
    with tenant_context(tenant), transaction.atomic():
        plan = reassignment_check(tenant=tenant, account_ids=account_ids, to_user=to_user, by=by, note=note,
                                  lock=True)
        moving = plan["accounts"]
        ids = [a["id"] for a in moving]
        # Before the accounts change CSM: both follow "owned by the account's current CSM".
        tasks = open_tasks_follow_csm(account_ids=ids, to_user=to_user, by=by)
        opportunities = open_opportunities_follow_csm(account_ids=ids, to_user=to_user)
        drafts = report_drafts_follow_csm(account_ids=ids, to_user=to_user)
        if accounts_csm_set(account_ids=ids, csm=to_user) != len(ids):
            raise RuntimeError("An account locked for the reassignment changed meanwhile")  # cannot happen
        now = timezone.now()
        AccountAssignment.objects.bulk_create([
            AccountAssignment(account_id=a["id"], from_user_id=a["csm_id"], to_user=to_user, at=now, by=by,
                              tasks_moved=tasks.get(a["id"], 0), note=note)
            for a in moving])
        if PortfolioHealthDaily.objects.filter(day=business_day()).exists():
            # Today's band counts per CSM are rewritten by the debounced health.refresh run (which rescores these
            # accounts too). Before tonight's first run there are none for today to correct.
            refresh_soon(tenant=tenant, account_ids=ids)
        forecast_refresh_soon(tenant=tenant)
    return {"accounts": len(ids), "tasks": sum(tasks.values()), "renewals": opportunities["renewals"],
            "expansions": opportunities["expansions"], "draft_reports": drafts, "unchanged": plan["unchanged"],
            "to_user": to_user}


# ---- coverage rules (ops) --------------------------------------------------------------------------------------


def _per_csm(value) -> int:
    if isinstance(value, bool):
        raise ValidationError({"accounts_per_csm": "Give a whole number of accounts, 1 or more."})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"accounts_per_csm": "Give a whole number of accounts, 1 or more."}) from None
    if number != value and str(number) != str(value).strip():
        raise ValidationError({"accounts_per_csm": "Give a whole number of accounts, 1 or more."})
    if number < 1:
        raise ValidationError({"accounts_per_csm": "A CSM covers at least 1 account."})
    if number > 100_000:
        raise ValidationError({"accounts_per_csm": "At most 100,000 accounts per CSM."})
    return number


def coverage_rule_save(*, tenant, accounts_per_csm, segment=None, rule: CoverageRule | None = None) -> CoverageRule:
    """Creates a segment's rule (one per segment), or changes a rule's accounts per CSM (`rule` given; its segment
    does not change). The catch-all rule (no segment) exists from the tenant's creation; it is edited, not added.
    Field errors as ValidationError: accounts_per_csm (1 or more), segment (taken, or another tenant's)."""
    with tenant_context(tenant), transaction.atomic():
        per_csm = _per_csm(accounts_per_csm)
        if rule is not None:
            if segment is not None and segment.pk != rule.segment_id:
                raise ValidationError({"segment": "A rule keeps its segment: add a rule for the other segment."})
            CoverageRule.objects.filter(pk=rule.pk).update(accounts_per_csm=per_csm)
            rule.refresh_from_db()
            return rule
        if segment is None:
            raise ValidationError({"segment": "Pick a segment: the rule for every other account exists already."})
        if segment.tenant_id != tenant.pk:
            raise ValidationError({"segment": "No such segment."})
        if CoverageRule.objects.filter(segment=segment).exists():
            raise ValidationError({"segment": f"{segment} has a rule already; change that one."})
        try:
            with transaction.atomic():
                return CoverageRule.objects.create(segment=segment, accounts_per_csm=per_csm)
        except IntegrityError:  # added meanwhile by someone else
            raise ValidationError({"segment": f"{segment} has a rule already; change that one."}) from None


def coverage_rule_delete(*, tenant, rule: CoverageRule) -> None:
    """Deletes a segment's rule (its accounts then count by the catch-all rule). The catch-all cannot go."""
    with tenant_context(tenant), transaction.atomic():
        if rule.segment_id is None:
            raise ValidationError("The rule for every other account cannot be deleted; change its number instead.")
        CoverageRule.objects.filter(pk=rule.pk).delete()
