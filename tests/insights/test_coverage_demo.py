"""The coverage demo: per-segment rules and one past reassignment (idempotent)."""

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.demo import DemoPeople
from insights.coverage.demo import seed
from insights.models import AccountAssignment, CoverageRule

from .coverage_helpers import accounts


def test_it_adds_segment_rules_and_a_past_move_once(tenant_a, manager, csm, other_csm):
    accounts(tenant_a, 3, csm=csm, segment_name="SMB")
    people = DemoPeople(tenant=tenant_a, by_key={"manager": manager, "csm1": csm, "csm2": other_csm})
    with tenant_context(tenant_a):
        assert seed(tenant=tenant_a, people=people) == {"coverage_rules": 3, "account_assignments": 1}
        assert seed(tenant=tenant_a, people=people) == {}
        rules = {(r.segment.name if r.segment_id else None): r.accounts_per_csm
                 for r in CoverageRule.objects.select_related("segment")}
        assert rules == {None: 50, "Enterprise": 10, "Mid-Market": 40, "SMB": 150}
        move = AccountAssignment.objects.select_related("account").get()
        assert (move.from_user, move.to_user, move.by, move.account.csm) == (csm, other_csm, manager, other_csm)
        assert move.at.date() < move.account.updated_at.date()
