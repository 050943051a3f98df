"""Shared builders for the coverage tests: rules, accounts in bulk, tasks and opportunities on an account."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Account, Segment
from csplatform.tenancy.context import tenant_context
from insights.models import AccountAssignment, CoverageRule
from renewals.models import Contract, ExpansionOpportunity, RenewalOpportunity
from success_plans.models import Task

TODAY = timezone.localdate()


def segment(tenant, name) -> Segment:
    with tenant_context(tenant):
        return Segment.objects.get(name=name)


def rule(tenant, segment_name, accounts_per_csm) -> CoverageRule:
    with tenant_context(tenant):
        return CoverageRule.objects.create(segment=Segment.objects.get(name=segment_name),
                                           accounts_per_csm=accounts_per_csm)


def accounts(tenant, count, *, csm=None, segment_name=None, arr="1000", status="active", prefix="Acct"):
    """`count` accounts in one INSERT (the signals' per-account work is not what these tests are about)."""
    with tenant_context(tenant):
        seg = Segment.objects.get(name=segment_name) if segment_name else None
        start = Account.objects.count()
        rows = [Account(name=f"{prefix} {start + i:04d}", csm=csm, segment=seg, arr=Decimal(arr), status=status,
                        churn_date=TODAY if status == "churned" else None) for i in range(count)]
        return Account.objects.bulk_create(rows)


def task(tenant, account, *, owner, status=Task.Status.OPEN, title="Follow up") -> Task:
    with tenant_context(tenant):
        return Task.objects.create(account=account, owner=owner, status=status, title=title,
                                   completed_at=timezone.now() if status == Task.Status.DONE else None)


def renewal(tenant, account, *, owner, closed=False) -> RenewalOpportunity:
    with tenant_context(tenant):
        contract = Contract.objects.create(account=account, start_date=TODAY - timedelta(days=300),
                                           end_date=TODAY + timedelta(days=64), arr=Decimal("12000"))
        fields = {"stage": "closed", "outcome": "renewed_flat", "closed_on": TODAY, "renewed_arr": Decimal("12000")} \
            if closed else {}
        return RenewalOpportunity.objects.create(account=account, contract=contract, owner=owner,
                                                 current_arr=Decimal("12000"), expected_arr=Decimal("12000"),
                                                 close_date=TODAY + timedelta(days=64), **fields)


def expansion(tenant, account, *, owner, stage="qualified") -> ExpansionOpportunity:
    with tenant_context(tenant):
        return ExpansionOpportunity.objects.create(
            account=account, product="Analytics add-on", amount=Decimal("5000"), stage=stage,
            expected_close=TODAY + timedelta(days=30), owner=owner, lead_source=owner,
            closed_on=TODAY if stage in ("won", "lost") else None)


def fresh(tenant, obj):
    with tenant_context(tenant):
        obj.refresh_from_db()
    return obj


def trail(tenant):
    with tenant_context(tenant):
        return list(AccountAssignment.objects.order_by("account_id").values(
            "account_id", "from_user_id", "to_user_id", "by_id", "tasks_moved", "note"))
