"""At-risk episodes: opened once, with the reason and a recovery task for the CSM; closed on recovery."""

from decimal import Decimal

from csplatform.tenancy.context import tenant_context
from health.alerts import alerts_update
from health.models import HealthAlert, Measure
from success_plans.models import Task
from tests.factories import SentimentPulseFactory

from .conftest import TODAY, compute, days_ago, use_measures

K = Measure.Kind


def run_day(tenant, day=TODAY):
    compute(tenant, day)
    with tenant_context(tenant):
        return alerts_update(tenant=tenant, day=day)


def alerts(tenant):
    with tenant_context(tenant):
        return list(HealthAlert.objects.order_by("pk"))


def recovery_tasks(tenant):
    with tenant_context(tenant):
        return list(Task.objects.filter(type=Task.Type.RISK_RECOVERY).order_by("pk"))


def test_it_opens_one_recovery_task_for_the_csm_when_an_account_turns_red(tenant_a, account, csm):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=1)
    assert run_day(tenant_a) == 1
    [alert] = alerts(tenant_a)
    assert alert.reason == "red" and alert.closed_on is None
    assert alert.fallen == [["CSM sentiment pulse (1-5)", None, 0.0]]
    [task] = recovery_tasks(tenant_a)
    assert task.owner_id == csm.pk and task.account_id == account.pk and task.source == "health_alert"
    assert "fell to red" in task.title and "CSM sentiment" in task.description
    assert alert.task_id == task.pk

    # The same night again, and the next nights while it stays red: still one episode, one task.
    assert run_day(tenant_a) == 0
    assert run_day(tenant_a, TODAY) == 0
    assert len(alerts(tenant_a)) == 1 and len(recovery_tasks(tenant_a)) == 1


def test_it_closes_the_episode_on_recovery_and_opens_a_new_one_on_the_next_fall(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5, 90))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=1, as_of=days_ago(20))
    run_day(tenant_a, days_ago(20))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4, as_of=days_ago(10))
    run_day(tenant_a, days_ago(10))
    [first] = alerts(tenant_a)
    assert first.closed_on == days_ago(10)
    SentimentPulseFactory(tenant=tenant_a, account=account, score=1, as_of=TODAY)
    run_day(tenant_a)
    assert [a.closed_on for a in alerts(tenant_a)] == [days_ago(10), None]
    assert len(recovery_tasks(tenant_a)) == 2


def test_it_alerts_on_a_fast_drop_that_is_not_red_yet(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, 1, 5, 90))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=5, as_of=days_ago(31))
    run_day(tenant_a, days_ago(30))  # 100, green
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4, as_of=days_ago(1))
    run_day(tenant_a)  # 75: still green, but down 25 points in 30 days
    [alert] = alerts(tenant_a)
    assert alert.reason == "drop" and alert.change_30d == Decimal("-25")
    assert "down 25" in recovery_tasks(tenant_a)[0].title


def test_it_does_not_alert_on_a_small_drop(tenant_a, account):
    use_measures(tenant_a, (K.CSM_SENTIMENT, 1, -20, 5, 90))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=5, as_of=days_ago(31))
    run_day(tenant_a, days_ago(30))
    SentimentPulseFactory(tenant=tenant_a, account=account, score=4, as_of=days_ago(1))
    run_day(tenant_a)  # 100 -> 96: green, 4 points down
    assert alerts(tenant_a) == []
