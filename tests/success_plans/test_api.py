"""The success plans REST API under /api/v1/: CRUD, filters, actions, roles, the object rule, tenancy."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from success_plans.models import (
    Advocacy,
    BusinessReview,
    Decision,
    FeedbackAccount,
    Goal,
    GoalUpdate,
    Playbook,
    ProductFeedback,
    SuccessPlan,
    Task,
    ValueRealised,
)
from tests.api import count, member, reload
from tests.factories import (
    AccountFactory,
    ContactFactory,
    GoalFactory,
    LifecycleStageFactory,
    SuccessPlanFactory,
)

TODAY = timezone.localdate()


@pytest.fixture
def other_csm(tenant_a):
    return member(tenant_a, Role.CSM, "other-csm@alpha.test")


@pytest.fixture
def own_account(tenant_a, teammate):
    return AccountFactory(tenant=tenant_a, csm=teammate, name="Initech")


@pytest.fixture
def others_account(tenant_a, other_csm):
    return AccountFactory(tenant=tenant_a, csm=other_csm, name="Umbrella")


@pytest.fixture
def plan(tenant_a, own_account):
    return SuccessPlanFactory(tenant=tenant_a, account=own_account)


@pytest.fixture
def others_plan(tenant_a, others_account):
    return SuccessPlanFactory(tenant=tenant_a, account=others_account)


@pytest.fixture
def champion(tenant_a, own_account):
    return ContactFactory(tenant=tenant_a, account=own_account, name="Cara Champion")


@pytest.fixture
def foreign_goal(tenant_b):
    return GoalFactory(tenant=tenant_b)


def goal_body(plan, **extra):
    return {"plan": plan.pk, "title": "Cut tickets", "measure": "tickets per week", "unit": "tickets",
            "baseline": "10", "target": "5", "start_date": str(TODAY - timedelta(days=30)),
            "due_date": str(TODAY + timedelta(days=60)), **extra}


# --- plans ---------------------------------------------------------------------------------------------


def test_plans_are_created_listed_filtered_and_updated(csm_api, tenant_a, teammate, own_account, others_plan):
    response = csm_api.post("/success-plans/", {
        "account": own_account.pk, "title": "FY26 plan", "period_start": "2026-01-01", "period_end": "2026-12-31",
        "objectives": "Roll out to every region", "roi_hypothesis": "Saves 2 FTE in support"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == teammate.pk and body["status"] == "active"
    listed = csm_api.get("/success-plans/", {"account": own_account.pk}).json()
    assert [p["id"] for p in listed["results"]] == [body["id"]]
    assert csm_api.get("/success-plans/").json()["count"] == 2
    response = csm_api.patch(f"/success-plans/{body['id']}/", {"status": "completed"})
    assert response.status_code == 200 and response.json()["status"] == "completed"


def test_a_plan_period_must_be_ordered_and_a_plan_cannot_move(csm_api, plan, own_account, others_account):
    response = csm_api.post("/success-plans/", {"account": own_account.pk, "title": "x",
                                                "period_start": "2026-06-01", "period_end": "2026-01-01"})
    assert response.status_code == 400 and "period_end" in response.json()
    response = csm_api.patch(f"/success-plans/{plan.pk}/", {"account": others_account.pk})
    assert response.status_code == 400 and "account" in response.json()


def test_there_is_no_delete(ops_api, tenant_a, plan):
    # No route action for DELETE, so ActionPermission refuses it before DRF would answer 405.
    assert ops_api.client.delete(f"/api/v1/success-plans/{plan.pk}/", **ops_api.auth).status_code in (403, 405)
    assert count(SuccessPlan, tenant_a) == 1


# --- goals ---------------------------------------------------------------------------------------------


def test_a_goal_is_created_through_the_service_with_its_baseline_reading(csm_api, tenant_a, plan, champion):
    response = csm_api.post("/goals/", goal_body(plan, approved_by=champion.pk))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account"] == plan.account_id and body["current_value"] == "10.00"
    assert body["approved_by"] == champion.pk and body["approved_on"] == str(TODAY)
    assert body["status"] == "at_risk" and body["progress"] == "0.0000"  # a third of the time gone, no progress
    with tenant_context(tenant_a):
        assert GoalUpdate.objects.filter(goal_id=body["id"], note="Baseline").count() == 1


def test_goal_validation_errors_are_field_messages(csm_api, plan, tenant_a, others_account):
    response = csm_api.post("/goals/", goal_body(plan, target="10"))
    assert response.status_code == 400 and response.json()
    response = csm_api.post("/goals/", goal_body(plan, due_date=str(TODAY - timedelta(days=60))))
    assert response.status_code == 400
    stranger = ContactFactory(tenant=tenant_a, account=others_account)
    response = csm_api.post("/goals/", goal_body(plan, approved_by=stranger.pk))
    assert response.status_code == 400 and "approved_by" in response.json()
    assert count(Goal, tenant_a) == 0


def test_goal_progress_moves_the_current_value_and_the_status(csm_api, tenant_a, plan):
    goal = GoalFactory(tenant=tenant_a, plan=plan, baseline=100, target=200, current_value=100,
                       start_date=TODAY - timedelta(days=50), due_date=TODAY + timedelta(days=50))
    assert csm_api.get(f"/goals/{goal.pk}/").json()["status"] == "at_risk"
    response = csm_api.post(f"/goals/{goal.pk}/progress/", {"value": "160", "note": "After the rollout"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["current_value"] == "160.00" and body["status"] == "on_track" and body["progress"] == "0.6000"
    # A late reading for an earlier date goes into the history only.
    response = csm_api.post(f"/goals/{goal.pk}/progress/", {"value": "120", "as_of": str(TODAY - timedelta(days=5))})
    assert response.json()["current_value"] == "160.00"
    response = csm_api.post(f"/goals/{goal.pk}/progress/", {"value": "250", "as_of": str(TODAY + timedelta(days=1))})
    assert response.status_code == 400 and "as_of" in response.json()
    assert csm_api.post(f"/goals/{goal.pk}/progress/", {"value": "210"}).json()["status"] == "achieved"
    with tenant_context(tenant_a):
        assert GoalUpdate.objects.filter(goal=goal).count() == 3


def test_goals_are_approved_by_a_contact_of_their_account(csm_api, tenant_a, plan, champion, others_account):
    goal = GoalFactory(tenant=tenant_a, plan=plan)
    stranger = ContactFactory(tenant=tenant_a, account=others_account)
    response = csm_api.post(f"/goals/{goal.pk}/approve/", {"contact": stranger.pk})
    assert response.status_code == 400 and "contact" in response.json()
    response = csm_api.post(f"/goals/{goal.pk}/approve/", {"contact": champion.pk, "on": str(TODAY)})
    assert response.status_code == 200
    assert response.json()["approved_by"] == champion.pk and response.json()["approved_on"] == str(TODAY)
    assert csm_api.get("/goals/", {"approved": "true"}).json()["count"] == 1
    assert csm_api.get("/goals/", {"approved": "false"}).json()["count"] == 0


def test_a_goal_status_override_needs_a_reason_and_wins(csm_api, tenant_a, plan):
    goal = GoalFactory(tenant=tenant_a, plan=plan, current_value=200)
    assert csm_api.get(f"/goals/{goal.pk}/").json()["status"] == "achieved"
    response = csm_api.patch(f"/goals/{goal.pk}/", {"status_override": "at_risk"})
    assert response.status_code == 400 and "override_reason" in response.json()
    response = csm_api.patch(f"/goals/{goal.pk}/", {"status_override": "at_risk", "override_reason": "Sponsor left",
                                                    "title": "Grow WAU"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "at_risk" and response.json()["title"] == "Grow WAU"
    response = csm_api.patch(f"/goals/{goal.pk}/", {"status_override": ""})
    assert response.json()["status"] == "achieved" and response.json()["override_reason"] == ""
    response = csm_api.patch(f"/goals/{goal.pk}/", {"target": "100"})  # equal to the baseline
    assert response.status_code == 400


def test_goal_filters(csm_api, tenant_a, plan, others_plan):
    GoalFactory(tenant=tenant_a, plan=plan)
    GoalFactory(tenant=tenant_a, plan=others_plan, due_date=TODAY + timedelta(days=400))
    assert csm_api.get("/goals/", {"plan": plan.pk}).json()["count"] == 1
    assert csm_api.get("/goals/", {"account": others_plan.account_id}).json()["count"] == 1
    assert csm_api.get("/goals/", {"due_after": str(TODAY + timedelta(days=380))}).json()["count"] == 1


def _goals_list_queries(api, tenant, plan, n):
    with tenant_context(tenant):
        Goal.objects.all().delete()
    for _ in range(n):
        GoalFactory(tenant=tenant, plan=plan)
    api.get("/goals/")  # warm up (the token's first use is recorded once)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/goals/")
    assert response.json()["count"] == n
    return len(queries)


def test_the_goal_list_runs_a_constant_number_of_queries(csm_api, tenant_a, plan):
    assert _goals_list_queries(csm_api, tenant_a, plan, 3) == _goals_list_queries(csm_api, tenant_a, plan, 25)


# --- value ---------------------------------------------------------------------------------------------


def test_value_records_are_recorded_validated_and_filtered(csm_api, tenant_a, teammate, plan, champion):
    goal = GoalFactory(tenant=tenant_a, plan=plan)
    response = csm_api.post("/value-records/", {
        "account": plan.account_id, "goal": goal.pk, "kind": "cost_avoidance", "amount": "12000.50",
        "realised_on": str(TODAY), "how_measured": "Support hours saved x rate"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["plan"] == plan.pk and body["recorded_by"] == teammate.pk and body["validated_by"] is None
    response = csm_api.patch(f"/value-records/{body['id']}/", {"validated_by": champion.pk})
    assert response.status_code == 200 and response.json()["validated_on"] == str(TODAY)
    assert csm_api.get("/value-records/", {"validated": "true"}).json()["count"] == 1
    assert csm_api.get("/value-records/", {"kind": "revenue_uplift"}).json()["count"] == 0
    response = csm_api.post("/value-records/", {
        "account": plan.account_id, "kind": "other", "amount": "-5", "realised_on": str(TODAY), "how_measured": "x"})
    assert response.status_code == 400 and "amount" in response.json()
    assert count(ValueRealised, tenant_a) == 1


def test_value_cannot_point_at_another_accounts_goal(csm_api, tenant_a, plan, others_plan):
    goal = GoalFactory(tenant=tenant_a, plan=others_plan)
    response = csm_api.post("/value-records/", {
        "account": plan.account_id, "goal": goal.pk, "kind": "other", "amount": "5", "realised_on": str(TODAY),
        "how_measured": "x"})
    assert response.status_code == 400 and "goal" in response.json()


# --- tasks ---------------------------------------------------------------------------------------------


def test_a_task_is_created_filtered_and_completed_once(csm_api, tenant_a, teammate, own_account):
    response = csm_api.post("/tasks/", {"account": own_account.pk, "title": "Send the usage report",
                                        "due_date": str(TODAY + timedelta(days=2)), "priority": "high"})
    assert response.status_code == 201, response.json()
    task = response.json()
    assert task["owner"] == teammate.pk and task["status"] == "open" and task["source"] == "manual"
    assert csm_api.get("/tasks/", {"owner": "me", "status": "open"}).json()["count"] == 1
    response = csm_api.post(f"/tasks/{task['id']}/complete/", {})
    assert response.status_code == 200 and response.json()["status"] == "done" and response.json()["completed_at"]
    assert csm_api.post(f"/tasks/{task['id']}/complete/", {}).status_code == 409
    assert csm_api.get("/tasks/", {"owner": "me", "status": "open"}).json()["count"] == 0


# --- reviews and decisions -----------------------------------------------------------------------------


def test_reviews_and_decisions_carried_forward_and_closed(csm_api, tenant_a, teammate, own_account, champion):
    response = csm_api.post("/reviews/", {"account": own_account.pk, "kind": "qbr",
                                          "held_on": str(TODAY - timedelta(days=90)), "contacts": [champion.pk],
                                          "users": [teammate.pk], "agenda": "Goals"})
    assert response.status_code == 201, response.json()
    first = response.json()
    assert first["contacts"] == [champion.pk] and first["users"] == [teammate.pk]
    response = csm_api.post("/decisions/", {"review": first["id"], "text": "Roll out SSO", "owner": teammate.pk,
                                            "due_date": str(TODAY)})
    assert response.status_code == 201, response.json()
    decision = response.json()
    assert decision["account"] == own_account.pk and decision["status"] == "open"
    csm_api.post("/decisions/", {"review": first["id"], "text": "Train admins", "owner_contact": champion.pk})

    second = csm_api.post("/reviews/", {"account": own_account.pk, "held_on": str(TODAY)}).json()
    detail = csm_api.get(f"/reviews/{second['id']}/").json()
    assert {d["text"] for d in detail["carried_forward"]} == {"Roll out SSO", "Train admins"}

    response = csm_api.post(f"/decisions/{decision['id']}/close/", {"status": "open"})
    assert response.status_code == 400 and "status" in response.json()
    response = csm_api.post(f"/decisions/{decision['id']}/close/", {"status": "done"})
    assert response.status_code == 200 and response.json()["status"] == "done" and response.json()["closed_at"]
    assert csm_api.post(f"/decisions/{decision['id']}/close/", {"status": "dropped"}).status_code == 409
    detail = csm_api.get(f"/reviews/{second['id']}/").json()
    assert [d["text"] for d in detail["carried_forward"]] == ["Train admins"]
    assert csm_api.get("/decisions/", {"status": "open"}).json()["count"] == 1
    assert csm_api.get("/reviews/", {"account": own_account.pk}).json()["count"] == 2

    response = csm_api.patch(f"/reviews/{first['id']}/", {"contacts": [], "notes": "Went well"})
    assert response.status_code == 200 and response.json()["contacts"] == [] and response.json()["notes"]


def test_review_attendees_must_be_of_the_account(csm_api, tenant_a, own_account, others_account):
    stranger = ContactFactory(tenant=tenant_a, account=others_account)
    response = csm_api.post("/reviews/", {"account": own_account.pk, "held_on": str(TODAY),
                                          "contacts": [stranger.pk]})
    assert response.status_code == 400 and "contacts" in response.json()
    assert count(BusinessReview, tenant_a) == 0


# --- playbooks -----------------------------------------------------------------------------------------


def test_playbooks_with_nested_steps_are_managed_by_ops(ops_api, csm_api, tenant_a):
    onboarding = LifecycleStageFactory(tenant=tenant_a, name="Onboarding")
    body = {"name": "Onboarding kickoff", "stage": onboarding.pk, "steps": [
        {"title": "Kickoff call", "day_offset": 0, "type": "onboarding"},
        {"title": "Admin training", "day_offset": 7, "priority": "high"}]}
    assert csm_api.post("/playbooks/", body).status_code == 403
    response = ops_api.post("/playbooks/", body)
    assert response.status_code == 201, response.json()
    playbook = response.json()
    assert [(s["title"], s["position"]) for s in playbook["steps"]] == [("Kickoff call", 0), ("Admin training", 1)]
    assert ops_api.post("/playbooks/", body).status_code == 400  # same name
    assert csm_api.get("/playbooks/", {"stage": onboarding.pk}).json()["count"] == 1
    assert csm_api.patch(f"/playbooks/{playbook['id']}/", {"is_active": False}).status_code == 403
    response = ops_api.patch(f"/playbooks/{playbook['id']}/", {"steps": [{"title": "Welcome email"}]})
    assert response.status_code == 200 and [s["title"] for s in response.json()["steps"]] == ["Welcome email"]
    assert count(Playbook, tenant_a) == 1


# --- advocacy and feedback -----------------------------------------------------------------------------


def test_advocacy_is_recorded_and_filtered(csm_api, tenant_a, teammate, own_account, champion):
    response = csm_api.post("/advocacy/", {"account": own_account.pk, "contact": champion.pk, "kind": "case_study",
                                           "happened_on": str(TODAY)})
    assert response.status_code == 201, response.json()
    assert response.json()["captured_by"] == teammate.pk and response.json()["status"] == "completed"
    assert csm_api.get("/advocacy/", {"kind": "case_study", "captured_by": "me"}).json()["count"] == 1
    assert csm_api.get("/advocacy/", {"kind": "referral"}).json()["count"] == 0
    response = csm_api.patch(f"/advocacy/{response.json()['id']}/", {"status": "declined"})
    assert response.status_code == 200 and count(Advocacy, tenant_a) == 1


def test_feedback_is_ranked_by_the_number_of_accounts_asking(csm_api, tenant_a, own_account, others_account):
    third = AccountFactory(tenant=tenant_a)
    rare = csm_api.post("/feedback/", {"title": "Dark mode", "product_area": "UI", "accounts": [own_account.pk]})
    assert rare.status_code == 201, rare.json()
    assert rare.json()["prevalence"] == 1
    common = csm_api.post("/feedback/", {"title": "SAML SSO", "product_area": "Security",
                                         "accounts": [own_account.pk, others_account.pk, third.pk]}).json()
    middle = csm_api.post("/feedback/", {"title": "Export to CSV", "product_area": "Reports",
                                         "accounts": [others_account.pk, third.pk]}).json()
    ranking = csm_api.get("/feedback/").json()["results"]
    assert [f["title"] for f in ranking] == ["SAML SSO", "Export to CSV", "Dark mode"]
    assert ranking[0]["prevalence"] == 3 and sorted(ranking[0]["accounts"]) == sorted(common["accounts"])
    assert csm_api.get("/feedback/", {"account": own_account.pk}).json()["count"] == 2
    response = csm_api.patch(f"/feedback/{middle['id']}/", {"accounts": [third.pk], "status": "planned"})
    assert response.status_code == 200 and response.json()["prevalence"] == 1
    assert count(FeedbackAccount, tenant_a) == 5
    assert count(ProductFeedback, tenant_a) == 3


# --- roles and the object rule -------------------------------------------------------------------------


def test_an_executive_reads_but_does_not_write(executive_api, tenant_a, plan):
    goal = GoalFactory(tenant=tenant_a, plan=plan)
    for path in ("/success-plans/", "/goals/", "/value-records/", "/tasks/", "/reviews/", "/decisions/",
                 "/playbooks/", "/advocacy/", "/feedback/"):
        assert executive_api.get(path).status_code == 200, path
    assert executive_api.get(f"/goals/{goal.pk}/").status_code == 200
    assert executive_api.patch(f"/success-plans/{plan.pk}/", {"title": "x"}).status_code == 403
    assert executive_api.post(f"/goals/{goal.pk}/progress/", {"value": "150"}).status_code == 403
    assert executive_api.post("/tasks/", {"account": plan.account_id, "title": "x"}).status_code == 403
    assert executive_api.post("/feedback/", {"title": "x", "product_area": "y"}).status_code == 403


def test_a_csm_cannot_write_on_another_csms_account(csm_api, tenant_a, others_account, others_plan):
    goal = GoalFactory(tenant=tenant_a, plan=others_plan)
    contact = ContactFactory(tenant=tenant_a, account=others_account)
    with tenant_context(tenant_a):
        task = Task.objects.create(account=others_account, title="Theirs")
        review = BusinessReview.objects.create(account=others_account, held_on=TODAY)
        decision = Decision.objects.create(review=review, account=others_account, text="Theirs")
    assert csm_api.get(f"/goals/{goal.pk}/").status_code == 200  # reading is for everyone
    assert csm_api.patch(f"/success-plans/{others_plan.pk}/", {"title": "Mine now"}).status_code == 403
    assert csm_api.post("/success-plans/", {"account": others_account.pk, "title": "x", "period_start": "2026-01-01",
                                            "period_end": "2026-12-31"}).status_code == 403
    assert csm_api.post("/goals/", goal_body(others_plan)).status_code == 403
    assert csm_api.post(f"/goals/{goal.pk}/progress/", {"value": "150"}).status_code == 403
    assert csm_api.post(f"/goals/{goal.pk}/approve/", {"contact": contact.pk}).status_code == 403
    assert csm_api.post(f"/tasks/{task.pk}/complete/", {}).status_code == 403
    assert csm_api.post("/decisions/", {"review": review.pk, "text": "x"}).status_code == 403
    assert csm_api.post(f"/decisions/{decision.pk}/close/", {"status": "done"}).status_code == 403
    assert csm_api.post("/advocacy/", {"account": others_account.pk, "kind": "referral",
                                       "happened_on": str(TODAY)}).status_code == 403
    assert reload(goal, tenant_a).current_value == Decimal("100") and reload(task, tenant_a).status == "open"
    assert count(SuccessPlan, tenant_a) == 1


# --- tenancy -------------------------------------------------------------------------------------------


def test_another_tenants_ids_are_not_found_in_urls_and_invalid_in_bodies(csm_api, tenant_b, foreign_goal, plan):
    assert csm_api.get(f"/goals/{foreign_goal.pk}/").status_code == 404
    assert csm_api.post(f"/goals/{foreign_goal.pk}/progress/", {"value": "150"}).status_code == 404
    assert csm_api.get(f"/success-plans/{foreign_goal.plan_id}/").status_code == 404
    assert csm_api.get("/goals/").json()["count"] == 0
    response = csm_api.post("/goals/", goal_body(foreign_goal.plan))
    assert response.status_code == 400 and "plan" in response.json()
    response = csm_api.post("/tasks/", {"account": foreign_goal.account_id, "title": "x"})
    assert response.status_code == 400 and "account" in response.json()
    assert csm_api.get("/goals/", {"account": foreign_goal.account_id}).status_code == 400
    assert reload(foreign_goal, tenant_b).current_value == Decimal("100")
