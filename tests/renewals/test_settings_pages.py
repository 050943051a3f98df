"""The renewal settings page for ops: lead days, churn reasons, the probability table, retention targets."""

from decimal import Decimal

import pytest

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals.models import ChurnReason, ProbabilityRule, RenewalSettings, RetentionTarget
from renewals.probability import probability, probability_table
from tests.api import member

URL = "/t/alpha/renewals/settings/"


def rules(tenant):
    with tenant_context(tenant):
        return probability_table()


def probability_data(tenant, **changes):
    data = {f"p-{dimension}__{key}": str(points) for dimension, keys in rules(tenant).items()
            for key, points in keys.items()}
    return {**data, **changes}


def targets(tenant):
    with tenant_context(tenant):
        return list(RetentionTarget.objects.order_by("pk").values_list("year", "quarter", "team_manager_id", "csm_id",
                                                                       "grr_target", "nrr_target"))


def reason(tenant, name):
    with tenant_context(tenant):
        return ChurnReason.objects.get(name=name)


@pytest.fixture
def executive(tenant_a):
    return member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")


def test_ops_see_every_setting_with_the_formula_explained(client, owner):
    client.force_login(owner)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="120"' in html  # lead days
    assert "Switched to a competitor" in html and "Fewer seats needed" in html
    assert "forecast category&#x27;s base %" in html or "forecast category's base %" in html
    assert "is 50%" in html  # the worked example
    assert 'name="p-category__commit"' in html and 'name="p-band__red"' in html and "default -20" in html


def test_only_ops_may_configure(client, tenant_a, teammate, executive, outsider):
    for user in (teammate, executive, member(tenant_a, Role.MANAGER, "boss@alpha.test")):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post("/t/alpha/renewals/settings/lead-days/", {"lead-lead_days": "30"}).status_code == 403
        assert client.post("/t/alpha/renewals/settings/reasons/new/",
                           {"new-reason-name": "X", "new-reason-applies_to": "both"}).status_code == 403
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    with tenant_context(tenant_a):
        assert RenewalSettings.objects.get().lead_days == 120
        assert not ChurnReason.objects.filter(name="X").exists()


def test_lead_days_are_saved_and_checked(client, tenant_a, owner):
    client.force_login(owner)
    response = client.post("/t/alpha/renewals/settings/lead-days/", {"lead-lead_days": "90"})
    assert response.status_code == 302 and response["Location"].endswith("#lead-days")
    response = client.post("/t/alpha/renewals/settings/lead-days/", {"lead-lead_days": "0"})
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    with tenant_context(tenant_a):
        assert RenewalSettings.objects.get().lead_days == 90


def test_ops_add_rename_and_deactivate_churn_reasons(client, tenant_a, owner):
    client.force_login(owner)
    response = client.post("/t/alpha/renewals/settings/reasons/new/",
                           {"new-reason-name": " Security review failed ", "new-reason-applies_to": "churn",
                            "new-reason-is_active": "on"})
    assert response.status_code == 302
    added = reason(tenant_a, "Security review failed")
    assert (added.applies_to, added.is_active) == ("churn", True)
    price = reason(tenant_a, "Price")
    prefix = f"reason-{price.pk}"
    response = client.post(f"/t/alpha/renewals/settings/reasons/{price.pk}/",
                           {f"{prefix}-name": "Price too high", f"{prefix}-applies_to": "downsell"})
    assert response.status_code == 302  # the box unticked: inactive
    renamed = reason(tenant_a, "Price too high")
    assert (renamed.pk, renamed.applies_to, renamed.is_active) == (price.pk, "downsell", False)
    html = client.get(URL).content.decode()
    assert "Price too high" in html


