"""The success plan rules: goal status, stage playbooks (once per stage entry), decisions carried forward,
ROI, feedback ranking and the approved-goals count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import accounts_bulk_upsert
from csplatform.tenancy.context import tenant_context
from success_plans import selectors, services
from success_plans.goals import derived_status, goal_progress, goal_status
from success_plans.jobs import apply_stage_playbooks
from success_plans.models import (
    BusinessReview,
    Decision,
    FeedbackAccount,
    Goal,
    Playbook,
    PlaybookRun,
    PlaybookStep,
    ProductFeedback,
    Task,
)
from tests.factories import AccountFactory, ContactFactory, GoalFactory, LifecycleStageFactory, MembershipFactory

D = Decimal
START, DUE = date(2026, 1, 1), date(2026, 12, 31)  # 364 days


def status(baseline, target, current, today, start=START, due=DUE):
    return derived_status(baseline=D(baseline), target=D(target), current=D(current), start=start, due=due,
                          today=today)


# --- goal status ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "today", "expected"), [
    (100, date(2026, 1, 1), "on_track"),    # nothing done, no time used
    (100, date(2026, 2, 6), "on_track"),    # 36 days = 9.9% of the time used, within the 10 points
    (100, date(2026, 3, 1), "at_risk"),     # 16% of the time used, no progress
    (150, date(2026, 7, 2), "on_track"),    # half way, half the time used
    (140, date(2026, 7, 2), "on_track"),    # 40% done, 50% of the time: exactly at the tolerance
    (139, date(2026, 7, 2), "at_risk"),     # 39% done: more than 10 points behind
    (200, date(2026, 3, 1), "achieved"),    # target reached early
    (250, date(2027, 3, 1), "achieved"),    # beyond target, even after the due date
    (199, date(2027, 1, 1), "missed"),      # the day after the due date, not reached
    (199, DUE, "on_track"),                 # on the due date, 99% done
])
def test_goal_status_for_a_goal_that_goes_up(current, today, expected):
    assert status(100, 200, current, today) == expected


@pytest.mark.parametrize(("current", "today", "expected"), [
    (10, date(2026, 3, 1), "at_risk"),      # baseline 10 tickets, target 5: no improvement
    (7, date(2026, 7, 2), "on_track"),      # 3 of 5 down (60%) at half time
    (9, date(2026, 7, 2), "at_risk"),       # 1 of 5 down (20%) at half time
    (5, date(2026, 7, 2), "achieved"),
    (3, date(2026, 7, 2), "achieved"),      # better than the target
    (12, date(2026, 2, 1), "on_track"),     # worse than the baseline counts as 0 progress, early on
    (6, date(2027, 1, 5), "missed"),
])
def test_goal_status_for_a_goal_that_goes_down(current, today, expected):
    assert status(10, 5, current, today) == expected


def test_progress_is_clipped_and_works_both_ways():
    assert goal_progress(baseline=D(10), target=D(5), current=D(7)) == D("0.6")
    assert goal_progress(baseline=D(10), target=D(5), current=D(12)) == 0
    assert goal_progress(baseline=D(100), target=D(200), current=D(300)) == 1


def test_a_goal_due_the_day_it_starts():
    assert status(0, 1, 0, START, start=START, due=START) == "at_risk"  # all of its time is used
    assert status(0, 1, 1, START, start=START, due=START) == "achieved"


def test_an_override_wins_over_the_numbers(tenant_a):
    goal = GoalFactory(tenant=tenant_a, baseline=100, target=200, current_value=200)
    assert goal_status(goal, date(2026, 6, 1)) == "achieved"
    with tenant_context(tenant_a):
        services.goal_status_override(goal=goal, status="at_risk", reason="The sponsor left")
        assert goal_status(goal, date(2026, 6, 1)) == "at_risk"
        with pytest.raises(Exception, match="Say why"):
            services.goal_status_override(goal=goal, status="missed", reason=" ")
        services.goal_status_override(goal=goal, status="", reason="")
    assert goal_status(goal, date(2026, 6, 1)) == "achieved" and goal.override_reason == ""


# --- stage playbooks -----------------------------------------------------------------------------------


@pytest.fixture
def csm(tenant_a):
    return MembershipFactory(tenant=tenant_a, role="csm", user__email="csm@alpha.test").user


@pytest.fixture
def stages(tenant_a):
    return {name: LifecycleStageFactory(tenant=tenant_a, name=name) for name in ("Onboarding", "Adoption")}


@pytest.fixture
def kickoff(tenant_a, stages):
    with tenant_context(tenant_a):
        playbook = Playbook.objects.create(name="Onboarding kickoff", stage=stages["Onboarding"])
        PlaybookStep.objects.bulk_create([
            PlaybookStep(playbook=playbook, title="Kickoff call", day_offset=0, position=0, type="onboarding"),
            PlaybookStep(playbook=playbook, title="Admin training", day_offset=7, position=1, priority="high"),
            PlaybookStep(playbook=playbook, title="First value check", day_offset=30, position=2),
        ])
    return playbook


def playbook_tasks(tenant, account):
    with tenant_context(tenant):
        return list(Task.objects.filter(account=account, source=Task.Source.PLAYBOOK).order_by("due_date", "id"))


def move(tenant, account, stage):
    """Changes the stage as a form or an API request does: on a freshly loaded account, with save()."""
    with tenant_context(tenant):
        fresh = Account.objects.get(pk=account.pk)
        fresh.stage = stage
        fresh.save()


def test_a_playbook_applies_once_per_stage_entry_through_save(tenant_a, csm, stages, kickoff):
    account = AccountFactory(tenant=tenant_a, csm=csm, stage=stages["Adoption"])
    assert playbook_tasks(tenant_a, account) == []
    move(tenant_a, account, stages["Onboarding"])
    tasks = playbook_tasks(tenant_a, account)
    today = timezone.localdate()
    assert [(t.title, t.owner_id, t.due_date) for t in tasks] == [
        ("Kickoff call", csm.pk, today), ("Admin training", csm.pk, today + timedelta(days=7)),
        ("First value check", csm.pk, today + timedelta(days=30)),
    ]
    assert {t.status for t in tasks} == {"open"} and tasks[1].priority == "high" and tasks[0].type == "onboarding"
    move(tenant_a, account, stages["Onboarding"])  # saved again with the same stage: no new entry
    move(tenant_a, account, stages["Onboarding"])
    assert len(playbook_tasks(tenant_a, account)) == 3
    move(tenant_a, account, stages["Adoption"])
    move(tenant_a, account, stages["Onboarding"])  # re-entering is a new entry
    assert len(playbook_tasks(tenant_a, account)) == 6
    with tenant_context(tenant_a):
        assert PlaybookRun.objects.filter(account=account, playbook=kickoff).count() == 2


def test_saving_the_same_account_instance_twice_is_one_stage_entry(tenant_a, csm, stages, kickoff):
    account = AccountFactory(tenant=tenant_a, csm=csm, stage=stages["Adoption"])
    with tenant_context(tenant_a):
        account.stage = stages["Onboarding"]
        account.save()
        account.save()
    assert len(playbook_tasks(tenant_a, account)) == 3


def test_a_new_account_created_in_the_stage_gets_the_playbook(tenant_a, csm, stages, kickoff):
    account = AccountFactory(tenant=tenant_a, csm=csm, stage=stages["Onboarding"])
    assert len(playbook_tasks(tenant_a, account)) == 3


def test_inactive_playbooks_and_other_stages_do_nothing(tenant_a, csm, stages, kickoff):
    with tenant_context(tenant_a):
        Playbook.objects.filter(pk=kickoff.pk).update(is_active=False)
    account = AccountFactory(tenant=tenant_a, csm=csm, stage=stages["Adoption"])
    move(tenant_a, account, stages["Onboarding"])
    assert playbook_tasks(tenant_a, account) == []


def upsert(tenant, rows):
    with tenant_context(tenant), transaction.atomic():
        ids = [r["external_id"] for r in rows]
        existing = {a.external_id: a for a in Account.objects.select_for_update().filter(external_id__in=ids)}
        return accounts_bulk_upsert(rows=rows, existing=existing)


def test_a_playbook_applies_once_per_stage_entry_through_the_bulk_upsert(tenant_a, csm, stages, kickoff):
    onboarding, adoption = stages["Onboarding"], stages["Adoption"]
    assert upsert(tenant_a, [{"external_id": "A1", "name": "One", "stage": onboarding, "csm": csm},
                             {"external_id": "A2", "name": "Two", "stage": adoption, "csm": csm}]) == (2, 0)
    with tenant_context(tenant_a):
        one, two = Account.objects.get(external_id="A1"), Account.objects.get(external_id="A2")
    assert len(playbook_tasks(tenant_a, one)) == 3 and playbook_tasks(tenant_a, two) == []
    upsert(tenant_a, [{"external_id": "A1", "stage": onboarding}, {"external_id": "A2", "stage": onboarding}])
    assert len(playbook_tasks(tenant_a, one)) == 3 and len(playbook_tasks(tenant_a, two)) == 3
    upsert(tenant_a, [{"external_id": "A1", "stage": adoption}])
    upsert(tenant_a, [{"external_id": "A1", "stage": onboarding}])
    assert len(playbook_tasks(tenant_a, one)) == 6


def test_the_nightly_job_is_a_safety_net_and_idempotent(tenant_a, csm, stages, kickoff):
    account = AccountFactory(tenant=tenant_a, csm=csm, stage=stages["Adoption"])
    with tenant_context(tenant_a):
        # A stage written without the ORM's save (no signal), as a raw SQL fix would.
        Account.objects.filter(pk=account.pk).update(stage=stages["Onboarding"])
    assert playbook_tasks(tenant_a, account) == []
    today = timezone.localdate()
    with tenant_context(tenant_a):
        apply_stage_playbooks(tenant=tenant_a, day=today)
    assert len(playbook_tasks(tenant_a, account)) == 3
    with tenant_context(tenant_a):
        assert apply_stage_playbooks(tenant=tenant_a, day=today) == 0
        assert PlaybookRun.objects.filter(account=account).count() == 1
    assert len(playbook_tasks(tenant_a, account)) == 3


def test_the_nightly_job_counts_the_tasks_it_caused(tenant_a, csm, stages, kickoff):
    account = AccountFactory(tenant=tenant_a, csm=csm, stage=stages["Adoption"])
    with tenant_context(tenant_a):
        Account.objects.filter(pk=account.pk).update(stage=stages["Onboarding"])
        assert apply_stage_playbooks(tenant=tenant_a, day=timezone.localdate()) == 3


def test_a_playbook_applied_by_hand_applies_every_time(tenant_a, csm, stages, kickoff):
    from success_plans.playbooks import playbook_apply

    account = AccountFactory(tenant=tenant_a, csm=csm)
    with tenant_context(tenant_a):
        playbook_apply(playbook=kickoff, account=account, by=csm)
        playbook_apply(playbook=kickoff, account=account, by=csm)
    tasks = playbook_tasks(tenant_a, account)
    assert len(tasks) == 6 and {t.owner_id for t in tasks} == {csm.pk}


# --- reviews, ROI, feedback, approved goals ------------------------------------------------------------


def test_open_decisions_are_carried_forward_to_later_reviews(tenant_a):
    account, other = AccountFactory(tenant=tenant_a), AccountFactory(tenant=tenant_a)
    with tenant_context(tenant_a):
        q1 = BusinessReview.objects.create(account=account, held_on=date(2026, 1, 15))
        q2 = BusinessReview.objects.create(account=account, held_on=date(2026, 4, 15))
        q3 = BusinessReview.objects.create(account=account, held_on=date(2026, 7, 15))
        elsewhere = BusinessReview.objects.create(account=other, held_on=date(2026, 1, 1))
        sso = services.decision_add(review=q1, text="Roll out SSO")
        done = services.decision_add(review=q1, text="Train admins")
        services.decision_close(decision=done, status=Decision.Status.DONE)
        services.decision_add(review=elsewhere, text="Not this account")
        exports = services.decision_add(review=q2, text="Fix exports")

        at_q2 = selectors.decisions_for_review(review=q2)
        assert at_q2["taken"] == [exports] and at_q2["carried"] == [sso]
        assert selectors.decisions_for_review(review=q3)["carried"] == [sso, exports]
        assert services.decision_close(decision=sso, status=Decision.Status.DROPPED)
        assert not services.decision_close(decision=sso, status=Decision.Status.DONE)  # closed once
        assert selectors.decisions_for_review(review=q3)["carried"] == [exports]
        assert selectors.decisions_for_review(review=q1)["carried"] == []


def test_roi_is_value_over_what_the_customer_pays():
    assert selectors.roi(value=D("150000"), paid=D("100000")) == D("1.50")
    assert selectors.roi(value=D("1"), paid=D("3")) == D("0.33")
    assert selectors.roi(value=D("5000"), paid=None) is None
    assert selectors.roi(value=D("5000"), paid=D("0")) is None


def test_feedback_is_ranked_by_the_number_of_accounts_asking(tenant_a):
    accounts = AccountFactory.create_batch(3, tenant=tenant_a)
    with tenant_context(tenant_a):
        items = {title: ProductFeedback.objects.create(title=title, product_area="x")
                 for title in ("One", "Three", "None", "Two")}
        links = [(items["One"], accounts[:1]), (items["Three"], accounts), (items["Two"], accounts[1:])]
        FeedbackAccount.objects.bulk_create(
            [FeedbackAccount(feedback=f, account=a) for f, asking in links for a in asking])
        ranking = list(selectors.feedback_ranking())
        assert [(f.title, f.prevalence) for f in ranking] == [("Three", 3), ("Two", 2), ("One", 1), ("None", 0)]
        ProductFeedback.objects.filter(pk=items["Two"].pk).update(status="planned")
        assert [f.title for f in selectors.feedback_ranking(status="planned")] == ["Two"]


def test_approved_goals_are_counted_in_the_year_of_their_approval(tenant_a):
    account = AccountFactory(tenant=tenant_a)
    contact = ContactFactory(tenant=tenant_a, account=account)
    goals = [GoalFactory(tenant=tenant_a, plan__account=account) for _ in range(4)]
    with tenant_context(tenant_a):
        services.goal_approve(goal=goals[0], contact=contact, on=date(2026, 2, 1))
        services.goal_approve(goal=goals[1], contact=contact, on=date(2026, 11, 30))
        services.goal_approve(goal=goals[2], contact=contact, on=date(2025, 12, 31))
        assert selectors.approved_goals_in_year(account=account, year=2026) == 2
        assert selectors.approved_goals_in_year(account=account, year=2025) == 1
        assert selectors.approved_goals_in_year(account=AccountFactory(tenant=tenant_a), year=2026) == 0
        assert Goal.objects.filter(approved_by__isnull=True).count() == 1
