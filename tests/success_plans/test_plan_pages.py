# ruff: noqa: F811  (the shared fixtures of tests/accounts/conftest.py are imported below, then requested by name)
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from renewals.services import contract_save
from success_plans.models import Goal, GoalUpdate, Risk, SuccessPlan, Task, ValueRealised
from success_plans.services import value_record
from tests.accounts.conftest import (  # noqa: F401  (shared fixtures)
    account,
    executive,
    foreign_account,
    other_csm,
    others_account,
)
from tests.factories import ContactFactory, GoalFactory, SuccessPlanFactory, TenantOwnedFactory

PLANS = "/t/alpha/plans"


class TaskFactory(TenantOwnedFactory):
    class Meta:
        model = "success_plans.Task"

    title = "Send the adoption report"


def _plan(tenant, account, **kwargs):
    return SuccessPlanFactory(tenant=tenant, account=account, **kwargs)


def test_it_shows_the_plan_goals_progress_and_unapproved_on_the_account_page(client, tenant_a, account, csm):
    plan = _plan(tenant_a, account, title="FY26 plan", objectives="Roll out to EMEA")
    sponsor = ContactFactory(tenant=tenant_a, account=account, name="Vera Sponsor")
    GoalFactory(tenant=tenant_a, plan=plan, title="Grow WAU", current_value=150)
    GoalFactory(tenant=tenant_a, plan=plan, title="Cut tickets", baseline=10, target=5, current_value=10,
                approved_by=sponsor, approved_on=timezone.localdate())
    client.force_login(csm)
    page = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert "FY26 plan" in page and "Roll out to EMEA" in page
    assert "Grow WAU" in page and 'aria-valuenow="50"' in page  # halfway from 100 to 200
    assert page.count("badge-unapproved") == 1  # only the goal nobody approved
    assert "1 of 2</strong> new approved goals this year" in page
    assert "ROI appears once the account has a contract" in page


def test_it_shows_value_realised_as_a_share_of_the_accounts_arr(client, tenant_a, account, csm):
    today = timezone.localdate()
    with tenant_context(tenant_a):
        contract_save(account=account, start_date=today.replace(day=1), end_date=today.replace(day=1).replace(
            year=today.year + 1), lines=[{"product": "Platform", "arr": "40000"}])
        value_record(account=account, by=csm, kind="cost_avoidance", amount=Decimal("50000"), realised_on=today,
                     how_measured="Fewer support hires")
    client.force_login(csm)
    page = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert "125% of ARR (40,000.00" in page


def test_it_offers_to_create_a_plan_to_writers_only(client, tenant_a, account, csm, executive):
    client.force_login(csm)
    assert "Create a success plan" in client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    client.force_login(executive)
    page = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert "No success plan yet" in page and "Create a success plan" not in page


def test_the_account_panel_query_count_does_not_grow_with_goals_and_tasks(client, tenant_a, account, csm):
    plan = _plan(tenant_a, account)
    sponsor = ContactFactory(tenant=tenant_a, account=account)
    GoalFactory(tenant=tenant_a, plan=plan)
    TaskFactory(tenant=tenant_a, account=account, owner=csm)
    client.force_login(csm)
    url = f"/t/alpha/accounts/{account.pk}/"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    GoalFactory.create_batch(8, tenant=tenant_a, plan=plan, approved_by=sponsor, approved_on=timezone.localdate())
    TaskFactory.create_batch(8, tenant=tenant_a, account=account, owner=csm, plan=plan)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_it_creates_and_edits_a_plan(client, tenant_a, account, csm):
    client.force_login(csm)
    assert client.get(f"{PLANS}/new/?account={account.pk}").status_code == 200
    bad = client.post(f"{PLANS}/new/?account={account.pk}", {"title": "", "status": "active",
                                                              "period_start": "2026-01-01", "period_end": "2025-01-01"})
    assert bad.status_code == 400 and "The plan ends after it starts." in bad.content.decode()
    response = client.post(f"{PLANS}/new/?account={account.pk}", {
        "title": "FY26", "status": "active", "period_start": "2026-01-01", "period_end": "2026-12-31",
        "objectives": "Adopt", "roi_hypothesis": "Save 2 FTE"})
    with tenant_context(tenant_a):
        plan = SuccessPlan.objects.get()
    assert response.status_code == 302 and plan.account_id == account.pk
    response = client.post(f"{PLANS}/{plan.pk}/edit/", {
        "title": "FY26 renamed", "status": "active", "period_start": "2026-01-01", "period_end": "2026-12-31"})
    assert response.status_code == 302
    assert "FY26 renamed" in client.get(f"{PLANS}/{plan.pk}/").content.decode()


