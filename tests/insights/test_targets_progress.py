"""CSM targets: the worked example of docs (targets.md), reproduced number by number, plus what is not counted,
targets as data, and a fixed number of queries.

The example: tenant A's fiscal year starts in April; today is Wednesday 12 November 2025 (FY2026 Q3, the month
of November). Chris (the CSM) has three active clients and one churned account; Olive (another CSM) one client.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, Activity
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore, SurveyInvite, SurveyResponse
from insights.models import MonthlyReport, Target
from insights.targets.progress import targets_progress
from renewals.models import ExpansionOpportunity
from success_plans.models import Advocacy
from tests.factories import AccountFactory, ContactFactory, GoalFactory, MembershipFactory

TODAY = date(2025, 11, 12)
M = Target.Metric


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def account(tenant, csm, name, arr, status=Account.Status.ACTIVE):
    made = AccountFactory(tenant=tenant, csm=csm, name=name, status=status,
                          churn_date=date(2025, 6, 1) if status == Account.Status.CHURNED else None)
    with tenant_context(tenant):
        Account.objects.filter(pk=made.pk).update(arr=Decimal(arr))
    made.arr = Decimal(arr)
    return made


def approved_goal(tenant, acc, approved_on):
    contact = ContactFactory(tenant=tenant, account=acc)
    return GoalFactory(tenant=tenant, plan__account=acc, approved_by=contact if approved_on else None,
                       approved_on=approved_on)


def expansion(tenant, acc, lead, created):
    with tenant_context(tenant):
        made = ExpansionOpportunity.objects.create(account=acc, product="Analytics", amount=Decimal("1000"),
                                                   expected_close=date(2026, 3, 1), lead_source=lead)
        ExpansionOpportunity.objects.filter(pk=made.pk).update(created_at=at(created))


def advocacy(tenant, acc, by, kind, happened_on, status=Advocacy.Status.COMPLETED):
    with tenant_context(tenant):
        Advocacy.objects.create(account=acc, kind=kind, status=status, happened_on=happened_on, captured_by=by)


def invite(tenant, acc, sent):
    contact = ContactFactory(tenant=tenant, account=acc)
    with tenant_context(tenant):
        SurveyInvite.objects.create(account=acc, contact=contact,
                                    token_hash=f"{acc.pk:08d}{sent:%Y%m%d}".ljust(64, "0"),
                                    sent_at=at(sent), expires_at=at(sent) + timedelta(days=14))


def activity(tenant, acc, by, when, minutes=30, kind=Activity.Kind.CALL):
    with tenant_context(tenant):
        Activity.objects.create(account=acc, kind=kind, occurred_at=when, logged_by=by, subject="Call",
                                minutes_spent=minutes)


def report(tenant, acc, csm, month, delivered):
    with tenant_context(tenant):
        MonthlyReport.objects.create(
            account=acc, csm=csm, month=month, drafted_at=at(date(month.year, month.month, 1) + timedelta(days=31)),
            status=MonthlyReport.Status.DELIVERED if delivered else MonthlyReport.Status.DRAFT,
            delivered_at=at(date(2025, 11, 5)) if delivered else None)


def score(tenant, acc, day, band):
    with tenant_context(tenant):
        HealthScore.objects.create(account=acc, day=day, band=band, score={"green": 80, "yellow": 55, "red": 20}[band],
                                   computed_at=at(day))


def answer(tenant, acc, value, day, kind="nps"):
    with tenant_context(tenant):
        SurveyResponse.objects.create(account=acc, kind=kind, score=value, responded_at=at(day), source="api")


@pytest.fixture
def example(tenant_a, tenant_b, csm, other_csm):
    """The worked example of docs/insights.md (targets): Chris's records, and records that must not count."""
    tenant_a.fiscal_year_start_month = 4
    tenant_a.save()
    acme, beta, cobalt = (account(tenant_a, csm, "Acme", "100000"), account(tenant_a, csm, "Beta", "50000"),
                          account(tenant_a, csm, "Cobalt", "50000"))
    gone = account(tenant_a, csm, "Gone", "0", status=Account.Status.CHURNED)
    olive = account(tenant_a, other_csm, "Olive's client", "100000")
    # approved goals: one in FY2026; not: last fiscal year, unapproved, churned account, Olive's client
    approved_goal(tenant_a, acme, date(2025, 5, 10))
    approved_goal(tenant_a, beta, date(2025, 3, 31))
    approved_goal(tenant_a, beta, None)
    approved_goal(tenant_a, gone, date(2025, 5, 10))
    approved_goal(tenant_a, olive, date(2025, 5, 10))
    # expansions flagged by Chris: four in FY2026; not: before 1 April, Olive's lead
    for day in (date(2025, 4, 1), date(2025, 7, 14), date(2025, 10, 2), date(2025, 11, 12)):
        expansion(tenant_a, acme, csm, day)
    expansion(tenant_a, acme, csm, date(2025, 3, 31))
    expansion(tenant_a, acme, other_csm, date(2025, 10, 2))
    # referrals: three counted (completed, proposed, agreed); not: declined, Olive's, last year
    advocacy(tenant_a, acme, csm, "referral", date(2025, 4, 20))
    advocacy(tenant_a, beta, csm, "referral", date(2025, 8, 1), Advocacy.Status.PROPOSED)
    advocacy(tenant_a, olive, csm, "referral", date(2025, 11, 3), Advocacy.Status.AGREED)
    advocacy(tenant_a, acme, csm, "referral", date(2025, 9, 9), Advocacy.Status.DECLINED)
    advocacy(tenant_a, acme, other_csm, "referral", date(2025, 9, 9))
    advocacy(tenant_a, acme, csm, "referral", date(2025, 3, 1))
    # case studies: one agreed; a declined one does not count
    advocacy(tenant_a, acme, csm, "case_study", date(2025, 6, 15), Advocacy.Status.AGREED)
    advocacy(tenant_a, beta, csm, "case_study", date(2025, 7, 1), Advocacy.Status.DECLINED)
    # feedback this quarter: Acme (survey sent), Beta (feedback activity by anyone, and a survey: once);
    # Cobalt only last quarter
    invite(tenant_a, acme, date(2025, 10, 20))
    activity(tenant_a, beta, other_csm, at(date(2025, 11, 5)), kind=Activity.Kind.FEEDBACK)
    invite(tenant_a, beta, date(2025, 11, 6))
    activity(tenant_a, cobalt, csm, at(date(2025, 9, 30)), kind=Activity.Kind.FEEDBACK)
    # monthly reports of October (delivered in November): 2 of 3 delivered; September's and Olive's not counted
    report(tenant_a, acme, csm, date(2025, 10, 1), True)
    report(tenant_a, beta, csm, date(2025, 10, 1), True)
    report(tenant_a, cobalt, csm, date(2025, 10, 1), False)
    report(tenant_a, acme, csm, date(2025, 9, 1), True)
    report(tenant_a, olive, other_csm, date(2025, 10, 1), True)
    # activity days in November: Mon 3 (twice), Tue 4, Wed 5, Thu 6, Fri 7, Mon 10, Tue 11 = 7 working days;
    # not: Saturday 8, no time spent on Wed 12, Olive's call, 31 October
    for day in (3, 3, 4, 5, 6, 7, 10, 11):
        activity(tenant_a, acme, csm, at(date(2025, 11, day)))
    activity(tenant_a, acme, csm, at(date(2025, 11, 8)))
    activity(tenant_a, acme, csm, at(date(2025, 11, 12)), minutes=0)
    activity(tenant_a, acme, other_csm, at(date(2025, 11, 12)))
    activity(tenant_a, acme, csm, at(date(2025, 10, 31)))
    # health on the latest scored day up to today (11 Nov): Acme green, Beta yellow, Cobalt red
    for acc in (acme, beta, cobalt, olive):
        score(tenant_a, acc, date(2025, 11, 10), "green")
    score(tenant_a, acme, date(2025, 11, 11), "green")
    score(tenant_a, beta, date(2025, 11, 11), "yellow")
    score(tenant_a, cobalt, date(2025, 11, 11), "red")
    score(tenant_a, olive, date(2025, 11, 11), "green")
    score(tenant_a, acme, date(2025, 11, 13), "red")  # after today: not seen
    # NPS in FY2026 on Chris's clients: 10, 9, 9, 8, 3; not: Olive's client, last year, a CSAT answer, churned
    for value in (10, 9, 9, 8, 3):
        answer(tenant_a, acme, value, date(2025, 10, 1))
    answer(tenant_a, olive, 0, date(2025, 10, 1))
    answer(tenant_a, beta, 0, date(2025, 3, 31))
    answer(tenant_a, beta, 1, date(2025, 10, 1), kind="csat")
    answer(tenant_a, gone, 0, date(2025, 10, 1))
    # Tenant B: a CSM with the same kind of records, never counted for A
    b_csm = MembershipFactory(tenant=tenant_b, role="csm", user__email="b-csm@bravo.test").user
    b_acc = account(tenant_b, b_csm, "Bravo client", "70000")
    approved_goal(tenant_b, b_acc, date(2025, 5, 10))
    expansion(tenant_b, b_acc, csm, date(2025, 10, 2))  # even naming A's CSM as the lead source
    advocacy(tenant_b, b_acc, csm, "referral", date(2025, 10, 2))
    activity(tenant_b, b_acc, csm, at(date(2025, 11, 12)))
    answer(tenant_b, b_acc, 0, date(2025, 10, 1))
    return {"acme": acme, "beta": beta, "cobalt": cobalt, "olive": olive}


