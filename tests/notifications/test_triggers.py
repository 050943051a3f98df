"""What puts a notification in someone's bell: one per event, to the right person, never to whoever did it, and
never twice when a job runs again."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.services import escalation_move, escalation_open
from compensation.jobs import refresh_draft_statements
from compensation.models import CompPlan, CompStatement
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from health.alerts import alerts_update
from health.models import Measure
from success_plans.jobs import notify_overdue_tasks
from success_plans.models import Playbook, PlaybookStep, Task
from success_plans.playbooks import playbook_apply
from tests.api import Api
from tests.factories import MembershipFactory, SentimentPulseFactory
from tests.health.conftest import compute, use_measures

from .conftest import notifications, of

TODAY = timezone.localdate()


def _task(tenant, account, **fields):
    with tenant_context(tenant):
        return Task.objects.create(account=account, title=fields.pop("title", "Send the adoption report"), **fields)


# --- tasks assigned ----------------------------------------------------------------------------------------------


def test_it_tells_the_owner_of_a_task_someone_else_added_for_them(client, tenant_a, account, csm, manager):
    client.force_login(manager)
    answer = client.post(
        f"/t/alpha/plans/accounts/{account.pk}/tasks/new/",
        {
            "title": "Prepare the renewal call",
            "owner": csm.pk,
            "due_date": (TODAY + timedelta(days=2)).isoformat(),
            "priority": "normal",
            "type": "task",
        },
    )
    assert answer.status_code == 302
    [note] = notifications(tenant_a)
    assert (note.recipient_id, note.kind, note.title) == (csm.pk, "task_assigned", "New task: Prepare the renewal call")
    assert note.body.startswith("Initech, due ") and note.url == f"accounts/{account.pk}/"


def test_it_does_not_notify_someone_who_gave_a_task_to_themselves(client, tenant_a, account, csm):
    client.force_login(csm)
    client.post(
        f"/t/alpha/plans/accounts/{account.pk}/tasks/new/",
        {"title": "Note to self", "owner": csm.pk, "priority": "normal", "type": "task"},
    )
    assert _task_titles(tenant_a) == ["Note to self"] and notifications(tenant_a) == []


def test_it_tells_whoever_a_reassignment_gives_tasks_to_but_not_the_manager_who_takes_them_over(
        tenant_a, account, csm, manager):
    from insights.coverage.services import accounts_reassign

    _task(tenant_a, account, owner=csm, title="Chase the security review")
    with tenant_context(tenant_a):
        accounts_reassign(tenant=tenant_a, account_ids=[account.pk], to_user=manager, by=manager)
    assert of(tenant_a, manager) == []  # their own move

    other = MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=manager, user__email="other@alpha.test").user
    with tenant_context(tenant_a):
        accounts_reassign(tenant=tenant_a, account_ids=[account.pk], to_user=other, by=manager)
    [note] = of(tenant_a, other, "task_assigned")
    assert note.title == "New task: Chase the security review"


def _task_titles(tenant):
    with tenant_context(tenant):
        return list(Task.objects.values_list("title", flat=True))


def test_it_tells_the_new_owner_when_a_task_is_given_to_them_through_the_api(
    client, tenant_a, account, csm, owner, teammate
):
    api = Api(client, tenant=tenant_a, user=owner)
    created = api.post("/tasks/", {"account": account.pk, "title": "Kick-off", "owner": csm.pk})
    assert created.status_code == 201, created.content
    api.patch(f"/tasks/{created.json()['id']}/", {"title": "Kick-off call"})  # same owner: nothing new
    api.patch(f"/tasks/{created.json()['id']}/", {"owner": teammate.pk})
    assert [(n.recipient_id, n.title) for n in notifications(tenant_a)] == [
        (csm.pk, "New task: Kick-off"),
        (teammate.pk, "New task: Kick-off call"),
    ]
    assert of(tenant_a, owner) == []


def test_it_tells_the_csm_once_per_playbook_run_not_once_per_step(tenant_a, account, csm, manager):
    with tenant_context(tenant_a):
        playbook = Playbook.objects.create(name="Onboarding")
        for i, title in enumerate(["Kick-off call", "Admin training", "First value check"]):
            PlaybookStep.objects.create(playbook=playbook, title=title, day_offset=i * 7, position=i)
        playbook_apply(playbook=playbook, account=account, by=manager)
        playbook_apply(playbook=playbook, account=account, by=csm)  # applied by the CSM: nothing for them
    [note] = notifications(tenant_a)
    assert note.recipient_id == csm.pk and note.title == "Playbook Onboarding at Initech"
    assert note.body == f"3 tasks for you, the first due {TODAY:%Y-%m-%d}"


# --- tasks overdue -----------------------------------------------------------------------------------------------


def test_the_nightly_job_tells_each_owner_once_about_each_task_that_became_overdue(tenant_a, account, csm, teammate):
    _task(tenant_a, account, title="Yesterday's", owner=csm, due_date=TODAY - timedelta(days=1))
    _task(tenant_a, account, title="Last week's", owner=teammate, due_date=TODAY - timedelta(days=6))
    _task(tenant_a, account, title="Ancient", owner=csm, due_date=TODAY - timedelta(days=40))  # old news
    _task(tenant_a, account, title="Today's", owner=csm, due_date=TODAY)  # not overdue yet
    _task(tenant_a, account, title="Done", owner=csm, due_date=TODAY - timedelta(days=1), status="done")
    _task(tenant_a, account, title="Nobody's", due_date=TODAY - timedelta(days=1))
    with tenant_context(tenant_a):
        assert notify_overdue_tasks(tenant=tenant_a, day=TODAY) == 2
        assert notify_overdue_tasks(tenant=tenant_a, day=TODAY) == 0  # a rerun adds nothing
    assert [(n.recipient_id, n.title) for n in of(tenant_a, csm)] == [(csm.pk, "Overdue: Yesterday's")]
    with tenant_context(tenant_a):
        assert notify_overdue_tasks(tenant=tenant_a, day=TODAY + timedelta(days=1)) == 1  # the next night: today's
    assert [n.title for n in of(tenant_a, csm)] == ["Overdue: Yesterday's", "Overdue: Today's"]
    assert [n.title for n in of(tenant_a, teammate)] == ["Overdue: Last week's"]
    assert of(tenant_a, csm)[0].body == f"Initech, was due {TODAY - timedelta(days=1):%Y-%m-%d}"


# --- health alerts -----------------------------------------------------------------------------------------------


def test_an_account_turning_red_tells_its_csm_once_with_the_recovery_task(tenant_a, account, csm, manager):
    use_measures(tenant_a, (Measure.Kind.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=1)
    for _ in range(2):  # the same night twice
        compute(tenant_a, TODAY)
        with tenant_context(tenant_a):
            alerts_update(tenant=tenant_a, day=TODAY)
    [note] = notifications(tenant_a)
    assert (note.recipient_id, note.kind, note.title) == (csm.pk, "health_alert", "At risk: Initech")
    assert "fell to red" in note.body and note.body.endswith("A recovery task is on your list.")
    assert note.url == f"accounts/{account.pk}/"


# --- escalations -------------------------------------------------------------------------------------------------


def test_an_escalation_tells_the_csm_and_their_manager_but_not_whoever_opened_or_moved_it(
    tenant_a, account, csm, manager, owner
):
    with tenant_context(tenant_a):
        escalation = escalation_open(account=account, by=csm, title="Data export failing", severity="high")
    [opened] = notifications(tenant_a)
    assert (opened.recipient_id, opened.kind) == (manager.pk, "escalation")
    assert opened.title == "Escalation at Initech: Data export failing"
    assert opened.url == f"accounts/escalations/{escalation.pk}/"

    with tenant_context(tenant_a):
        escalation_move(escalation=escalation, by=owner, to_status="investigating", note="Engineering on it")
    moved = [n for n in notifications(tenant_a) if n.pk != opened.pk]
    assert sorted(n.recipient_id for n in moved) == sorted([csm.pk, manager.pk])  # the CSM owns it; ops moved it
    assert {n.title for n in moved} == {"Escalation at Initech now Investigating"}
    assert of(tenant_a, owner) == []


# --- statements to approve ---------------------------------------------------------------------------------------


def _statement(tenant, user, month):
    with tenant_context(tenant):
        plan = CompPlan.objects.filter(is_default=True).order_by("-year").first()
        return CompStatement.objects.create(
            plan=plan, csm=user, period_start=month, total=Decimal("100"), generated_at=timezone.now()
        )


def test_last_months_draft_statements_go_to_their_approvers_once(tenant_a, csm, manager, admin):
    loner = MembershipFactory(tenant=tenant_a, role=Role.CSM, user__full_name="Lee Loner").user  # no manager
    this_month = TODAY.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    statement = _statement(tenant_a, csm, last_month)
    _statement(tenant_a, loner, last_month)
    _statement(tenant_a, csm, this_month)  # the month is not over: not ready
    approved = _statement(tenant_a, admin, last_month)
    with tenant_context(tenant_a):
        CompStatement.objects.filter(pk=approved.pk).update(status="approved", approved_at=timezone.now())
        for _ in range(2):
            refresh_draft_statements(tenant=tenant_a, day=TODAY)
    assert [(n.recipient_id, n.title) for n in of(tenant_a, manager)] == [
        (manager.pk, f"Statement to approve: Chris Carter, {last_month:%Y-%m}")
    ]
    assert of(tenant_a, manager)[0].url == f"compensation/statements/{statement.pk}/"
    assert [n.title for n in of(tenant_a, admin)] == [f"Statement to approve: Lee Loner, {last_month:%Y-%m}"]
    assert len(notifications(tenant_a)) == 2