def test_it_adds_a_goal_and_refuses_a_goal_whose_target_is_its_baseline(client, tenant_a, account, csm):
    plan = _plan(tenant_a, account)
    client.force_login(csm)
    data = {"title": "Grow WAU", "measure": "weekly active users", "baseline": "100", "target": "100",
            "due_date": (timezone.localdate() + timedelta(days=90)).isoformat()}
    bad = client.post(f"{PLANS}/{plan.pk}/goals/new/", data)
    assert bad.status_code == 400 and "The target differs from the baseline." in bad.content.decode()
    assert client.post(f"{PLANS}/{plan.pk}/goals/new/", {**data, "target": "200"}).status_code == 302
    with tenant_context(tenant_a):
        goal = Goal.objects.get()
        assert goal.current_value == 100 and goal.updates.count() == 1


def test_a_progress_update_changes_the_status_and_keeps_the_history(client, tenant_a, account, csm):
    today = timezone.localdate()
    plan = _plan(tenant_a, account)
    goal = GoalFactory(tenant=tenant_a, plan=plan, start_date=today - timedelta(days=50),
                       due_date=today + timedelta(days=50), current_as_of=today - timedelta(days=50))
    client.force_login(csm)
    page = client.get(f"{PLANS}/{plan.pk}/").content.decode()
    assert 'goal-at_risk">At risk' in page  # half the time gone, no progress
    response = client.post(f"{PLANS}/goals/{goal.pk}/progress/", {"value": "160", "note": "Rollout"},
                           HTTP_HX_REQUEST="true")
    row = response.content.decode()
    assert response.status_code == 200 and row.startswith(f'<tbody id="goal-{goal.pk}"')  # just the row
    assert 'goal-on_track">On track' in row and "Rollout" in row and 'aria-valuenow="60"' in row
    client.post(f"{PLANS}/goals/{goal.pk}/progress/", {"value": "210"}, HTTP_HX_REQUEST="true")
    with tenant_context(tenant_a):
        assert GoalUpdate.objects.filter(goal=goal).count() == 2
    assert 'goal-achieved">Achieved' in client.get(f"{PLANS}/{plan.pk}/").content.decode()


def test_a_late_reading_for_an_earlier_date_does_not_replace_a_newer_value(client, tenant_a, account, csm):
    today = timezone.localdate()
    goal = GoalFactory(tenant=tenant_a, plan=_plan(tenant_a, account), current_as_of=today - timedelta(days=40))
    client.force_login(csm)
    client.post(f"{PLANS}/goals/{goal.pk}/progress/", {"value": "170", "as_of": today.isoformat()})
    late = client.post(f"{PLANS}/goals/{goal.pk}/progress/",
                       {"value": "120", "as_of": (today - timedelta(days=10)).isoformat()})
    assert late.status_code == 302
    with tenant_context(tenant_a):
        goal.refresh_from_db()
        assert goal.current_value == Decimal("170") and goal.current_as_of == today
        assert sorted(goal.updates.values_list("value", flat=True)) == [Decimal("120"), Decimal("170")]


