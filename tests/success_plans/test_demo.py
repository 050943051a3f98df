"""The demo success plans (success_plans/demo.py), as `manage.py seed_demo` creates them."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant
from success_plans import selectors
from success_plans.models import (
    Advocacy,
    BusinessReview,
    Decision,
    FeedbackAccount,
    Goal,
    GoalUpdate,
    Playbook,
    PlaybookRun,
    PlaybookStep,
    ProcessDoc,
    ProductFeedback,
    ReviewContact,
    SuccessPlan,
    Task,
    ValueRealised,
)

MODELS = [SuccessPlan, Goal, GoalUpdate, ValueRealised, BusinessReview, ReviewContact, Decision, Advocacy, Task,
          Playbook, PlaybookStep, PlaybookRun, ProductFeedback, FeedbackAccount, ProcessDoc]


def _counts():
    counts = {}
    for tenant in Tenant.objects.order_by("slug"):
        with tenant_context(tenant):
            counts[tenant.slug] = {model.__name__: model.objects.count() for model in MODELS}
    return counts


@pytest.fixture
def seeded(demo_tenants, db):
    return _counts()


def test_seed_demo_twice_gives_the_same_counts(seeded):
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == seeded
    for counts in seeded.values():
        assert counts["Playbook"] == 2 and 6 <= counts["PlaybookStep"] <= 10
        assert counts["ProductFeedback"] == 5 and counts["ProcessDoc"] == 4
        assert counts["GoalUpdate"] > counts["Goal"] >= counts["SuccessPlan"]


def test_every_account_has_a_plan_with_goals_and_the_rest_is_plausible(seeded):
    today = timezone.localdate()
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            active = Account.objects.filter(status=Account.Status.ACTIVE)
            assert not active.filter(success_plans=None).exists()
            assert not active.filter(goals=None).exists()
            per_account = Account.objects.annotate(n=Count("goals")).values_list("n", flat=True)
            assert set(per_account) <= {1, 2, 3}
            assert not SuccessPlan.objects.filter(objectives="").exists()
            assert not SuccessPlan.objects.filter(roi_hypothesis="").exists()
            goals = Goal.objects.all()
            assert goals.filter(approved_by__isnull=False).count() > goals.count() // 2
            assert not goals.filter(approved_on__gt=today).exists()
            for goal in goals.exclude(approved_by=None).select_related("approved_by"):
                assert goal.approved_by.account_id == goal.account_id
            for goal in goals.prefetch_related("updates"):
                readings = list(goal.updates.all())  # latest first
                assert len(readings) >= 2 and readings[-1].note == "Baseline"
                assert (goal.current_value, goal.current_as_of) == (readings[0].value, readings[0].as_of)
            assert not GoalUpdate.objects.filter(as_of__gt=today).exists()
            values = ValueRealised.objects.all()
            assert values.exists() and values.filter(validated_by__isnull=False).exists()
            assert values.filter(validated_by__isnull=True).exists()
            # Decisions: some closed, some open and carried forward to a later review.
            assert Decision.objects.filter(status="open").exists() and Decision.objects.exclude(status="open").exists()
            carried = [r for r in BusinessReview.objects.all() if selectors.decisions_for_review(review=r)["carried"]]
            assert carried
            assert Advocacy.objects.filter(kind="case_study").exists()
            assert Advocacy.objects.filter(kind="referral").exists()
            assert Task.objects.filter(source="manual").exists()
            # The stage playbooks were applied to the accounts in those stages, once.
            assert Task.objects.filter(source="playbook").exists()
            assert set(Playbook.objects.values_list("stage__name", flat=True)) == {"Onboarding", "Renewal"}
            ranking = list(selectors.feedback_ranking())
            assert all(f.prevalence >= 2 for f in ranking)
            assert ProcessDoc.objects.filter(status="approved").count() == 2
