"""The demo's monthly reports (insights/reports/demo.py), as `manage.py seed_demo` creates them."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant
from insights.models import MonthlyReport, ReportRecipient
from insights.reports.selectors import report_cycle_month
from renewals.periods import add_months
from success_plans.models import Task

pytestmark = pytest.mark.postgres


def test_the_demo_drafts_three_months_delivers_most_of_the_older_ones_and_some_of_this_cycle(db, settings):
    settings.DEMO_PASSWORD = "demo-pass-for-test"
    call_command("seed_demo", stdout=StringIO())
    cycle = report_cycle_month(timezone.localdate())
    months = [add_months(cycle, -2), add_months(cycle, -1), cycle]
    assert mail.outbox == []  # the demo's emails went nowhere
    for tenant in Tenant.objects.filter(slug__in=["acme", "globex"]):
        with tenant_context(tenant):
            counts = {(row["month"], row["status"]): row["n"]
                      for row in MonthlyReport.objects.values("month", "status").annotate(n=Count("id"))}
            assert {m for m, _ in counts} == set(months)
            # This cycle's: some delivered as far as the month has gone, and at least 40% left to the CSMs.
            assert counts.get((cycle, "draft"), 0) >= 0.4 * sum(n for (m, _), n in counts.items() if m == cycle)
            if timezone.localdate().day >= 10:
                assert counts.get((cycle, "delivered"), 0) > 0
            for month in months[:2]:
                delivered, total = counts.get((month, "delivered"), 0), sum(
                    n for (m, _), n in counts.items() if m == month)
                assert 0.5 * total <= delivered < total, (tenant.slug, month)
            delivered = MonthlyReport.objects.filter(status="delivered")
            assert not delivered.filter(recommendation="").exists()
            assert all(r.delivered_at.date() > r.month for r in delivered)
            assert ReportRecipient.objects.count() >= delivered.count()
            linked = set(delivered.exclude(follow_up_task=None).values_list("follow_up_task_id", flat=True))
            assert linked and set(Task.objects.filter(pk__in=linked, type="follow_up").values_list(
                "pk", flat=True)) == linked
