"""The demo book of business (accounts/demo.py), as `manage.py seed_demo` creates it."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max
from django.utils import timezone

from accounts import demo
from accounts.models import Account, Activity, ActivityContact, Contact, Escalation, EscalationEvent
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.demo import seed_people
from csplatform.tenancy.models import Membership, Tenant
from tests.factories import TenantFactory

MODELS = [Account, Contact, Activity, ActivityContact, Escalation, EscalationEvent]


def _counts() -> dict[str, dict[str, int]]:
    counts = {}
    for tenant in Tenant.objects.order_by("slug"):
        with tenant_context(tenant):
            counts[tenant.slug] = {model.__name__: model.objects.count() for model in MODELS}
    return counts


@pytest.fixture
def seeded(demo_tenants, db):
    """The demo tenants after one seed_demo run; returns their counts."""
    return _counts()


def test_seed_demo_twice_gives_the_same_plausible_counts(seeded):
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == seeded
    assert set(seeded) == {"acme", "globex"}
    for counts in seeded.values():
        accounts = counts["Account"]
        assert accounts >= 50
        assert 3 * accounts <= counts["Contact"] <= 8 * accounts
        assert counts["Activity"] >= 5 * accounts
        assert counts["ActivityContact"] >= counts["Activity"] // 2
        assert 3 <= counts["Escalation"] < counts["EscalationEvent"]


def test_every_account_is_plausible(seeded):
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            accounts = Account.objects.annotate(n_contacts=Count("contacts"))
            assert {a.n_contacts for a in accounts} <= set(range(3, 9)), "3-8 stakeholders per account"
            assert set(accounts.values_list("segment__name", flat=True)) == {"Enterprise", "Mid-Market", "SMB"}
            assert accounts.values("stage").distinct().count() >= 4
            csms = Membership.objects.filter(tenant=tenant, role="csm").values_list("user_id", flat=True)
            assert set(accounts.exclude(csm=None).values_list("csm_id", flat=True)) == set(csms)
            assert 1 <= accounts.filter(csm=None).count() <= 6
            assert accounts.exclude(parent=None).count() >= 3
            assert accounts.values("region").distinct().count() >= 3
            assert accounts.values("industry").distinct().count() >= 5
            churned = accounts.filter(status=Account.Status.CHURNED)
            assert churned.count() >= 2 and not churned.filter(churn_date=None).exists()
            assert not accounts.filter(status=Account.Status.ACTIVE).exclude(churn_date=None).exists()
            assert all(isinstance(a.long_term_potential, Decimal) for a in accounts.exclude(long_term_potential=None))
            assert accounts.exclude(long_term_potential=None).count() >= 45


def test_contacts_have_personas_reporting_lines_and_survey_recipients(seeded):
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            contacts = Contact.objects.all()
            assert set(contacts.values_list("persona", flat=True)) == set(Contact.Persona.values)
            assert contacts.filter(receives_surveys=True).exists() and contacts.filter(receives_surveys=False).exists()
            assert contacts.exclude(reports_to=None).exists()
            assert contacts.exclude(reports_to__reports_to=None).exists(), "chains longer than one level"
            assert not contacts.exclude(reports_to=None).exclude(reports_to__account=F("account")).exists()


def test_timeline_covers_six_months_and_drives_last_touch(seeded):
    now = timezone.now()
    today = timezone.localdate()
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            activities = Activity.objects.all()
            assert not activities.filter(occurred_at__lt=now - timedelta(days=183)).exists()
            assert not activities.filter(occurred_at__gt=now).exists()
            assert activities.filter(occurred_at__lt=now - timedelta(days=150)).exists()
            assert set(activities.values_list("kind", flat=True)) == set(Activity.Kind.values)
            assert not activities.filter(minutes_spent=0).exists()
            # Logged by the account's CSM (pooled accounts: by someone of the tenant), except on the account the
            # insights demo moved to another CSM: its history stays with the account, logged by the previous CSM.
            assert not (activities.exclude(account__csm=None).exclude(account__assignments__isnull=False)
                        .exclude(logged_by=F("account__csm")).exists())
            # Next steps: open ones due this week, overdue ones, done ones.
            open_steps = activities.exclude(next_step="").filter(next_step_done=False)
            assert open_steps.filter(next_step_due__gte=today, next_step_due__lte=today + timedelta(days=7)).exists()
            assert activities.filter(next_step_done=True, next_step_due__lt=today).exists()
            # last_touch_at / last_engaged_at are the latest activity.
            for account in Account.objects.annotate(latest=Max("activities__occurred_at")):
                assert account.last_touch_at == account.latest, account.name
            assert Account.objects.exclude(last_touch_at=None).count() >= 50
            for contact in Contact.objects.annotate(latest=Max("activitycontact__activity__occurred_at")):
                assert contact.last_engaged_at == contact.latest, contact.name
            assert Contact.objects.exclude(last_engaged_at=None).exists()


def test_escalations_have_status_trails(seeded):
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            escalations = list(Escalation.objects.prefetch_related("events"))
            statuses = {e.status for e in escalations}
            assert Escalation.Status.RESOLVED in statuses and statuses - {Escalation.Status.RESOLVED}
            for escalation in escalations:
                events = list(escalation.events.all())
                assert events[0].from_status == "" and events[0].to_status == Escalation.Status.OPEN
                assert events[-1].to_status == escalation.status
                assert all(a.to_status == b.from_status for a, b in zip(events, events[1:], strict=False))
                assert all(a.at <= b.at for a, b in zip(events, events[1:], strict=False))
                assert (escalation.closed_at is not None) == (escalation.status == Escalation.Status.RESOLVED)
                if escalation.status == Escalation.Status.RESOLVED:
                    assert escalation.resolution


def test_no_demo_data_crosses_tenants(seeded):
    for tenant in Tenant.objects.all():
        members = set(Membership.objects.filter(tenant=tenant).values_list("user_id", flat=True))
        with tenant_context(tenant):
            # Each row's related rows are of the same tenant (row level security would hide a foreign row
            # from the join on PostgreSQL, so the counts would differ).
            assert Contact.objects.filter(account__tenant=tenant).count() == Contact.objects.count()
            assert Activity.objects.filter(account__tenant=tenant).count() == Activity.objects.count()
            assert (
                ActivityContact.objects.filter(activity__tenant=tenant, contact__tenant=tenant).count()
                == ActivityContact.objects.count()
            )
            assert not ActivityContact.objects.exclude(contact__account=F("activity__account")).exists()
            assert Escalation.objects.filter(account__tenant=tenant).count() == Escalation.objects.count()
            assert EscalationEvent.objects.filter(escalation__tenant=tenant).count() == EscalationEvent.objects.count()
            assert not Account.objects.exclude(parent=None).exclude(parent__tenant=tenant).exists()
            users = (
                set(Account.objects.exclude(csm=None).values_list("csm_id", flat=True))
                | set(Activity.objects.values_list("logged_by_id", flat=True))
                | set(Escalation.objects.values_list("owner_id", flat=True))
                | set(Escalation.objects.values_list("escalated_to_id", flat=True))
                | set(EscalationEvent.objects.values_list("by_id", flat=True))
            )
            assert users <= members


def test_it_is_stable_for_a_tenant_and_leaves_existing_books_alone(db):
    tenant = TenantFactory(slug="stable", name="Stable Co")
    people = seed_people(tenant, "pw")

    def names():
        return list(Account.objects.order_by("external_id").values_list("name", "licensed_seats", "csm_id"))

    with tenant_context(tenant):
        first = demo.seed(tenant=tenant, people=people)
        before = names()
        assert demo.seed(tenant=tenant, people=people) == {}  # already has accounts: left alone
        Account.objects.all().delete()
        assert demo.seed(tenant=tenant, people=people) == first
        assert names() == before
