"""The coverage page (table, unassigned list, reassignment with confirmation), ops' rules page, and the Account
360 assignment trail."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from insights.models import AccountAssignment, CoverageRule
from tests.api import count, member

from .coverage_helpers import accounts, fresh, rule, task, trail

PAGE = "/t/alpha/coverage/"
REASSIGN = "/t/alpha/coverage/reassign/"
RULES = "/t/alpha/coverage/rules/"


@pytest.fixture
def books(tenant_a, csm, other_csm):
    rule(tenant_a, "Enterprise", 10)
    chris = accounts(tenant_a, 12, csm=csm, segment_name="Enterprise", arr="10000", prefix="Chris")
    olive = accounts(tenant_a, 2, csm=other_csm, segment_name="SMB", prefix="Olive")
    unassigned = accounts(tenant_a, 3, segment_name="SMB", arr="400", prefix="Nobody")
    return {"chris": chris, "olive": olive, "unassigned": unassigned}


def test_it_shows_a_manager_the_teams_load_the_rules_and_the_unassigned_accounts(client, manager, books, csm):
    client.force_login(manager)
    response = client.get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="coverage-row-{csm.pk}" class="over-capacity"' in html  # 12 Enterprise at 1:10
    assert "120.0%" in html and "over capacity" in html
    assert "1 CSM : 10 Enterprise accounts" in html
    assert "<strong>3</strong> active accounts without a CSM, 1,200 USD ARR" in html
    assert html.count('name="account_ids"') == 3  # the picker lists the unassigned accounts
    assert 'id="reassign-form"' in html


def test_it_shows_a_csms_book_in_the_picker_and_answers_404_for_someone_from_another_tenant(
        client, owner, books, csm, outsider):
    client.force_login(owner)
    html = client.get(PAGE, {"csm": csm.pk}).content.decode()
    assert "Chris Carter's active accounts" in html and html.count('name="account_ids"') == 12
    assert client.get(PAGE, {"csm": outsider.pk}).status_code == 404


def test_it_lets_executives_look_and_keeps_csms_and_outsiders_out(client, tenant_a, books, csm, outsider):
    executive = member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")
    client.force_login(executive)
    html = client.get(PAGE).content.decode()
    assert 'id="coverage"' in html and 'name="account_ids"' not in html
    assert client.post(REASSIGN, {"account_ids": [books["unassigned"][0].pk], "to_user": csm.pk}).status_code == 403
    client.force_login(csm)
    assert client.get(PAGE).status_code == 403
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 404
    assert client.get(RULES).status_code == 404


def test_it_reassigns_after_a_confirmation_and_says_what_moved(client, tenant_a, manager, books, csm, other_csm):
    x, y = books["chris"][:2]
    task(tenant_a, x, owner=csm)
    task(tenant_a, y, owner=csm)
    client.force_login(manager)
    form = {"account_ids": [x.pk, y.pk], "to_user": other_csm.pk, "note": "Chris is over capacity",
            "from_csm": csm.pk}

    review = client.post(REASSIGN, form)
    html = review.content.decode()
    assert review.status_code == 200 and 'id="reassign-confirm"' in html
    assert "Move 2 accounts to Olive Other?" in html and "2 open tasks owned by the current CSM" in html
    assert fresh(tenant_a, x).csm_id == csm.pk and count(AccountAssignment, tenant_a) == 0

    done = client.post(REASSIGN, {**form, "confirm": "1"}, follow=True)
    assert done.redirect_chain[0][0].endswith(f"/coverage/?csm={other_csm.pk}")
    assert "Moved 2 accounts and 2 open tasks to Olive Other." in done.content.decode()
    assert fresh(tenant_a, x).csm_id == other_csm.pk
    assert [t["note"] for t in trail(tenant_a)] == ["Chris is over capacity"] * 2


def test_it_shows_why_a_move_is_refused(client, tenant_a, manager, teammate, books, other_csm, owner):
    (outside,) = accounts(tenant_a, 1, csm=teammate, prefix="Teammate")
    client.force_login(manager)
    refused = client.post(REASSIGN, {"account_ids": [outside.pk], "to_user": other_csm.pk, "confirm": "1"})
    assert refused.status_code == 403
    assert "belong to a CSM outside your team" in refused.content.decode()

    client.force_login(owner)
    bad = client.post(REASSIGN, {"account_ids": [books["chris"][0].pk, 999999], "to_user": other_csm.pk,
                                 "confirm": "1"})
    assert bad.status_code == 400 and "No such account: 999999." in bad.content.decode()
    nothing = client.post(REASSIGN, {"to_user": other_csm.pk})
    assert nothing.status_code == 400 and "Pick at least one account." in nothing.content.decode()
    assert count(AccountAssignment, tenant_a) == 0


def test_it_renders_the_page_with_a_fixed_number_of_queries(client, tenant_a, owner, csm, other_csm):
    rule(tenant_a, "Enterprise", 10)
    accounts(tenant_a, 10, csm=csm, segment_name="Enterprise")
    accounts(tenant_a, 10, segment_name="SMB")
    client.force_login(owner)
    client.get(PAGE)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE, {"csm": csm.pk}).status_code == 200
    accounts(tenant_a, 90, csm=csm, segment_name="Enterprise")
    accounts(tenant_a, 90, csm=other_csm, segment_name="Mid-Market")
    accounts(tenant_a, 90, segment_name="SMB")
    with CaptureQueriesContext(connection) as many:
        assert client.get(PAGE, {"csm": csm.pk}).status_code == 200
    assert len(few) == len(many), [q["sql"] for q in many.captured_queries]


def test_it_shows_the_assignment_trail_on_the_account_and_nothing_without_one(
        client, tenant_a, owner, books, csm, other_csm):
    from insights.coverage.services import accounts_reassign

    moved, untouched = books["chris"][:2]
    accounts_reassign(tenant=tenant_a, account_ids=[moved.pk], to_user=other_csm, by=owner, note="Territory")
    client.force_login(owner)
    html = client.get(f"/t/alpha/accounts/{moved.pk}/").content.decode()
    assert 'id="assignment-trail"' in html and "Territory" in html and "Chris Carter" in html
    assert 'id="assignment-trail"' not in client.get(f"/t/alpha/accounts/{untouched.pk}/").content.decode()


# ---- rules -----------------------------------------------------------------------------------------------------


def rules_of(tenant):
    with tenant_context(tenant):
        return {r.segment.name if r.segment_id else None: r.accounts_per_csm
                for r in CoverageRule.objects.select_related("segment")}


def test_it_lets_ops_add_change_and_delete_segment_rules(client, tenant_a, owner):
    client.force_login(owner)
    assert "1 CSM : 50 accounts" in client.get(RULES).content.decode()
    with tenant_context(tenant_a):
        from accounts.models import Segment

        enterprise = Segment.objects.get(name="Enterprise")
    added = client.post("/t/alpha/coverage/rules/new/", {"segment": enterprise.pk, "accounts_per_csm": 10})
    assert added.status_code == 302
    assert rules_of(tenant_a) == {None: 50, "Enterprise": 10}
    added = rule_id(tenant_a, "Enterprise")
    assert client.post(f"/t/alpha/coverage/rules/{added}/", {f"rule-{added}-accounts_per_csm": 12}).status_code == 302
    assert rules_of(tenant_a) == {None: 50, "Enterprise": 12}
    assert client.post(f"/t/alpha/coverage/rules/{added}/delete/").status_code == 302
    assert rules_of(tenant_a) == {None: 50}


def rule_id(tenant, segment_name):
    with tenant_context(tenant):
        found = CoverageRule.objects.filter(segment__name=segment_name) if segment_name else \
            CoverageRule.objects.filter(segment__isnull=True)
        return found.get().pk


def test_it_answers_bad_rules_with_field_errors_and_keeps_the_catch_all(client, tenant_a, owner):
    rule(tenant_a, "SMB", 150)
    client.force_login(owner)
    catch_all = rule_id(tenant_a, None)
    zero = client.post(f"/t/alpha/coverage/rules/{catch_all}/", {f"rule-{catch_all}-accounts_per_csm": 0})
    assert zero.status_code == 400
    assert f'id="id_rule-{catch_all}-accounts_per_csm-error">Ensure this value is greater than or equal to 1.' \
        in zero.content.decode()
    with tenant_context(tenant_a):
        from accounts.models import Segment

        smb = Segment.objects.get(name="SMB")
    taken = client.post("/t/alpha/coverage/rules/new/", {"segment": smb.pk, "accounts_per_csm": 5})
    assert taken.status_code == 400 and 'id="id_segment-error"' in taken.content.decode()
    kept = client.post(f"/t/alpha/coverage/rules/{catch_all}/delete/")
    assert kept.status_code == 400 and "cannot be deleted" in kept.content.decode()
    assert rules_of(tenant_a) == {None: 50, "SMB": 150}


def test_it_keeps_rules_to_ops_and_another_tenants_rule_ids_are_not_found(client, tenant_b, manager, owner):
    client.force_login(manager)
    assert client.get(RULES).status_code == 403
    b_rule = rule_id(tenant_b, None)
    client.force_login(owner)  # ops of A
    assert client.post(f"/t/alpha/coverage/rules/{b_rule}/", {f"rule-{b_rule}-accounts_per_csm": 3}).status_code == 404
    assert client.post(f"/t/alpha/coverage/rules/{b_rule}/delete/").status_code == 404
    with tenant_context(tenant_b):
        assert CoverageRule.objects.get(pk=b_rule).accounts_per_csm == 50


def test_the_rule_service_checks_the_number_and_one_rule_per_segment(tenant_a):
    from django.core.exceptions import ValidationError

    from insights.coverage.services import coverage_rule_save

    from .coverage_helpers import segment

    enterprise = segment(tenant_a, "Enterprise")
    for bad in (0, -3, "ten", 2.5, None):
        with pytest.raises(ValidationError) as refused:
            coverage_rule_save(tenant=tenant_a, segment=enterprise, accounts_per_csm=bad)
        assert "accounts_per_csm" in refused.value.message_dict
    coverage_rule_save(tenant=tenant_a, segment=enterprise, accounts_per_csm="10")
    with pytest.raises(ValidationError) as twice:
        coverage_rule_save(tenant=tenant_a, segment=enterprise, accounts_per_csm=20)
    assert twice.value.message_dict["segment"] == ["Enterprise has a rule already; change that one."]
    with pytest.raises(ValidationError) as second_catch_all:
        coverage_rule_save(tenant=tenant_a, segment=None, accounts_per_csm=20)
    assert "segment" in second_catch_all.value.message_dict
    assert rules_of(tenant_a) == {None: 50, "Enterprise": 10}