def cells_of(progress, index=0):
    return {cell["metric"]: cell for cell in progress["people"][index]["cells"]}


# metric: actual, goal, expected by now, status, pace needed (docs/insights.md, "Worked example")
WORKED_EXAMPLE = {
    M.APPROVED_GOALS: ("1", "6", "3.7", "behind", "5 more goals by 31 Mar: about 1 a month."),
    M.EXPANSIONS_FLAGGED: ("4", "36", "22.2", "behind", "32 more opportunities by 31 Mar: about 6.4 a month."),
    M.REFERRALS: ("3", "5", "3.1", "on_pace", "2 more referrals by 31 Mar: about 1 every 2.5 months."),
    M.FEEDBACK_SOLICITED: ("2", "3", "1.4", "ahead", "1 more client by 31 Dec: about 1 every 2 months."),
    M.CASE_STUDIES: ("1", "1", "0.6", "met", "Nothing more needed."),
    M.REPORTS_DELIVERED: ("2", "3", "1.1", "ahead", "1 more report by 30 Nov: about 1 every 3 weeks."),
    M.ACTIVITY_DAYS: ("7", "20", "7", "on_pace", "13 working days left: one activity a day."),
    M.GREEN_ACCOUNTS: ("33.3%", "80%", "", "not_met", "2 more accounts would have to turn green."),
    M.GREEN_ARR: ("50%", "80%", "", "not_met", "60,000 USD more ARR would have to turn green."),
    M.RED_ARR: ("25%", "10%", "", "not_met", "30,000 USD of ARR would have to stop being red."),
    M.NPS: ("+40", "60", "", "not_met",
            "About 3 more promoter answers (9-10), with no new detractor, would reach 60."),
}


