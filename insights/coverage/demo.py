"""Demo coverage: per-segment rules (Enterprise 1:10, Mid-Market 1:40, SMB 1:150; the catch-all 1:50 stays) and one
past reassignment, so the Account 360 trail and the coverage page's recent moves show something.

Idempotent: a tenant that already has a segment rule is left alone. The move goes through the service (so its
open tasks and opportunities follow), then is dated a few weeks back."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Segment

from ..models import AccountAssignment, CoverageRule
from .defaults import coverage_default_ensure
from .services import accounts_reassign, coverage_rule_save

DEMO_RULES = {"Enterprise": 10, "Mid-Market": 40, "SMB": 150}
MOVED_DAYS_AGO = 24


def seed(*, tenant, people) -> dict:
    if CoverageRule.objects.filter(segment__isnull=False).exists():
        return {}
    with transaction.atomic():
        coverage_default_ensure()
        rules = 0
        for segment in Segment.objects.filter(name__in=DEMO_RULES):
            coverage_rule_save(tenant=tenant, segment=segment, accounts_per_csm=DEMO_RULES[segment.name])
            rules += 1
        moved = _past_move(tenant, people)
        return {"coverage_rules": rules, "account_assignments": moved}


def _past_move(tenant, people) -> int:
    """The first CSM's smallest active account went to the second CSM a few weeks ago, moved by the manager."""
    csms, manager = people.csms, people.by_key.get("manager")
    if len(csms) < 2 or manager is None:
        return 0
    account = (Account.objects.filter(status=Account.Status.ACTIVE, csm=csms[0]).order_by("arr", "name").first())
    if account is None:
        return 0
    done = accounts_reassign(tenant=tenant, account_ids=[account.pk], to_user=csms[1], by=manager,
                             note="Rebalancing the team's books.")
    AccountAssignment.objects.filter(account=account).update(at=timezone.now() - timedelta(days=MOVED_DAYS_AGO))
    return done["accounts"]
