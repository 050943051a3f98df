"""Helpers shared by the monthly report tests (their fixtures are in reports_fixtures.py)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from insights.models import MonthlyReport
from insights.reports.drafting import reports_draft
from insights.reports.selectors import report_cycle_month
from success_plans.models import BusinessReview, Decision
from tests.factories import AccountFactory, GoalFactory, SurveyResponseFactory

TODAY = timezone.localdate()
MONTH = report_cycle_month(TODAY)
LONG_AGO = timezone.make_aware(datetime(2024, 1, 1))


def in_month(day: int, hour: int = 12):
    return timezone.make_aware(datetime.combine(MONTH + timedelta(days=day - 1), time(hour)))


def account_for(tenant, csm, **fields):
    account = AccountFactory(tenant=tenant, csm=csm, **fields)
    with tenant_context(tenant):
        type(account).objects.filter(pk=account.pk).update(created_at=LONG_AGO, arr=Decimal("24000"))
    return account


def add_story(tenant, account, n: int = 1):
    """n goals on the active plan, n decisions (one review in the month), n NPS answers with comments."""
    goal = None
    plan = None
    for i in range(n):
        goal = GoalFactory(tenant=tenant, plan__account=account, title=f"Goal {i} of {account.name}") \
            if plan is None else GoalFactory(tenant=tenant, plan=plan, title=f"Goal {i} of {account.name}")
        plan = goal.plan
    with tenant_context(tenant):
        review = BusinessReview.objects.create(account=account, plan=plan, held_on=MONTH + timedelta(days=9))
        for i in range(n):
            Decision.objects.create(review=review, account=account, text=f"Decision {i}")
    for i in range(n):
        SurveyResponseFactory(tenant=tenant, account=account, score=9, comment=f"Comment {i}",
                              responded_at=in_month(3 + i))
    return goal


def draft_all(tenant):
    with tenant_context(tenant):
        return reports_draft(tenant=tenant, month=MONTH)


def report_for(tenant, account) -> MonthlyReport:
    with tenant_context(tenant):
        return MonthlyReport.objects.get(account=account, month=MONTH)
