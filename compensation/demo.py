"""Demo compensation: every demo CSM on the default plan of the current plan year with a base in the plan's
range, statements for every month of the plan year up to this one, and every month before the current one
approved by the demo manager (the current month stays a draft to approve).
Called by `manage.py seed_demo` inside the tenant's context, after the renewals demo: the lines come from the
renewals (retention), expansions (new business, quota) and process documents the earlier demos created.

- Stable: the bases come from `random.Random(tenant.slug)`; only the dates move with today.
- Idempotent: a tenant that already has assignments is left alone.
- Through the services, so the statements follow the same rules as the nightly job."""

import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from renewals.periods import add_months, month_start

from .engine import plan_year_bounds
from .models import CompAssignment
from .services import comp_assign, comp_plan_default_ensure, statement_approve, statement_generate


def seed(*, tenant, people) -> dict:
    if CompAssignment.objects.exists():
        return {}
    with transaction.atomic():
        return _seed(tenant, people)


def _seed(tenant, people) -> dict:
    rng = random.Random(f"compensation-{tenant.slug}")
    today = timezone.localdate()
    plan = comp_plan_default_ensure()
    year_start, _ = plan_year_bounds(plan)
    this_month = month_start(today)
    steps = int((plan.base_max - plan.base_min) / 500)
    months = []
    month = month_start(year_start)
    while month <= this_month:
        months.append(month)
        month = add_months(month, 1)
    generated = approved = 0
    for csm in people.csms:
        base = plan.base_min + Decimal(500) * rng.randint(0, steps)
        assignment = comp_assign(plan=plan, csm=csm, annual_base=base, starts_on=year_start)
        for month in months:
            statement = statement_generate(assignment=assignment, month=month)
            if statement is None:
                continue
            generated += 1
            if month < this_month and statement_approve(statement=statement, by=people.by_key["manager"]):
                approved += 1
    return {"statements": generated, "approved": approved}
