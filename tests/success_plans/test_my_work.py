# ruff: noqa: F811  (the shared fixtures of tests/accounts/conftest.py are imported below, then requested by name)
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.accounts.conftest import account, executive, other_csm, others_account  # noqa: F401
from tests.factories import AccountFactory, GoalFactory, SuccessPlanFactory, TenantOwnedFactory

URL = "/t/alpha/plans/my-work/"


class TaskFactory(TenantOwnedFactory):
    class Meta:
        model = "success_plans.Task"

    title = "A task"


def _review(tenant, account, held_on):
    from csplatform.tenancy.context import tenant_context
    from success_plans.models import BusinessReview

    with tenant_context(tenant):
        return BusinessReview.objects.create(account=account, held_on=held_on)


def test_it_lists_my_open_tasks_overdue_first(client, tenant_a, account, csm, other_csm):
    today = timezone.localdate()
    TaskFactory(tenant=tenant_a, account=account, owner=csm, title="Next week", due_date=today + timedelta(days=7))
    TaskFactory(tenant=tenant_a, account=account, owner=csm, title="Undated")
    TaskFactory(tenant=tenant_a, account=account, owner=csm, title="Long overdue", due_date=today - timedelta(days=9))
    TaskFactory(tenant=tenant_a, account=account, owner=csm, title="Closed one", status="done",
                due_date=today - timedelta(days=20))
    TaskFactory(tenant=tenant_a, account=account, owner=other_csm, title="Not mine", due_date=today)
    client.force_login(csm)
    page = client.get(URL).content.decode()
    assert page.index("Long overdue") < page.index("Next week") < page.index("Undated")
    assert "overdue</small>" in page and "Closed one" not in page and "Not mine" not in page


def test_it_lists_open_goals_needing_an_update(client, tenant_a, account, csm):
    today = timezone.localdate()
    plan = SuccessPlanFactory(tenant=tenant_a, account=account, period_start=today - timedelta(days=200))
    kwargs = {"tenant": tenant_a, "plan": plan, "start_date": today - timedelta(days=100),
              "due_date": today + timedelta(days=100)}
    GoalFactory(**kwargs, title="Stale goal", current_as_of=today - timedelta(days=45))
    GoalFactory(**kwargs, title="Fresh goal", current_as_of=today - timedelta(days=5))
    GoalFactory(**kwargs, title="Reached goal", current_value=250, current_as_of=today - timedelta(days=45))
    GoalFactory(tenant=tenant_a, plan=plan, title="Past due goal", start_date=today - timedelta(days=100),
                due_date=today - timedelta(days=1), current_as_of=today - timedelta(days=45))
    client.force_login(csm)
    page = client.get(URL).content.decode()
    assert "Stale goal" in page
    assert "Fresh goal" not in page and "Reached goal" not in page and "Past due goal" not in page


def test_it_lists_business_reviews_of_this_month(client, tenant_a, account, others_account, csm):
    today = timezone.localdate()
    _review(tenant_a, account, today.replace(day=1))
    _review(tenant_a, others_account, today.replace(day=1))
    _review(tenant_a, account, today.replace(day=1) - timedelta(days=1))
    client.force_login(csm)
    response = client.get(URL)
    assert [r.account_id for r in response.context["reviews"]] == [account.pk]


def test_a_csm_cannot_look_at_someone_elses_work(client, tenant_a, csm, other_csm):
    client.force_login(csm)
    assert client.get(f"{URL}?user={other_csm.pk}").status_code == 403
    assert client.get(f"{URL}?user=team").status_code == 403
    assert client.get(f"{URL}?user={csm.pk}").status_code == 200


def test_a_manager_sees_the_team_and_overdue_counts_per_csm(client, tenant_a, account, others_account, csm,
                                                           other_csm, manager):
    yesterday = timezone.localdate() - timedelta(days=1)
    TaskFactory.create_batch(2, tenant=tenant_a, account=account, owner=csm, due_date=yesterday, title="Team task")
    TaskFactory(tenant=tenant_a, account=others_account, owner=other_csm, due_date=yesterday, title="Outside task")
    client.force_login(manager)
    mine = client.get(URL)
    assert mine.status_code == 200 and "Team task" not in mine.content.decode()
    team = client.get(f"{URL}?user=team")
    page = team.content.decode()
    assert "Team task" in page and "Outside task" not in page
    counts = {row["person"].pk: row["overdue"] for row in team.context["overdue_by_csm"]}
    assert counts == {csm.pk: 2, manager.pk: 0}  # other_csm is not in the team
    one = client.get(f"{URL}?user={csm.pk}")
    assert one.status_code == 200 and "Team task" in one.content.decode()
    assert client.get(f"{URL}?user={other_csm.pk}").status_code == 403


def test_the_query_count_does_not_grow_with_the_rows(client, tenant_a, csm, manager):
    today = timezone.localdate()

    def some_rows():
        account = AccountFactory(tenant=tenant_a, csm=csm)
        plan = SuccessPlanFactory(tenant=tenant_a, account=account)
        GoalFactory(tenant=tenant_a, plan=plan, current_as_of=today - timedelta(days=40))
        TaskFactory(tenant=tenant_a, account=account, owner=csm, plan=plan, due_date=today - timedelta(days=2))
        _review(tenant_a, account, today.replace(day=1))

    some_rows()
    client.force_login(manager)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{URL}?user=team").status_code == 200
    for _ in range(6):
        some_rows()
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{URL}?user=team")
    assert len(response.context["tasks"]) == 7 and len(response.context["goals"]) == 7
    assert len(many) == len(few)


def test_it_lists_the_first_fifty_tasks_and_says_how_many_there_are(client, tenant_a, csm, account):
    TaskFactory.create_batch(53, tenant=tenant_a, account=account, owner=csm, title="Chase the invoice",
                             due_date=timezone.localdate())
    client.force_login(csm)
    response = client.get(URL)
    assert len(response.context["tasks"]) == 50 and response.context["tasks_total"] == 53
    assert "The first 50 of 53 open tasks" in response.content.decode()