def test_a_reading_in_the_future_is_refused_next_to_the_field(client, tenant_a, account, csm):
    goal = GoalFactory(tenant=tenant_a, plan=_plan(tenant_a, account))
    client.force_login(csm)
    response = client.post(f"{PLANS}/goals/{goal.pk}/progress/",
                           {"value": "150", "as_of": (timezone.localdate() + timedelta(days=3)).isoformat()})
    assert response.status_code == 400 and "cannot be dated in the future" in response.content.decode()
    htmx = client.post(f"{PLANS}/goals/{goal.pk}/progress/", {"value": "abc"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400 and f'id="goal-{goal.pk}"' in htmx.content.decode()


def test_approval_by_a_contact_of_another_account_is_refused(client, tenant_a, account, others_account, csm):
    goal = GoalFactory(tenant=tenant_a, plan=_plan(tenant_a, account))
    stranger = ContactFactory(tenant=tenant_a, account=others_account, name="Sam Stranger")
    champion = ContactFactory(tenant=tenant_a, account=account, name="Carl Champion")
    client.force_login(csm)
    refused = client.post(f"{PLANS}/goals/{goal.pk}/approve/", {"contact": stranger.pk})
    assert refused.status_code == 400 and "Sam Stranger is not at Initech" in refused.content.decode()
    with tenant_context(tenant_a):
        goal.refresh_from_db()
        assert goal.approved_by_id is None
    assert client.post(f"{PLANS}/goals/{goal.pk}/approve/", {"contact": champion.pk}).status_code == 302
    with tenant_context(tenant_a):
        goal.refresh_from_db()
        assert goal.approved_by_id == champion.pk and goal.approved_on == timezone.localdate()


def test_a_status_override_needs_a_reason(client, tenant_a, account, csm):
    goal = GoalFactory(tenant=tenant_a, plan=_plan(tenant_a, account), current_value=150)
    client.force_login(csm)
    refused = client.post(f"{PLANS}/goals/{goal.pk}/override/", {"status": "at_risk", "reason": "  "},
                          HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "Say why the status differs" in refused.content.decode()
    row = client.post(f"{PLANS}/goals/{goal.pk}/override/", {"status": "at_risk", "reason": "Sponsor leaving"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert 'goal-at_risk">At risk' in row and "Set by hand: Sponsor leaving" in row
    with tenant_context(tenant_a):
        goal.refresh_from_db()
        assert goal.status_override == "at_risk"


def test_it_records_value_from_the_plan_and_shows_the_totals(client, tenant_a, account, csm):
    plan = _plan(tenant_a, account)
    cfo = ContactFactory(tenant=tenant_a, account=account, name="Cleo CFO")
    client.force_login(csm)
    today = timezone.localdate().isoformat()
    bad = client.post(f"{PLANS}/accounts/{account.pk}/value/new/?plan={plan.pk}",
                      {"kind": "cost_avoidance", "amount": "-5", "realised_on": today, "how_measured": "x"})
    assert bad.status_code == 400
    for amount, validated in [("1000", cfo.pk), ("250", "")]:
        response = client.post(f"{PLANS}/accounts/{account.pk}/value/new/", {
            "kind": "cost_avoidance", "amount": amount, "realised_on": today, "how_measured": "Hours saved x rate",
            "validated_by": validated, "plan_id": plan.pk})
        assert response.status_code == 302 and response["Location"] == f"{PLANS}/{plan.pk}/"
    with tenant_context(tenant_a):
        assert ValueRealised.objects.filter(plan=plan).count() == 2
    panel = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert "1,250.00" in panel and "1,000.00" in panel


def test_it_adds_risks_and_changes_their_status(client, tenant_a, account, csm):
    plan = _plan(tenant_a, account)
    client.force_login(csm)
    assert client.post(f"{PLANS}/{plan.pk}/risks/new/", {"title": ""}).status_code == 400
    assert client.post(f"{PLANS}/{plan.pk}/risks/new/", {"title": "Champion leaving", "severity": "high"}
                       ).status_code == 302
    with tenant_context(tenant_a):
        risk = Risk.objects.get()
    client.post(f"{PLANS}/risks/{risk.pk}/status/", {"status": "mitigated"})
    with tenant_context(tenant_a):
        risk.refresh_from_db()
        assert risk.status == "mitigated"


def test_a_task_is_created_and_marked_done_once(client, tenant_a, account, csm):
    client.force_login(csm)
    response = client.post(f"{PLANS}/accounts/{account.pk}/tasks/new/", {
        "title": "Prepare QBR deck", "owner": csm.pk, "due_date": timezone.localdate().isoformat(),
        "priority": "high", "type": "renewal_prep"})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        task = Task.objects.get()
    assert task.owner_id == csm.pk and task.priority == "high" and task.type == "renewal_prep"
    first = client.post(f"{PLANS}/tasks/{task.pk}/done/", HTTP_HX_REQUEST="true")
    with tenant_context(tenant_a):
        task.refresh_from_db()
    done_at = task.completed_at
    assert first.status_code == 200 and task.status == "done" and done_at is not None
    assert client.post(f"{PLANS}/tasks/{task.pk}/done/", HTTP_HX_REQUEST="true").status_code == 409
    with tenant_context(tenant_a):
        task.refresh_from_db()
    assert task.completed_at == done_at


def test_a_csm_cannot_write_on_another_csms_account(client, tenant_a, others_account, csm):
    plan = _plan(tenant_a, others_account)
    goal = GoalFactory(tenant=tenant_a, plan=plan)
    task = TaskFactory(tenant=tenant_a, account=others_account)
    client.force_login(csm)
    assert client.get(f"{PLANS}/{plan.pk}/").status_code == 200  # reading is fine
    today = timezone.localdate().isoformat()
    for url, data in [
        (f"{PLANS}/new/?account={others_account.pk}", {}),
        (f"{PLANS}/{plan.pk}/edit/", {}),
        (f"{PLANS}/{plan.pk}/goals/new/", {}),
        (f"{PLANS}/goals/{goal.pk}/progress/", {"value": "150"}),
        (f"{PLANS}/goals/{goal.pk}/override/", {"status": "at_risk", "reason": "x"}),
        (f"{PLANS}/accounts/{others_account.pk}/value/new/",
         {"kind": "other", "amount": "1", "realised_on": today, "how_measured": "x"}),
        (f"{PLANS}/accounts/{others_account.pk}/tasks/new/", {"title": "x", "priority": "low", "type": "task"}),
        (f"{PLANS}/tasks/{task.pk}/done/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    with tenant_context(tenant_a):
        assert GoalUpdate.objects.count() == 0 and Task.objects.get().status == "open"


def test_a_manager_writes_on_the_teams_accounts_only(client, tenant_a, account, others_account, manager):
    mine, theirs = GoalFactory(tenant=tenant_a, plan=_plan(tenant_a, account)), GoalFactory(
        tenant=tenant_a, plan=_plan(tenant_a, others_account))
    client.force_login(manager)
    assert client.post(f"{PLANS}/goals/{mine.pk}/progress/", {"value": "150"}).status_code == 302
    assert client.post(f"{PLANS}/goals/{theirs.pk}/progress/", {"value": "150"}).status_code == 403


def test_an_executive_reads_but_cannot_write(client, tenant_a, account, executive):
    plan = _plan(tenant_a, account)
    goal = GoalFactory(tenant=tenant_a, plan=plan)
    client.force_login(executive)
    page = client.get(f"{PLANS}/{plan.pk}/")
    assert page.status_code == 200 and "Record progress" not in page.content.decode()
    assert client.post(f"{PLANS}/goals/{goal.pk}/progress/", {"value": "150"}).status_code == 403
    assert client.get(f"{PLANS}/new/?account={account.pk}").status_code == 403


def test_another_tenants_ids_answer_404(client, tenant_b, tenant_a, foreign_account, csm):
    plan = _plan(tenant_b, foreign_account)
    goal = GoalFactory(tenant=tenant_b, plan=plan)
    task = TaskFactory(tenant=tenant_b, account=foreign_account)
    client.force_login(csm)
    assert client.get(f"{PLANS}/{plan.pk}/").status_code == 404
    assert client.get(f"{PLANS}/new/?account={foreign_account.pk}").status_code == 404
    assert client.post(f"{PLANS}/goals/{goal.pk}/progress/", {"value": "1"}).status_code == 404
    assert client.post(f"{PLANS}/tasks/{task.pk}/done/").status_code == 404
    assert client.get(f"{PLANS}/accounts/{foreign_account.pk}/value/new/").status_code == 404


def test_the_plan_page_query_count_does_not_grow_with_goals(client, tenant_a, account, csm):
    plan = _plan(tenant_a, account)
    ContactFactory(tenant=tenant_a, account=account)
    GoalFactory(tenant=tenant_a, plan=plan)
    client.force_login(csm)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{PLANS}/{plan.pk}/").status_code == 200
    goals = GoalFactory.create_batch(6, tenant=tenant_a, plan=plan)
    with tenant_context(tenant_a):
        GoalUpdate.objects.bulk_create([GoalUpdate(goal=g, value=1, as_of=timezone.localdate(), by=csm) for g in goals])
    TaskFactory.create_batch(4, tenant=tenant_a, account=account, plan=plan, owner=csm)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"{PLANS}/{plan.pk}/").status_code == 200
    assert len(many) == len(few)


def test_the_panel_shows_the_next_review_and_open_decisions(client, tenant_a, account, csm):
    from success_plans import services

    today = timezone.localdate()
    with tenant_context(tenant_a):
        past = services.review_create(account=account, kind="qbr", held_on=today - timedelta(days=30))
        services.review_create(account=account, kind="ebr", held_on=today + timedelta(days=12))
        services.decision_add(review=past, text="Pilot the API in EMEA")
        closed = services.decision_add(review=past, text="Already settled")
        services.decision_close(decision=closed, status="done")
    client.force_login(csm)
    page = client.get(f"/t/alpha/accounts/{account.pk}/").content.decode()
    assert (today + timedelta(days=12)).isoformat() in page and "Executive business review" in page
    assert "Pilot the API in EMEA" in page and "Already settled" not in page
    assert f'href="/t/alpha/reviews/{past.pk}/"' in page
