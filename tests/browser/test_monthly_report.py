from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from insights.models import MonthlyReport
from insights.reports.drafting import reports_draft
from insights.reports.selectors import report_cycle_month
from tests.factories import AccountFactory, ContactFactory, GoalFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory


def test_a_csm_delivers_the_monthly_report_and_schedules_the_follow_up_call(live_server, transactional_db, page,
                                                                             mailoutbox):
    tenant = TenantFactory(slug="browserco", name="Browser Co")
    csm = MembershipFactory(tenant=tenant, role=Role.CSM, user__email="csm@browserco.test",
                            user__full_name="Chris Carter").user
    account = AccountFactory(tenant=tenant, csm=csm, name="Initech")
    ContactFactory(tenant=tenant, account=account, name="Sara Sponsor", persona="executive_sponsor",
                   email="sara@initech.test")
    ContactFactory(tenant=tenant, account=account, name="Una User", persona="end_user", email="una@initech.test")
    GoalFactory(tenant=tenant, plan__account=account, title="Double weekly active users")
    month = report_cycle_month(timezone.localdate())
    with tenant_context(tenant):
        Account.objects.filter(pk=account.pk).update(created_at=timezone.make_aware(datetime(2024, 1, 1)))
        reports_draft(tenant=tenant, month=month)
        report = MonthlyReport.objects.get()

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("csm@browserco.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/t/browserco/plans/my-work/")  # a CSM lands on My work

    # My work says what is left to deliver and leads to the cycle's list, then to the draft.
    page.goto(f"{live_server.url}/t/browserco/plans/my-work/")
    expect(page.locator("#mywork-reports")).to_contain_text("1 to deliver, 0 delivered")
    page.locator("#mywork-reports a").click()
    page.get_by_role("link", name="Initech").click()
    page.wait_for_url(f"{live_server.url}/t/browserco/reports/{report.pk}/")
    expect(page.locator("#report-status")).to_have_text("Draft")
    expect(page.locator("#report-goals")).to_contain_text("Double weekly active users")
    expect(page.get_by_role("link", name="Print or save as PDF")).to_be_visible()

    page.get_by_label("What we recommend").fill("Roll out SSO to the sales team and review adoption in our call.")
    page.get_by_role("button", name="Save recommendation").click()
    expect(page.locator(".messages")).to_contain_text("Recommendation saved.")

    # The sponsor is ticked by default; the CSM adds the end user too.
    expect(page.get_by_label("Sara Sponsor (Executive sponsor) <sara@initech.test>")).to_be_checked()
    page.get_by_label("Una User (End user) <una@initech.test>").check()
    page.get_by_role("button", name="Deliver by email").click()
    expect(page.locator("#report-status")).to_have_text("Delivered")
    expect(page.locator("#report-recipients")).to_contain_text("sara@initech.test, una@initech.test")
    assert len(mailoutbox) == 1 and sorted(mailoutbox[0].to) == ["sara@initech.test", "una@initech.test"]

    due = timezone.localdate() + timedelta(days=7)
    page.get_by_label("Call on").fill(due.isoformat())
    page.get_by_role("button", name="Schedule follow-up call").click()
    expect(page.locator("#follow-up-task")).to_contain_text(f"due {due:%Y-%m-%d}")

    page.get_by_role("link", name="Initech").first.click()
    page.wait_for_url(f"{live_server.url}/t/browserco/accounts/{account.pk}/")
    expect(page.locator("#reports-delivered")).to_contain_text(f"{month:%B %Y}")
    expect(page.locator("#reports-delivered")).to_contain_text("Chris Carter")

    page.goto(f"{live_server.url}/t/browserco/plans/my-work/")
    expect(page.locator("#mywork-reports")).to_contain_text("0 to deliver, 1 delivered")
    expect(page.locator("table.tasks")).to_contain_text(f"Follow-up call on the {month:%B} report")
    expect(page.locator("table.tasks")).to_contain_text(f"{due:%Y-%m-%d}")