def test_it_reproduces_the_worked_example(tenant_a, csm, example):
    progress = targets_progress(tenant=tenant_a, user_ids=[csm.pk], today=TODAY)
    cells = cells_of(progress)
    assert [c["metric"] for c in progress["people"][0]["cells"]] == [c["metric"] for c in progress["columns"]]
    found = {metric: (c["actual_display"], c["goal_display"], c["expected_display"], c["status"], c["pace"])
             for metric, c in cells.items()}
    assert found == WORKED_EXAMPLE
    assert cells[M.FEEDBACK_SOLICITED]["period_label"] == "FY2026 Q3"
    assert cells[M.APPROVED_GOALS]["period_label"] == "FY2026"
    assert cells[M.ACTIVITY_DAYS]["period_label"] == "November 2025"
    assert cells[M.NPS]["detail"] == "5 answers: 3 promoters, 1 detractors"


def test_it_sums_counts_and_pools_shares_for_the_team(tenant_a, csm, other_csm, example):
    progress = targets_progress(tenant=tenant_a, user_ids=[csm.pk, other_csm.pk], today=TODAY)
    assert [p["name"] for p in progress["people"]] == ["Chris Carter", "Olive Other"]
    olive = cells_of(progress, 1)
    assert (olive[M.EXPANSIONS_FLAGGED]["actual"], olive[M.REFERRALS]["actual"]) == (1, 1)
    assert olive[M.APPROVED_GOALS]["actual"] == 1 and olive[M.APPROVED_GOALS]["goal"] == Decimal("2")
    team = {cell["metric"]: cell for cell in progress["team"]["cells"]}
    assert team[M.EXPANSIONS_FLAGGED]["actual"] == 5 and team[M.EXPANSIONS_FLAGGED]["goal"] == 72
    assert team[M.APPROVED_GOALS]["goal"] == 8  # 2 per client, 4 clients
    # Olive logged on Wed 5 (the feedback call) and Wed 12
    assert team[M.ACTIVITY_DAYS]["actual"] == 9 and team[M.ACTIVITY_DAYS]["goal"] == 40
    assert team[M.REPORTS_DELIVERED]["actual"] == 3 and team[M.REPORTS_DELIVERED]["goal"] == 4
    # 2 of 4 accounts green; 200,000 of 300,000 ARR green; 50,000 red; NPS over 6 answers (3 P, 2 D): +17
    assert team[M.GREEN_ACCOUNTS]["actual_display"] == "50%"
    assert team[M.GREEN_ARR]["actual_display"] == "66.7%"
    assert team[M.RED_ARR]["actual_display"] == "16.7%"
    assert team[M.NPS]["actual_display"] == "+17"
    assert team[M.GREEN_ARR]["pace"] == "40,000 USD more ARR would have to turn green."


