from datetime import timedelta

import factory
from django.utils import timezone

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Role, Tenant, User


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())
    currency = "USD"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.CSM


class TenantOwnedFactory(factory.django.DjangoModelFactory):
    """Creates rows inside their tenant's context, as the application does (lock 2 needs the setting)."""

    class Meta:
        abstract = True

    tenant = factory.SubFactory(TenantFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenant_context(kwargs["tenant"]):
            return super()._create(model_class, *args, **kwargs)


class JobRunFactory(TenantOwnedFactory):
    class Meta:
        model = JobRun

    job = "platform.table_volume"
    day = factory.LazyFunction(timezone.localdate)
    status = JobRun.Status.SUCCEEDED
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    rows_written = 3


class SegmentFactory(TenantOwnedFactory):
    class Meta:
        model = "accounts.Segment"
        django_get_or_create = ["tenant", "name"]

    name = factory.Sequence(lambda n: f"Segment {n}")


class LifecycleStageFactory(TenantOwnedFactory):
    class Meta:
        model = "accounts.LifecycleStage"
        django_get_or_create = ["tenant", "name"]

    name = factory.Sequence(lambda n: f"Stage {n}")


class AccountFactory(TenantOwnedFactory):
    class Meta:
        model = "accounts.Account"

    name = factory.Faker("company")
    external_id = factory.Sequence(lambda n: f"001A{n:06d}")
    domain = factory.Faker("domain_name")
    industry = "Software"
    region = "EMEA"
    licensed_seats = 50


class ContactFactory(TenantOwnedFactory):
    class Meta:
        model = "accounts.Contact"

    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.test")
    title = "Director"


class ActivityFactory(TenantOwnedFactory):
    class Meta:
        model = "accounts.Activity"

    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = "call"
    occurred_at = factory.LazyFunction(timezone.now)
    subject = factory.Sequence(lambda n: f"Check-in call {n}")
    minutes_spent = 30


class EscalationFactory(TenantOwnedFactory):
    class Meta:
        model = "accounts.Escalation"

    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    title = "Data export failing"
    severity = "high"
    opened_at = factory.LazyFunction(timezone.now)


class SuccessPlanFactory(TenantOwnedFactory):
    class Meta:
        model = "success_plans.SuccessPlan"

    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    title = "FY success plan"
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(month=1, day=1))
    period_end = factory.LazyFunction(lambda: timezone.localdate().replace(month=12, day=31))


class GoalFactory(TenantOwnedFactory):
    class Meta:
        model = "success_plans.Goal"

    plan = factory.SubFactory(SuccessPlanFactory, tenant=factory.SelfAttribute("..tenant"))
    account = factory.SelfAttribute("plan.account")
    title = "Grow weekly active users"
    measure = "weekly active users"
    unit = "users"
    baseline = 100
    target = 200
    current_value = 100
    current_as_of = factory.LazyFunction(timezone.localdate)
    start_date = factory.LazyFunction(lambda: timezone.localdate().replace(month=1, day=1))
    due_date = factory.LazyFunction(lambda: timezone.localdate().replace(month=12, day=31))


class SentimentPulseFactory(TenantOwnedFactory):
    class Meta:
        model = "health.SentimentPulse"

    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    score = 3
    as_of = factory.LazyFunction(timezone.localdate)


class SupportTicketFactory(TenantOwnedFactory):
    class Meta:
        model = "health.SupportTicket"

    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    external_id = factory.Sequence(lambda n: f"T-{n}")
    priority = "high"
    opened_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))


class SurveyResponseFactory(TenantOwnedFactory):
    class Meta:
        model = "health.SurveyResponse"

    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = "nps"
    score = 9
    source = "api"
    responded_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


# --- notifications and digests (issue 10) ------------------------------------------------------------------------


class NotificationFactory(TenantOwnedFactory):
    class Meta:
        model = "notifications.Notification"

    recipient = factory.SubFactory(UserFactory)
    kind = "task_assigned"
    title = factory.Sequence(lambda n: f"New task: follow-up {n}")
    body = "Initech"
    url = "accounts/"
    source_key = factory.Sequence(lambda n: f"test:{n}")
    created_at = factory.LazyFunction(timezone.now)
