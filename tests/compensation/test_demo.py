"""The demo compensation (compensation/demo.py), as `manage.py seed_demo` creates it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from compensation.engine import plan_year_bounds
from compensation.models import CompAssignment, CompLine, CompStatement
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant, User
from renewals.periods import month_start


@pytest.fixture
def seeded(demo_tenants, db):
    return {t.slug: t for t in Tenant.objects.all()}


def test_it_gives_every_demo_csm_statements_for_every_month_of_the_plan_year(seeded):
    this_month = month_start(timezone.localdate())
    for tenant in seeded.values():
        csms = set(User.objects.filter(email__startswith="csm", email__endswith=f"@{tenant.slug}.example"))
        assert len(csms) == 3
        with tenant_context(tenant):
            assignments = list(CompAssignment.objects.select_related("plan", "csm"))
            assert {a.csm for a in assignments} == csms
            assert all(a.plan.base_min <= a.annual_base <= a.plan.base_max for a in assignments)
            start = month_start(plan_year_bounds(assignments[0].plan)[0])
            months = (this_month.year - start.year) * 12 + this_month.month - start.month + 1
            for csm in csms:
                statements = list(CompStatement.objects.filter(csm=csm).order_by("period_start"))
                assert len(statements) == months, (tenant.slug, csm)
                assert {s.status for s in statements[:-1]} <= {"approved"}
                assert statements[-1].status == "draft"
                assert all(s.approved_by and s.approved_by.email.startswith("manager@") for s in statements[:-1])
            kinds = set(CompLine.objects.values_list("rule_kind", flat=True))
            assert "base_salary" in kinds and kinds & {"new_business", "retention"}, kinds


def test_it_seeds_compensation_once(seeded):
    with tenant_context(seeded["acme"]):
        before = (CompAssignment.objects.count(), CompStatement.objects.count(), CompLine.objects.count())
    call_command("seed_demo", stdout=StringIO())
    with tenant_context(seeded["acme"]):
        after = (CompAssignment.objects.count(), CompStatement.objects.count(), CompLine.objects.count())
    assert after[:2] == before[:2]
