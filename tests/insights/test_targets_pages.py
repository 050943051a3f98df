"""CSM targets: the ops page (table form, field errors, one transaction), My work's section, the Team-page
partial, and the API (read for everyone, PATCH for ops, progress by role; tenant B answers 404)."""

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from insights.models import Target
from insights.targets.progress import targets_progress
from insights.targets.services import TargetsInvalid, targets_update
from tests.api import Api, member
from tests.factories import AccountFactory, ActivityFactory, MembershipFactory

PAGE = "/t/alpha/targets/"
MY_WORK = "/t/alpha/plans/my-work/"
M = Target.Metric


def targets_of(tenant):
    with tenant_context(tenant):
        return {t.metric: t for t in Target.objects.all()}


def form_data(tenant, **overrides):
    """The whole table as posted: every target's current values, with `overrides` {metric: {field: value}}."""
    data = {}
    for metric, target in targets_of(tenant).items():
        values = {"amount": str(target.amount), "period": target.period, "is_active": target.is_active,
                  **overrides.get(metric, {})}
        data[f"target-{target.pk}-amount"] = values["amount"]
        data[f"target-{target.pk}-period"] = values["period"]
        if values["is_active"]:
            data[f"target-{target.pk}-is_active"] = "on"
    return data


def test_every_new_tenant_gets_the_default_targets(tenant_a, tenant_b):
    targets = targets_of(tenant_a)
    assert set(targets) == set(M.values)
    assert (targets[M.EXPANSIONS_FLAGGED].amount, targets[M.EXPANSIONS_FLAGGED].period) == (Decimal("36"), "year")
    assert targets[M.FEEDBACK_SOLICITED].period == "quarter"
    assert set(targets_of(tenant_b)) == set(M.values)


def test_ops_change_amounts_periods_and_switches_in_one_save(client, owner, tenant_a):
    client.force_login(owner)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Advocacy records of kind referral that you captured" in page.content.decode()
    response = client.post(PAGE, form_data(tenant_a, referrals={"amount": "8", "period": "quarter"},
                                           case_studies={"is_active": False}))
    assert response.status_code == 302
    targets = targets_of(tenant_a)
    assert (targets[M.REFERRALS].amount, targets[M.REFERRALS].period) == (Decimal("8"), "quarter")
    assert targets[M.CASE_STUDIES].is_active is False and targets[M.NPS].is_active is True


def test_a_bad_value_answers_400_with_field_errors_and_saves_nothing(client, owner, tenant_a):
    client.force_login(owner)
    response = client.post(PAGE, form_data(tenant_a, referrals={"amount": "8"}, green_arr={"amount": "120"},
                                           approved_goals={"amount": "-1"}, nps={"period": "decade"}))
    assert response.status_code == 400
    body = response.content.decode()
    targets = targets_of(tenant_a)
    assert f'id="id_target-{targets[M.GREEN_ARR].pk}-amount-error"' in body
    assert f'id="id_target-{targets[M.APPROVED_GOALS].pk}-amount-error"' in body
    assert f'id="id_target-{targets[M.NPS].pk}-period-error"' in body
    assert "Nothing was saved" in body
    assert targets[M.REFERRALS].amount == Decimal("5")  # the valid row was not written either


def test_the_service_refuses_a_whole_batch_for_one_bad_value(tenant_a):
    targets = targets_of(tenant_a)
    with tenant_context(tenant_a), pytest.raises(TargetsInvalid) as refused:
        targets_update(tenant=tenant_a, changes={targets[M.REFERRALS].pk: {"amount": "9"},
                                                 targets[M.ACTIVITY_DAYS].pk: {"amount": "1.5"},
                                                 targets[M.NPS].pk: {"metric": "referrals"}})
    assert set(refused.value.errors) == {targets[M.ACTIVITY_DAYS].pk, targets[M.NPS].pk}
    assert "amount" in refused.value.errors[targets[M.ACTIVITY_DAYS].pk]
    assert targets_of(tenant_a)[M.REFERRALS].amount == Decimal("5")


@pytest.mark.parametrize("role,get,post", [(Role.MANAGER, 200, 403), (Role.EXECUTIVE, 200, 403),
                                           (Role.CSM, 403, 403), (Role.ADMIN, 200, 302)])
def test_who_reads_and_who_sets_the_targets(client, tenant_a, role, get, post):
    client.force_login(member(tenant_a, role, f"{role}@alpha.test"))
    response = client.get(PAGE)
    assert response.status_code == get
    if get == 200:
        assert ('name="target-' in response.content.decode()) == (post == 302)
    assert client.post(PAGE, form_data(tenant_a, nps={"amount": "70"})).status_code == post
    assert targets_of(tenant_a)[M.NPS].amount == (Decimal("70") if post == 302 else Decimal("60"))


def test_an_outsider_gets_404_on_the_page(client, outsider, tenant_a):
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 404


