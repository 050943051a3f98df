"""Coverage: load per CSM against the rules (worked example), unassigned accounts, and the reassignment service
(what moves, what stays, all or nothing, who may)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Activity
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from insights.coverage.selectors import coverage_by_csm
from insights.coverage.services import ReassignForbidden, accounts_reassign
from insights.models import AccountAssignment, MonthlyReport
from success_plans.models import Task
from tests.api import count, member
from tests.factories import ActivityFactory

from .coverage_helpers import accounts, expansion, fresh, renewal, rule, task, trail


def coverage(tenant, **kwargs):
    with tenant_context(tenant):
        return coverage_by_csm(tenant=tenant, **kwargs)


def row_of(result, user):
    return next(r for r in result["rows"] if r["user_id"] == user.pk)


@pytest.fixture
def worked_example(tenant_a, tenant_b, csm, other_csm, teammate, manager):
    """Rules: Enterprise 1:10, SMB 1:100, catch-all 1:50 (the default; Mid-Market has no rule)."""
    rule(tenant_a, "Enterprise", 10)
    rule(tenant_a, "SMB", 100)
    accounts(tenant_a, 5, csm=csm, segment_name="Enterprise", arr="10000")
    accounts(tenant_a, 20, csm=csm, segment_name="SMB", arr="1000")
    accounts(tenant_a, 2, csm=csm, segment_name="Enterprise", arr="99999", status="churned")  # not counted
    accounts(tenant_a, 11, csm=other_csm, segment_name="Enterprise", arr="2000")
    accounts(tenant_a, 1, csm=other_csm, segment_name="Mid-Market", arr="3000")
    accounts(tenant_a, 3, segment_name="SMB", arr="500")  # unassigned
    accounts(tenant_a, 1, arr="250")  # unassigned, no segment: the catch-all rule
    accounts(tenant_a, 1, arr="777", status="churned")  # unassigned but churned: not counted
    accounts(tenant_b, 4, arr="100000")  # another tenant's unassigned accounts


def test_it_works_out_the_load_of_each_csm_from_the_rules_of_their_accounts_segments(
        tenant_a, worked_example, csm, other_csm, teammate, manager):
    result = coverage(tenant_a)

    chris = row_of(result, csm)
    # 5 Enterprise at 1:10 = 50%, 20 SMB at 1:100 = 20%: 70% of one CSM.
    assert (chris["accounts"], chris["arr"], chris["load_percent"], chris["over_capacity"]) == (
        25, Decimal("70000"), Decimal("70.0"), False)
    by_segment = {c["segment"]: (c["accounts"], c["accounts_per_csm"], c["load_percent"]) for c in chris["segments"]}
    assert by_segment == {"Enterprise": (5, 10, Decimal("50.0")), "Mid-Market": (0, 50, Decimal("0.0")),
                          "SMB": (20, 100, Decimal("20.0")), "No segment": (0, 50, Decimal("0.0"))}

    olive = row_of(result, other_csm)
    # 11 Enterprise = 110%, 1 Mid-Market by the catch-all 1:50 = 2%: over capacity.
    assert (olive["accounts"], olive["arr"], olive["load_percent"], olive["over_capacity"]) == (
        12, Decimal("25000"), Decimal("112.0"), True)
    assert olive["bar_percent"] == 100

    idle = row_of(result, teammate)  # a CSM without accounts still has a row
    assert (idle["accounts"], idle["arr"], idle["load_percent"]) == (0, Decimal("0"), Decimal("0.0"))
    assert manager.pk not in {r["user_id"] for r in result["rows"]}  # a manager without a book has none

    # 3 SMB (3%) and 1 without a segment (2%); churned and tenant B's accounts are not counted.
    assert result["unassigned"]["accounts"] == 4
    assert result["unassigned"]["arr"] == Decimal("1750")
    assert result["unassigned"]["load_percent"] == Decimal("5.0")

    totals = result["totals"]
    assert (totals["people"], totals["accounts"], totals["arr"], totals["over_capacity"]) == (
        3, 37, Decimal("95000"), 1)
    assert totals["load_percent"] == Decimal("182.0")
    assert totals["average_load_percent"] == Decimal("60.7")
    assert totals["csms_needed"] == Decimal("1.87")  # 0.70 + 1.12 + 0.05 unassigned
    assert result["currency"] == "USD"
    labels = [r["label"] for r in result["rules"]]
    assert labels[:2] == ["1 CSM : 10 Enterprise accounts", "1 CSM : 100 SMB accounts"]
    assert labels[2].startswith("1 CSM : 50 accounts")


def test_it_limits_rows_and_totals_to_the_people_asked_for_but_keeps_the_tenants_unassigned_pool(
        tenant_a, worked_example, csm, other_csm):
    result = coverage(tenant_a, user_ids=[csm.pk])
    assert [r["user_id"] for r in result["rows"]] == [csm.pk]
    assert result["totals"]["accounts"] == 25
    assert result["unassigned"]["accounts"] == 4


def test_it_shows_anyone_still_owning_active_accounts_so_the_rows_and_the_pool_add_up(tenant_a, owner, csm):
    accounts(tenant_a, 2, csm=owner, segment_name="SMB")  # an ops member with a book
    accounts(tenant_a, 1, csm=csm)
    result = coverage(tenant_a)
    ops_row = row_of(result, owner)
    assert (ops_row["role"], ops_row["accounts"], ops_row["load_percent"]) == ("ops", 2, Decimal("4.0"))
    assert result["totals"]["accounts"] + result["unassigned"]["accounts"] == 3


def test_it_counts_with_a_fixed_number_of_queries_whatever_the_number_of_accounts(tenant_a, csm, other_csm):
    rule(tenant_a, "Enterprise", 10)
    accounts(tenant_a, 10, csm=csm, segment_name="Enterprise")
    accounts(tenant_a, 5, csm=other_csm, segment_name="SMB")
    accounts(tenant_a, 5, segment_name="Mid-Market")
    with tenant_context(tenant_a), CaptureQueriesContext(connection) as few:
        small = coverage_by_csm(tenant=tenant_a)
    extra = [member(tenant_a, Role.CSM, f"extra{i}@alpha.test") for i in range(5)]
    for i, person in enumerate(extra):
        accounts(tenant_a, 30, csm=person, segment_name=["Enterprise", "SMB", "Mid-Market"][i % 3])
    accounts(tenant_a, 30, segment_name="SMB")
    with tenant_context(tenant_a), CaptureQueriesContext(connection) as many:
        large = coverage_by_csm(tenant=tenant_a)
    assert small["totals"]["accounts"] + small["unassigned"]["accounts"] == 20
    assert large["totals"]["accounts"] + large["unassigned"]["accounts"] == 200
    assert len(few) == len(many) == 4, [q["sql"] for q in many.captured_queries]


# ---- reassignment ----------------------------------------------------------------------------------------------


@pytest.fixture
def book(tenant_a, csm, other_csm):
    """Two accounts of Chris (X with tasks, opportunities, an activity; Y bare) and one of Olive."""
    x, y = accounts(tenant_a, 2, csm=csm, segment_name="Enterprise", prefix="Chris")
    (z,) = accounts(tenant_a, 1, csm=other_csm, prefix="Olive")
    return {
        "x": x, "y": y, "z": z,
        "open": task(tenant_a, x, owner=csm, title="QBR prep"),
        "done": task(tenant_a, x, owner=csm, status=Task.Status.DONE, title="Kickoff"),
        "someone_elses": task(tenant_a, x, owner=other_csm, title="Olive's own"),
        "unowned": task(tenant_a, x, owner=None, title="Nobody's"),
        "on_z": task(tenant_a, z, owner=other_csm, title="Z stays"),
        "activity": ActivityFactory(tenant=tenant_a, account=x, logged_by=csm),
        "renewal": renewal(tenant_a, x, owner=csm),
        "closed_renewal": renewal(tenant_a, x, owner=csm, closed=True),
        "expansion": expansion(tenant_a, x, owner=csm),
        "won": expansion(tenant_a, x, owner=csm, stage="won"),
        "others_expansion": expansion(tenant_a, x, owner=other_csm),
        "draft_report": monthly_report(tenant_a, x, csm=csm, month=date(2026, 10, 1)),
        "delivered_report": monthly_report(tenant_a, x, csm=csm, month=date(2026, 9, 1), delivered=True),
    }


def monthly_report(tenant, account, *, csm, month, delivered=False):
    with tenant_context(tenant):
        return MonthlyReport.objects.create(
            account=account, csm=csm, month=month, drafted_at=timezone.now(),
            status=MonthlyReport.Status.DELIVERED if delivered else MonthlyReport.Status.DRAFT,
            delivered_at=timezone.now() if delivered else None)


def reassign(tenant, **kwargs):
    return accounts_reassign(tenant=tenant, **kwargs)


def test_it_moves_the_accounts_with_their_open_work_of_the_previous_csm_and_leaves_the_history(
        tenant_a, book, csm, other_csm, manager):
    done = reassign(tenant_a, account_ids=[book["x"].pk, book["y"].pk], to_user=other_csm, by=manager,
                    note="Rebalance")

    assert done == {"accounts": 2, "tasks": 1, "renewals": 1, "expansions": 1, "draft_reports": 1, "unchanged": 0,
                    "to_user": other_csm}
    assert fresh(tenant_a, book["draft_report"]).csm_id == other_csm.pk  # Olive delivers October's report
    assert fresh(tenant_a, book["delivered_report"]).csm_id == csm.pk  # September's stays Chris's
    assert fresh(tenant_a, book["x"]).csm_id == fresh(tenant_a, book["y"]).csm_id == other_csm.pk
    assert fresh(tenant_a, book["open"]).owner_id == other_csm.pk
    assert fresh(tenant_a, book["done"]).owner_id == csm.pk  # completed work stays credited to Chris
    assert fresh(tenant_a, book["someone_elses"]).owner_id == other_csm.pk
    assert fresh(tenant_a, book["unowned"]).owner_id is None
    assert fresh(tenant_a, book["activity"]).logged_by_id == csm.pk
    assert fresh(tenant_a, book["renewal"]).owner_id == other_csm.pk
    assert fresh(tenant_a, book["closed_renewal"]).owner_id == csm.pk
    assert fresh(tenant_a, book["expansion"]).owner_id == other_csm.pk
    assert fresh(tenant_a, book["won"]).owner_id == csm.pk
    assert fresh(tenant_a, book["z"]).csm_id == other_csm.pk
    with tenant_context(tenant_a):
        assert Activity.objects.filter(account=book["x"]).count() == 1
    assert trail(tenant_a) == [
        {"account_id": book["x"].pk, "from_user_id": csm.pk, "to_user_id": other_csm.pk, "by_id": manager.pk,
         "tasks_moved": 1, "note": "Rebalance"},
        {"account_id": book["y"].pk, "from_user_id": csm.pk, "to_user_id": other_csm.pk, "by_id": manager.pk,
         "tasks_moved": 0, "note": "Rebalance"},
    ]


def test_it_gives_an_unassigned_accounts_ownerless_open_work_to_its_new_csm(tenant_a, csm, manager):
    (u,) = accounts(tenant_a, 1)
    ownerless = task(tenant_a, u, owner=None)
    open_renewal = renewal(tenant_a, u, owner=None)
    done = reassign(tenant_a, account_ids=[u.pk], to_user=csm, by=manager)
    assert (done["accounts"], done["tasks"], done["renewals"]) == (1, 1, 1)
    assert fresh(tenant_a, ownerless).owner_id == fresh(tenant_a, open_renewal).owner_id == csm.pk
    assert trail(tenant_a)[0]["from_user_id"] is None


def test_it_leaves_accounts_already_with_the_target_out_of_the_move(tenant_a, book, csm, other_csm, owner):
    done = reassign(tenant_a, account_ids=[book["x"].pk, book["z"].pk], to_user=other_csm, by=owner)
    assert (done["accounts"], done["unchanged"]) == (1, 1)
    assert [t["account_id"] for t in trail(tenant_a)] == [book["x"].pk]
    with pytest.raises(ValidationError) as refused:
        reassign(tenant_a, account_ids=[book["z"].pk], to_user=other_csm, by=owner)
    assert "already with" in refused.value.message_dict["account_ids"][0]


def assert_nothing_moved(tenant, book, csm):
    assert fresh(tenant, book["x"]).csm_id == csm.pk
    assert fresh(tenant, book["open"]).owner_id == csm.pk
    assert fresh(tenant, book["renewal"]).owner_id == csm.pk
    assert count(AccountAssignment, tenant) == 0


def test_it_refuses_the_whole_request_when_one_id_is_another_tenants_account_and_writes_nothing(
        tenant_a, tenant_b, book, csm, other_csm, owner):
    (foreign,) = accounts(tenant_b, 1)
    with pytest.raises(ValidationError) as refused:
        reassign(tenant_a, account_ids=[book["x"].pk, foreign.pk], to_user=other_csm, by=owner)
    assert refused.value.message_dict["account_ids"] == [f"No such account: {foreign.pk}."]
    assert_nothing_moved(tenant_a, book, csm)
    assert fresh(tenant_b, foreign).csm_id is None


@pytest.mark.parametrize("bad", ["unknown", "churned", "empty", "text"])
def test_it_refuses_unknown_churned_or_missing_accounts_with_a_field_error(
        tenant_a, book, csm, other_csm, owner, bad):
    (churned,) = accounts(tenant_a, 1, csm=csm, status="churned", prefix="Gone")
    ids = {"unknown": [book["x"].pk, 987654], "churned": [book["x"].pk, churned.pk], "empty": [],
           "text": [book["x"].pk, "x"]}[bad]
    with pytest.raises(ValidationError) as refused:
        reassign(tenant_a, account_ids=ids, to_user=other_csm, by=owner)
    message = refused.value.message_dict["account_ids"][0]
    assert {"unknown": "No such account: 987654.", "churned": "churned", "empty": "at least one",
            "text": "not an account id"}[bad] in message
    assert_nothing_moved(tenant_a, book, csm)


def test_it_only_gives_accounts_to_a_csm_or_manager_of_the_tenant(tenant_a, book, csm, owner, outsider):
    for target in (owner, outsider):  # ops is no CSM; tenant B's user is nobody here
        with pytest.raises(ValidationError) as refused:
            reassign(tenant_a, account_ids=[book["x"].pk], to_user=target, by=owner)
        assert "is not a CSM or manager of this workspace" in refused.value.message_dict["to_user"][0]
    assert_nothing_moved(tenant_a, book, csm)


def test_it_keeps_a_manager_to_their_team_and_the_unassigned_accounts(
        tenant_a, book, csm, other_csm, teammate, manager):
    (outside,) = accounts(tenant_a, 1, csm=teammate, prefix="Teammate")  # teammate has no manager
    with pytest.raises(ReassignForbidden, match="belong to a CSM outside your team"):
        reassign(tenant_a, account_ids=[book["x"].pk, outside.pk], to_user=other_csm, by=manager)
    with pytest.raises(ReassignForbidden, match="is not on your team"):
        reassign(tenant_a, account_ids=[book["x"].pk], to_user=teammate, by=manager)
    assert_nothing_moved(tenant_a, book, csm)
    (unassigned,) = accounts(tenant_a, 1)
    assert reassign(tenant_a, account_ids=[unassigned.pk], to_user=manager, by=manager)["accounts"] == 1


def test_it_lets_ops_move_accounts_anywhere_in_the_tenant(tenant_a, book, teammate, owner):
    done = reassign(tenant_a, account_ids=[book["x"].pk, book["z"].pk], to_user=teammate, by=owner)
    assert done["accounts"] == 2 and done["tasks"] == 2  # Chris's QBR prep and Olive's task on Z


def test_it_forbids_a_csm_and_an_executive_to_reassign(tenant_a, book, csm, other_csm):
    executive = member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")
    for who in (csm, executive):
        with pytest.raises(ReassignForbidden, match="Your role cannot reassign"):
            reassign(tenant_a, account_ids=[book["x"].pk], to_user=other_csm, by=who)
    assert_nothing_moved(tenant_a, book, csm)


def test_it_queues_todays_health_and_forecast_refresh_only_when_the_nightly_jobs_wrote_today(
        tenant_a, book, other_csm, owner, django_capture_on_commit_callbacks):
    from health.models import PendingRefresh, PortfolioHealthDaily
    from renewals.models import ForecastLine

    from .coverage_helpers import TODAY

    with django_capture_on_commit_callbacks() as before_nightly:
        reassign(tenant_a, account_ids=[book["y"].pk], to_user=other_csm, by=owner)
    assert before_nightly == [] and count(PendingRefresh, tenant_a) == 0
    with tenant_context(tenant_a):
        PortfolioHealthDaily.objects.create(day=TODAY, band="green", accounts=3)
        ForecastLine.objects.create(day=TODAY, renewal=book["renewal"], account=book["x"], close_date=TODAY,
                                    stage="engaged", category="pipeline", band="green", current_arr=1,
                                    expected_arr=1, probability=50, weighted_arr=1)
    with django_capture_on_commit_callbacks() as after_nightly:
        reassign(tenant_a, account_ids=[book["x"].pk], to_user=other_csm, by=owner)
    with tenant_context(tenant_a):
        assert list(PendingRefresh.objects.values_list("account_id", flat=True)) == [book["x"].pk]
    assert len(after_nightly) == 2  # health.refresh scheduled, renewals.forecast rerun