def test_a_bad_churn_reason_answers_400_and_writes_nothing(client, tenant_a, owner):
    client.force_login(owner)
    response = client.post("/t/alpha/renewals/settings/reasons/new/",
                           {"new-reason-name": "budget cuts", "new-reason-applies_to": "both"})
    assert response.status_code == 400 and "The list already has this reason." in response.content.decode()
    price = reason(tenant_a, "Price")
    response = client.post(f"/t/alpha/renewals/settings/reasons/{price.pk}/",
                           {f"reason-{price.pk}-name": "", f"reason-{price.pk}-applies_to": "sometimes"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html and "Select a valid choice." in html
    with tenant_context(tenant_a):
        assert ChurnReason.objects.count() == 10 and reason(tenant_a, "Price").applies_to == "both"


def test_ops_change_the_probability_table(client, tenant_a, owner):
    client.force_login(owner)
    response = client.post("/t/alpha/renewals/settings/probability/",
                           probability_data(tenant_a, **{"p-band__red": "-30", "p-category__commit": "95"}))
    assert response.status_code == 302
    table = rules(tenant_a)
    assert table["band"]["red"] == Decimal("-30") and table["category"]["commit"] == Decimal("95")
    with tenant_context(tenant_a):
        assert probability(category="best_case", stage="proposal", band="red") == Decimal("40")


def test_a_bad_probability_table_answers_400_and_writes_nothing(client, tenant_a, owner):
    client.force_login(owner)
    response = client.post("/t/alpha/renewals/settings/probability/",
                           probability_data(tenant_a, **{"p-band__red": "-500", "p-category__commit": "120",
                                                         "p-stage__verbal": "", "p-band__green": "8"}))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ensure this value is greater than or equal to -100." in html
    assert "Ensure this value is less than or equal to 100." in html and "This field is required." in html
    assert rules(tenant_a)["band"]["green"] == Decimal("5")


def test_ops_add_and_edit_retention_targets(client, tenant_a, owner, teammate):
    boss = member(tenant_a, Role.MANAGER, "boss@alpha.test", user__full_name="Bea Boss")
    client.force_login(owner)
    new = "/t/alpha/renewals/settings/targets/new/"
    assert client.post(new, {"target-year": "2026", "target-quarter": "1", "target-grr_target": "90",
                             "target-nrr_target": "105"}).status_code == 302
    assert client.post(new, {"target-year": "2026", "target-quarter": "1", "target-team_manager": boss.pk,
                             "target-grr_target": "88", "target-nrr_target": "110"}).status_code == 302
    assert client.post(new, {"target-year": "2026", "target-quarter": "1", "target-csm": teammate.pk,
                             "target-grr_target": "92.5", "target-nrr_target": "101"}).status_code == 302
    with tenant_context(tenant_a):
        team_target = RetentionTarget.objects.get(team_manager=boss)
    html = client.get(URL).content.decode()
    assert "Team of Bea Boss" in html and "Whole workspace" in html and "92.5" in html
    edit = client.get(URL, {"target": team_target.pk}).content.decode()
    assert "Edit the 2026 Q1 target" in edit
    response = client.post(f"/t/alpha/renewals/settings/targets/{team_target.pk}/",
                           {"target-year": "2026", "target-quarter": "2", "target-team_manager": boss.pk,
                            "target-grr_target": "89", "target-nrr_target": "111"})
    assert response.status_code == 302
    assert targets(tenant_a) == [
        (2026, 1, None, None, Decimal("90.00"), Decimal("105.00")),
        (2026, 2, boss.pk, None, Decimal("89.00"), Decimal("111.00")),
        (2026, 1, None, teammate.pk, Decimal("92.50"), Decimal("101.00")),
    ]
    assert client.post(f"/t/alpha/renewals/settings/targets/{team_target.pk}/delete/").status_code == 302
    assert len(targets(tenant_a)) == 2


def test_a_bad_retention_target_answers_400_and_writes_nothing(client, tenant_a, owner, teammate):
    boss = member(tenant_a, Role.MANAGER, "boss@alpha.test")
    client.force_login(owner)
    new = "/t/alpha/renewals/settings/targets/new/"
    client.post(new, {"target-year": "2026", "target-quarter": "1", "target-grr_target": "90",
                      "target-nrr_target": "105"})
    cases = [
        ({"target-year": "2026", "target-quarter": "1", "target-grr_target": "91", "target-nrr_target": "100"},
         "the workspace already has a target for 2026 Q1"),
        ({"target-year": "2026", "target-quarter": "5", "target-grr_target": "91", "target-nrr_target": "100"},
         "Select a valid choice"),
        ({"target-year": "2026", "target-quarter": "2", "target-grr_target": "120", "target-nrr_target": "-1"},
         "Gross retention cannot exceed 100%."),
        ({"target-year": "2026", "target-quarter": "2", "target-team_manager": boss.pk, "target-csm": teammate.pk,
          "target-grr_target": "90", "target-nrr_target": "100"}, "pick a manager or a CSM, not both"),
        ({"target-year": "2026", "target-quarter": "2", "target-csm": boss.pk, "target-grr_target": "90",
          "target-nrr_target": "100"}, "Select a valid choice"),  # a manager is not a CSM
    ]
    for data, message in cases:
        response = client.post(new, data)
        assert response.status_code == 400, data
        assert message in response.content.decode().replace("&#x27;", "'"), data
    assert len(targets(tenant_a)) == 1


def test_another_tenants_reasons_and_targets_are_not_found(client, tenant_a, tenant_b, owner, outsider):
    client.force_login(owner)
    client.post("/t/alpha/renewals/settings/targets/new/", {"target-year": "2026", "target-quarter": "1",
                                                           "target-grr_target": "90", "target-nrr_target": "105"})
    with tenant_context(tenant_a):
        target = RetentionTarget.objects.get()
    price = reason(tenant_a, "Price")
    client.force_login(outsider)
    for url, data in (
        (f"/t/bravo/renewals/settings/reasons/{price.pk}/", {f"reason-{price.pk}-name": "Mine",
                                                            f"reason-{price.pk}-applies_to": "both"}),
        (f"/t/bravo/renewals/settings/targets/{target.pk}/", {"target-year": "2026", "target-quarter": "1",
                                                             "target-grr_target": "1", "target-nrr_target": "1"}),
        (f"/t/bravo/renewals/settings/targets/{target.pk}/delete/", {}),
        ("/t/alpha/renewals/settings/probability/", {}),
    ):
        assert client.post(url, data).status_code == 404, url
    assert client.get("/t/bravo/renewals/settings/", {"target": target.pk}).status_code == 404
    assert reason(tenant_a, "Price").name == "Price"
    assert len(targets(tenant_a)) == 1
    with tenant_context(tenant_b):
        assert ProbabilityRule.objects.count() == 13