def test_it_counts_a_reassigned_account_for_its_new_csm(tenant_a, csm, other_csm, example):
    with tenant_context(tenant_a):
        Account.objects.filter(pk=example["cobalt"].pk).update(csm=other_csm)
    progress = targets_progress(tenant=tenant_a, user_ids=[csm.pk, other_csm.pk], today=TODAY)
    chris, olive = cells_of(progress, 0), cells_of(progress, 1)
    assert chris[M.RED_ARR]["actual_display"] == "0%" and chris[M.RED_ARR]["status"] == "met"
    assert chris[M.APPROVED_GOALS]["goal"] == 4
    assert olive[M.GREEN_ACCOUNTS]["detail"] == "1 of 2 accounts"


def test_targets_are_data_amount_period_and_switch(tenant_a, csm, example):
    with tenant_context(tenant_a):
        Target.objects.filter(metric=M.EXPANSIONS_FLAGGED).update(amount=Decimal("6"), period="quarter")
        Target.objects.filter(metric=M.NPS).update(amount=Decimal("30"))
        Target.objects.filter(metric=M.CASE_STUDIES).update(is_active=False)
    progress = targets_progress(tenant=tenant_a, user_ids=[csm.pk], today=TODAY)
    cells = cells_of(progress)
    assert M.CASE_STUDIES not in cells and M.CASE_STUDIES not in [c["metric"] for c in progress["columns"]]
    # FY2026 Q3 (1 Oct - 31 Dec): two of Chris's expansions; 42 of 92 days over: 6 x 42 / 92 = 2.7 expected
    flagged = cells[M.EXPANSIONS_FLAGGED]
    assert (flagged["actual"], flagged["goal_display"], flagged["expected_display"], flagged["status"]) == (
        2, "6", "2.7", "on_pace")
    assert flagged["pace"] == "4 more opportunities by 31 Dec: about 2 a month."
    assert (cells[M.NPS]["status"], cells[M.NPS]["pace"]) == ("met", "Nothing more needed.")