def test_my_work_shows_my_targets_and_a_manager_the_teams(client, tenant_a, csm, other_csm, manager):
    acc = AccountFactory(tenant=tenant_a, csm=csm)
    ActivityFactory(tenant=tenant_a, account=acc, logged_by=csm, occurred_at=timezone.now())
    with tenant_context(tenant_a):
        Target.objects.filter(metric=M.CASE_STUDIES).update(is_active=False)
    client.force_login(csm)
    body = client.get(MY_WORK).content.decode()
    assert 'id="targets"' in body and 'id="target-referrals"' in body and 'id="target-case_studies"' not in body
    assert "Pace needed" in body
    client.force_login(manager)
    body = client.get(MY_WORK, {"user": "team"}).content.decode()
    assert "Targets · the team (3)" in body


def test_the_team_partial_renders_people_and_the_team_row(tenant_a, csm, other_csm):
    progress = targets_progress(tenant=tenant_a, user_ids=[csm.pk, other_csm.pk], today=timezone.localdate())
    html = render_to_string("insights/targets/_team_table.html", {"targets": progress})
    assert f'id="targets-csm-{csm.pk}"' in html and f'id="targets-csm-{other_csm.pk}"' in html
    assert 'id="targets-team-row"' in html and "Team (2)" in html
    assert html.count("<td class=\"target-referrals") == 3


# --- API ------------------------------------------------------------------------------------------------------

def test_everyone_reads_the_targets_with_how_they_are_counted(csm_api, executive_api):
    for api in (csm_api, executive_api):
        response = api.get("/targets/")
        assert response.status_code == 200
        rows = {row["metric"]: row for row in response.json()}
        assert rows["nps"]["direction"] == "at_least" and rows["red_arr"]["direction"] == "at_most"
        assert rows["feedback_solicited"]["how_counted"].startswith("Your clients with a survey sent")


def test_ops_patch_a_target_and_bad_values_answer_400_by_field(ops_api, csm_api, tenant_a):
    target = targets_of(tenant_a)[M.GREEN_ACCOUNTS]
    assert csm_api.patch(f"/targets/{target.pk}/", {"amount": "70"}).status_code == 403
    response = ops_api.patch(f"/targets/{target.pk}/", {"amount": "101", "period": "week"})
    assert response.status_code == 400 and set(response.json()) == {"amount", "period"}
    response = ops_api.patch(f"/targets/{target.pk}/", {"amount": "75", "period": "quarter", "is_active": False})
    assert response.status_code == 200
    assert (response.json()["amount"], response.json()["period"], response.json()["is_active"]) == (
        "75.00", "quarter", False)
    assert ops_api.patch(f"/targets/{target.pk}/", {"metric": "nps"}).json()["metric"] == "green_accounts"


def test_the_outsider_cannot_see_or_change_tenant_a_targets(outsider_api, tenant_a):
    target = targets_of(tenant_a)[M.NPS]
    assert outsider_api.get(f"/targets/{target.pk}/").status_code == 404
    assert outsider_api.patch(f"/targets/{target.pk}/", {"amount": "10"}).status_code == 404
    assert targets_of(tenant_a)[M.NPS].amount == Decimal("60")


def test_progress_by_role(client, tenant_a, tenant_b, csm, other_csm, manager):
    other_team_csm = MembershipFactory(tenant=tenant_a, role=Role.CSM, user__email="else@alpha.test").user
    b_user = MembershipFactory(tenant=tenant_b, role=Role.CSM, user__email="b@bravo.test").user
    mine = Api(client, tenant=tenant_a, user=csm)
    response = mine.get("/target-progress/")
    assert response.status_code == 200
    assert [p["user_id"] for p in response.json()["people"]] == [csm.pk]
    assert mine.get("/target-progress/", {"user": other_csm.pk}).status_code == 403
    assert mine.get("/target-progress/", {"user": "team"}).status_code == 403
    lead = Api(client, tenant=tenant_a, user=manager)
    team = lead.get("/target-progress/").json()
    assert {p["user_id"] for p in team["people"]} == {manager.pk, csm.pk, other_csm.pk}
    assert team["team"]["people"] == 3
    assert [p["user_id"] for p in lead.get("/target-progress/", {"user": csm.pk}).json()["people"]] == [csm.pk]
    assert lead.get("/target-progress/", {"user": other_team_csm.pk}).status_code == 403
    assert lead.get("/target-progress/", {"user": b_user.pk}).status_code == 404
    assert lead.get("/target-progress/", {"user": "x"}).status_code == 400
    executive = Api(client, tenant=tenant_a, user=member(tenant_a, Role.EXECUTIVE, "exec@alpha.test"))
    assert other_team_csm.pk in {p["user_id"] for p in executive.get("/target-progress/").json()["people"]}


def test_the_outsider_gets_404_for_a_tenant_a_user(outsider_api, csm):
    assert outsider_api.get("/target-progress/", {"user": csm.pk}).status_code == 404