def test_it_counts_working_days_in_the_local_time_zone(tenant_a, csm, settings):
    settings.TIME_ZONE = "America/New_York"
    acc = account(tenant_a, csm, "Acme", "1000")
    # Friday 7 November 22:00 in New York is Saturday 03:00 UTC: a working day there.
    activity(tenant_a, acc, csm, datetime(2025, 11, 8, 3, 0, tzinfo=UTC))
    # Sunday 9 November 23:30 in New York is Monday 04:30 UTC: not a working day there.
    activity(tenant_a, acc, csm, datetime(2025, 11, 10, 4, 30, tzinfo=UTC))
    with timezone.override("America/New_York"):
        cells = cells_of(targets_progress(tenant=tenant_a, user_ids=[csm.pk], today=TODAY))
    assert cells[M.ACTIVITY_DAYS]["actual"] == 1


def test_it_drafts_the_report_goal_from_clients_before_any_report(tenant_a, csm):
    account(tenant_a, csm, "Acme", "1000")
    account(tenant_a, csm, "Beta", "1000")
    cells = cells_of(targets_progress(tenant=tenant_a, user_ids=[csm.pk], today=date(2025, 11, 1)))
    assert (cells[M.REPORTS_DELIVERED]["actual"], cells[M.REPORTS_DELIVERED]["goal"]) == (0, 2)
    assert cells[M.REPORTS_DELIVERED]["status"] == "on_pace"  # nothing expected on the first day
    assert cells[M.NPS]["status"] == "no_data" and cells[M.NPS]["pace"] == "No answers yet."


def test_a_csm_without_clients_has_no_data_for_per_client_targets(tenant_a, csm):
    cells = cells_of(targets_progress(tenant=tenant_a, user_ids=[csm.pk], today=TODAY))
    assert cells[M.APPROVED_GOALS]["status"] == "no_data"
    assert cells[M.GREEN_ARR]["pace"] == "No ARR yet."
    assert cells[M.REFERRALS]["status"] == "behind"


def _book(tenant, manager, csms: int, accounts: int):
    people = [MembershipFactory(tenant=tenant, role="csm", manager=manager).user for _ in range(csms)]
    for n in range(accounts):
        acc = account(tenant, people[n % csms], f"Account {n}", "1000")
        score(tenant, acc, date(2025, 11, 11), "green" if n % 3 else "red")
        activity(tenant, acc, people[n % csms], at(date(2025, 11, 3 + n % 5)))
        answer(tenant, acc, n % 11, date(2025, 10, 1))
        approved_goal(tenant, acc, date(2025, 6, 1))
        report(tenant, acc, people[n % csms], date(2025, 10, 1), n % 2 == 0)
    return [p.pk for p in people]


def _queries(tenant, user_ids):
    with tenant_context(tenant), CaptureQueriesContext(connection) as captured:
        progress = targets_progress(tenant=tenant, user_ids=user_ids, today=TODAY)
    return len(captured), progress


def test_it_runs_a_fixed_number_of_queries(tenant_a, manager):
    small = _book(tenant_a, manager, 2, 20)
    small_count, small_progress = _queries(tenant_a, small)
    large = _book(tenant_a, manager, 10, 200)
    large_count, large_progress = _queries(tenant_a, large + small)
    assert small_count == large_count
    assert small_count <= 2 + len(M.values)  # targets, people, at most one per metric
    assert len(large_progress["people"]) == 12
    assert {c["metric"]: c["actual"] for c in large_progress["team"]["cells"]}[M.APPROVED_GOALS] == 220

