"""A small tenant with one row of every tenant-owned model and a member of every role, built once per test module.

`build_world(slug, marker)` writes the visible text of each row as "<marker>-<n>", so a test can tell whether
any response shows this tenant's data. Tests in tests/security share it: the tenant isolation test seeds tenant
A (alpha) with it and probes as tenant B (bravo); the role test probes tenant A's own objects as each role.

`module_world` keeps the world for a whole test module: it is written inside a transaction that is rolled
back after the module (pytest-django's per-test transaction nests inside it), so tests see it, may change
it (their changes roll back with the test), and leave nothing behind.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client, override_settings
from django.utils import timezone

from accounts.importing.pending import pending_delete
from accounts.models import (
    Account,
    Activity,
    ActivityContact,
    Contact,
    Escalation,
    EscalationEvent,
    LifecycleStage,
    Segment,
)
from compensation.models import CompAssignment, CompLine, CompPlan, CompRule, CompStatement
from csplatform.jobs.models import JobRun, TableVolume
from csplatform.notifications.models import DigestDelivery, Notification
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import ApiToken, Membership, Role, Tenant, User
from csplatform.tenancy.registry import tenant_owned_models
from csplatform.tenancy.services import api_token_create, membership_set
from health.models import (
    HealthAlert,
    HealthScore,
    HealthSettings,
    Measure,
    PendingRefresh,
    PortfolioHealthDaily,
    Scorecard,
    ScorecardSegment,
    ScorecardStage,
    SentimentPulse,
    SupportTicket,
    SurveyInvite,
    SurveyResponse,
    UsageBatch,
    UsageDaily,
    UsageKey,
)
from insights.models import AccountAssignment, CoverageRule, MonthlyReport, ReportRecipient, Target
from renewals.models import (
    ChurnReason,
    Contract,
    ContractLine,
    ExpansionOpportunity,
    ForecastLine,
    ForecastSnapshot,
    ProbabilityRule,
    RenewalOpportunity,
    RenewalSettings,
    RetentionQuarter,
    RetentionTarget,
)
from success_plans.models import (
    Advocacy,
    BusinessReview,
    Decision,
    FeedbackAccount,
    Goal,
    GoalUpdate,
    Playbook,
    PlaybookRun,
    PlaybookStep,
    ProcessDoc,
    ProductFeedback,
    ReviewContact,
    ReviewUser,
    Risk,
    SuccessPlan,
    Task,
    ValueRealised,
)

ROLES = tuple(Role.values)  # csm, manager, ops, executive, admin
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    tenant: Tenant
    marker: str
    people: dict[str, User] = field(default_factory=dict)  # role -> member
    objects: dict[str, object] = field(default_factory=dict)  # model label -> the row of that model
    per_user: dict[tuple[str, int], object] = field(default_factory=dict)  # (model label, user id) -> row
    survey_token: str = ""
    api_tokens: dict[str, str] = field(default_factory=dict)  # role -> the raw bearer token of that member
    sessions: dict[str, str] = field(default_factory=dict)  # role -> a session key of that member, logged in
    pending_tokens: list[str] = field(default_factory=list)  # uploads made for the import pages (files)

    def get(self, label: str):
        return self.objects[label]

    def log_in(self, client, role: str) -> None:
        """Makes `client` this role's member (a session made when the world was built)."""
        client.cookies.clear()
        client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]

    def owned_by(self, label: str, user) -> object:
        """The row of `label` that belongs to `user` (their statement, their document); else the shared one."""
        return self.per_user.get((label, user.pk), self.objects[label])


class _Text:
    """Distinct marker strings: "<marker>-1", "<marker>-2", ...; keys (external ids) carry no marker, so a probe
    may send another tenant's key without its echo in an error message looking like a leak."""

    def __init__(self, marker: str, slug: str):
        self.marker, self.slug, self.n = marker, slug, 0

    def __call__(self, prefix: str = "") -> str:
        self.n += 1
        return f"{prefix}{self.marker}-{self.n}"

    def key(self) -> str:
        self.n += 1
        return f"{self.slug}-key-{self.n}"


def build_world(*, slug: str, marker: str) -> World:
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        tenant = Tenant.objects.create(slug=slug, name=f"{slug.title()} {marker}-0", csms_edit_all_accounts=True)
        world = World(tenant=tenant, marker=marker)
        manager = _user(f"manager@{slug}.test", f"Manager {marker}-m")
        membership_set(tenant=tenant, user=manager, role=Role.MANAGER)
        world.people[Role.MANAGER] = manager
        for role in ROLES:
            if role == Role.MANAGER:
                continue
            user = _user(f"{role}@{slug}.test", f"{role.title()} {marker}-{role}")
            membership_set(tenant=tenant, user=user, role=role, manager=manager if role == Role.CSM else None)
            world.people[role] = user
        with tenant_context(tenant):
            _seed(world, _Text(marker, slug))
        world.objects["tenancy.User"] = world.people[Role.CSM]
        for role, user in world.people.items():  # everyone's own API token: a member revokes only theirs
            token, world.api_tokens[role] = api_token_create(tenant=tenant, user=user, name=f"token {marker}")
            world.per_user[("tenancy.ApiToken", user.pk)] = token
        world.objects["tenancy.ApiToken"] = world.per_user[("tenancy.ApiToken", world.people[Role.CSM].pk)]
        for role, user in world.people.items():  # logging in once per module, not once per request
            browser = Client()
            browser.force_login(user)
            world.sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return world


def _user(email, full_name) -> User:
    user = User(email=email, full_name=full_name)
    user.set_password("correct horse battery")
    user.save()
    return user


def _seed(world: World, text: _Text) -> None:
    now, today = timezone.now(), timezone.localdate()
    csm = world.people[Role.CSM]
    keep = world.objects

    def add(obj):
        keep.setdefault(obj._meta.label, obj)
        return obj

    segment = add(Segment.objects.create(name=text("Segment ")))
    stage = add(LifecycleStage.objects.create(name=text("Stage ")))
    account = add(Account.objects.create(
        name=text("Account "), external_id=text.key(), domain=f"{text().lower()}.example", industry=text(),
        region=text(), segment=segment, stage=stage, csm=csm, arr=Decimal("24000"), licensed_seats=20))
    contact = add(Contact.objects.create(account=account, external_id=text.key(), name=text("Contact "),
                                         email=f"{text().lower()}@customer.test", title=text(),
                                         receives_surveys=True))
    activity = add(Activity.objects.create(
        account=account, external_id=text.key(), kind="call", occurred_at=now - timedelta(days=1), logged_by=csm,
        subject=text(), body=text(), outcome=text(), next_step=text(), next_step_due=today + timedelta(days=2),
        minutes_spent=30))
    add(ActivityContact.objects.create(activity=activity, contact=contact))
    escalation = add(Escalation.objects.create(account=account, title=text(), description=text(), owner=csm,
                                               opened_at=now - timedelta(days=1)))
    add(EscalationEvent.objects.create(escalation=escalation, at=now, by=csm, to_status="open", note=text()))

    plan = add(SuccessPlan.objects.create(
        account=account, owner=csm, title=text("Plan "), period_start=today.replace(month=1, day=1),
        period_end=today.replace(month=12, day=31), status=SuccessPlan.Status.ACTIVE, objectives=text(),
        roi_hypothesis=text()))
    goal = add(Goal.objects.create(
        plan=plan, account=account, title=text("Goal "), measure=text(), unit="users", baseline=100, target=200,
        current_value=120, current_as_of=today - timedelta(days=40), start_date=today.replace(month=1, day=1),
        due_date=today.replace(month=12, day=31), created_by=csm))
    add(GoalUpdate.objects.create(goal=goal, value=120, as_of=today - timedelta(days=40), note=text(), by=csm))
    add(ValueRealised.objects.create(account=account, plan=plan, goal=goal, kind="cost_avoidance",
                                     amount=Decimal("1000"), realised_on=today, how_measured=text(),
                                     recorded_by=csm))
    playbook = add(Playbook.objects.create(name=text("Playbook "), description=text()))
    add(PlaybookStep.objects.create(playbook=playbook, title=text(), description=text()))
    run = add(PlaybookRun.objects.create(playbook=playbook, account=account, applied_at=now, applied_by=csm))
    task = add(Task.objects.create(account=account, plan=plan, title=text("Task "), description=text(),
                                   owner=csm, due_date=today + timedelta(days=3), playbook_run=run))
    add(Risk.objects.create(plan=plan, title=text(), mitigation=text(), owner=csm))
    review = add(BusinessReview.objects.create(account=account, plan=plan, held_on=today, agenda=text(),
                                               notes=text()))
    add(ReviewContact.objects.create(review=review, contact=contact))
    add(ReviewUser.objects.create(review=review, user=csm))
    add(Decision.objects.create(review=review, account=account, text=text(), owner=csm))
    add(Advocacy.objects.create(account=account, contact=contact, kind="reference", happened_on=today,
                                notes=text(), captured_by=csm))
    feedback = add(ProductFeedback.objects.create(title=text(), description=text(), product_area=text(),
                                                  created_by=csm))
    add(FeedbackAccount.objects.create(feedback=feedback, account=account, added_at=now))
    for role, user in world.people.items():  # everyone's own draft: the author edits it
        doc = ProcessDoc.objects.create(title=text(f"Doc of {role} "), body=text(), author=user)
        add(doc)
        world.per_user[("success_plans.ProcessDoc", user.pk)] = doc

    _seed_health(world, text, account, contact, segment, stage, task, now, today)
    _seed_renewals(world, text, account, segment, now, today)
    _seed_compensation(world, text, today, now)
    _seed_insights(world, text, account, contact, segment, task, now, today)
    add(JobRun.objects.create(job="platform.table_volume", day=today, started_at=now, finished_at=now,
                              status=JobRun.Status.FAILED, error=text(), traceback=text()))
    add(TableVolume.objects.create(day=today, table_name=text(), row_count=1))
    for user in world.people.values():  # everyone's own notification: a member opens only theirs
        notification = Notification.objects.create(
            recipient=user, kind=Notification.Kind.TASK_ASSIGNED, title=text("Notification "), body=text(),
            url=f"accounts/{account.pk}/", source_key=f"task:{task.pk}:assigned:{user.pk}", created_at=now)
        keep.setdefault("notifications.Notification", notification)
        world.per_user[("notifications.Notification", user.pk)] = notification
    add(DigestDelivery.objects.create(user=csm, kind="daily", local_date=today, status=DigestDelivery.Status.SENT,
                                      claimed_at=now, sent_at=now, items=1))


def _seed_health(world, text, account, contact, segment, stage, task, now, today):
    keep = world.objects
    keep["health.HealthSettings"] = HealthSettings.objects.get_or_create(tenant=world.tenant)[0]
    scorecard = Scorecard.objects.create(name=text("Scorecard "), description=text(), is_default=False)
    keep["health.Scorecard"] = scorecard
    keep["health.ScorecardSegment"] = ScorecardSegment.objects.create(scorecard=scorecard, segment=segment)
    keep["health.ScorecardStage"] = ScorecardStage.objects.create(scorecard=scorecard, stage=stage)
    keep["health.Measure"] = Measure.objects.create(scorecard=scorecard, kind="active_users", label=text(),
                                                    weight=Decimal("1"), red_threshold=Decimal("10"),
                                                    green_threshold=Decimal("50"))
    keep["health.UsageDaily"] = UsageDaily.objects.create(account=account, day=today, active_users=5, events=9)
    keep["health.UsageKey"] = UsageKey.objects.create(account=account, day=today, kind="u", key=text())
    keep["health.UsageBatch"] = UsageBatch.objects.create(batch_id=text.key(), digest=text(), events=1, received_at=now)
    world.survey_token = secrets.token_urlsafe(32)
    invite = SurveyInvite.objects.create(
        account=account, contact=contact, token_hash=hashlib.sha256(world.survey_token.encode()).hexdigest(),
        sent_at=now, sent_by=world.people[Role.CSM], expires_at=now + timedelta(days=7))
    keep["health.SurveyInvite"] = invite
    keep["health.SurveyResponse"] = SurveyResponse.objects.create(
        account=account, contact=contact, kind="nps", score=9, comment=text(), responded_at=now - timedelta(days=1),
        source="api", external_id=text.key())
    keep["health.SupportTicket"] = SupportTicket.objects.create(account=account, external_id=text.key(),
                                                                subject=text(), opened_at=now - timedelta(days=2))
    keep["health.SentimentPulse"] = SentimentPulse.objects.create(account=account, score=3, comment=text(),
                                                                  as_of=today, set_by=world.people[Role.CSM])
    keep["health.HealthScore"] = HealthScore.objects.create(account=account, day=today, scorecard=scorecard,
                                                            score=Decimal("40"), band="yellow", computed_at=now)
    keep["health.PortfolioHealthDaily"] = PortfolioHealthDaily.objects.create(day=today, band="yellow", accounts=1)
    keep["health.HealthAlert"] = HealthAlert.objects.create(account=account, reason="red", opened_on=today,
                                                            task=task)
    keep["health.PendingRefresh"] = PendingRefresh.objects.create(account=account, queued_at=now)


def _seed_renewals(world, text, account, segment, now, today):
    keep = world.objects
    csm = world.people[Role.CSM]
    keep["renewals.ChurnReason"] = ChurnReason.objects.create(name=text("Reason "))
    contract = Contract.objects.create(account=account, external_id=text.key(), name=text("Contract "),
                                       start_date=today - timedelta(days=300), end_date=today + timedelta(days=65),
                                       arr=Decimal("24000"))
    keep["renewals.Contract"] = contract
    keep["renewals.ContractLine"] = ContractLine.objects.create(contract=contract, product=text(),
                                                                arr=Decimal("24000"))
    renewal = RenewalOpportunity.objects.create(
        account=account, contract=contract, owner=csm, current_arr=Decimal("24000"), expected_arr=Decimal("24000"),
        close_date=today + timedelta(days=65), reason_comment=text())
    keep["renewals.RenewalOpportunity"] = renewal
    keep["renewals.ExpansionOpportunity"] = ExpansionOpportunity.objects.create(
        account=account, product=text(), amount=Decimal("5000"), expected_close=today + timedelta(days=30),
        owner=csm, lead_source=csm, notes=text(), external_id=text.key())
    keep["renewals.RetentionTarget"] = RetentionTarget.objects.create(
        year=today.year + 5, quarter=1, grr_target=Decimal("90"), nrr_target=Decimal("105"))
    keep["renewals.ProbabilityRule"] = ProbabilityRule.objects.first() or ProbabilityRule.objects.create(
        dimension="stage", key="engaged", points=Decimal("5"))
    keep["renewals.ForecastLine"] = ForecastLine.objects.create(
        day=today, renewal=renewal, account=account, csm=csm, segment=segment, close_date=renewal.close_date,
        stage="not_started", category="pipeline", band="yellow", current_arr=Decimal("24000"),
        expected_arr=Decimal("24000"), probability=Decimal("0.5"), weighted_arr=Decimal("12000"))
    keep["renewals.ForecastSnapshot"] = ForecastSnapshot.objects.create(day=today, period_kind="month",
                                                                        period_start=today.replace(day=1))
    keep["renewals.RenewalSettings"] = RenewalSettings.objects.get_or_create(tenant=world.tenant)[0]
    keep["renewals.RetentionQuarter"] = RetentionQuarter.objects.create(day=today, quarter_start=today.replace(day=1))


def _seed_compensation(world, text, today, now):
    keep = world.objects
    plan = CompPlan.objects.filter(is_default=True).order_by("-year").first()
    keep["compensation.CompPlan"] = plan
    keep["compensation.CompRule"] = CompRule.objects.filter(plan=plan).first()
    keep["compensation.CompAssignment"] = CompAssignment.objects.create(
        plan=plan, csm=world.people[Role.CSM], annual_base=plan.base_min or Decimal("60000"),
        starts_on=date(plan.year - 1, 1, 1))
    for user in world.people.values():  # everyone's own statement: a CSM sees only theirs
        statement = CompStatement.objects.create(plan=plan, csm=user, period_start=today.replace(day=1),
                                                 total=Decimal("100"), generated_at=now)
        keep.setdefault("compensation.CompStatement", statement)
        world.per_user[("compensation.CompStatement", user.pk)] = statement
        line = CompLine.objects.create(statement=statement, rule_kind="base_salary", basis=text(),
                                       amount=Decimal("100"), explanation=text())
        keep.setdefault("compensation.CompLine", line)


def _seed_insights(world, text, account, contact, segment, task, now, today):
    keep = world.objects
    report = MonthlyReport.objects.create(account=account, month=today.replace(day=1), csm=world.people[Role.CSM],
                                          recommendation=text(), drafted_at=now, health_band="yellow")
    keep["insights.MonthlyReport"] = report
    keep["insights.ReportRecipient"] = ReportRecipient.objects.create(
        report=report, contact=contact, email=f"{text().lower()}@customer.test", sent_at=now)
    keep["insights.Target"] = Target.objects.order_by("position", "id").first()
    keep["insights.CoverageRule"] = CoverageRule.objects.create(segment=segment, accounts_per_csm=30)
    keep["insights.AccountAssignment"] = AccountAssignment.objects.create(
        account=account, to_user=world.people[Role.CSM], at=now, by=world.people[Role.OPS], note=text())


def tenant_rows(tenant) -> dict[str, list[tuple]]:
    """Every row of every tenant-owned table of this tenant (and its memberships and tokens), for comparing."""
    snapshot = {}
    with tenant_context(tenant):
        for model in tenant_owned_models():
            fields = [f.attname for f in model._meta.concrete_fields]
            snapshot[model._meta.label] = sorted(
                model.dangerously_unscoped.filter(tenant=tenant).order_by("pk").values_list(*fields), key=repr)
    snapshot["tenancy.Membership"] = sorted(Membership.objects.filter(tenant=tenant).values_list(), key=repr)
    snapshot["tenancy.ApiToken"] = sorted(ApiToken.objects.filter(tenant=tenant).values_list(), key=repr)
    snapshot["tenancy.User"] = sorted(
        User.objects.filter(memberships__tenant=tenant).values_list("pk", "email", "full_name", "password",
                                                                    "is_active"), key=repr)
    snapshot["tenancy.Tenant"] = [Tenant.objects.filter(pk=tenant.pk).values_list().get()]
    return snapshot


def tenant_fingerprint(tenant) -> dict[str, str]:
    """A cheap stand-in for tenant_rows on PostgreSQL: one md5 per table, in one query; tenant_rows says what
    changed when two fingerprints differ."""
    if connection.vendor != "postgresql":
        return {label: repr(rows) for label, rows in tenant_rows(tenant).items()}
    parts, params = [], []
    tables = [(m._meta.label, m._meta.db_table, "tenant_id") for m in tenant_owned_models()]
    tables += [("tenancy.Membership", Membership._meta.db_table, "tenant_id"),
               ("tenancy.ApiToken", ApiToken._meta.db_table, "tenant_id"),
               ("tenancy.Tenant", Tenant._meta.db_table, "id")]
    for label, table, column in tables:
        parts.append(f"SELECT %s, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                     f"FROM {connection.ops.quote_name(table)} t WHERE t.{column} = %s")
        params += [label, tenant.pk]
    users = (f"SELECT 'tenancy.User', md5(coalesce(string_agg(u::text, '|' ORDER BY u::text), '')) "
             f"FROM {User._meta.db_table} u JOIN {Membership._meta.db_table} m ON m.user_id = u.id "
             f"WHERE m.tenant_id = %s")
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([*parts, users]), [*params, tenant.pk])
        return dict(cursor.fetchall())


def foreign_references(tenant, other_ids: dict[str, set[int]]) -> list[str]:
    """"model.field" of every row of `tenant` that points at a row in `other_ids` (another tenant's ids by model
    label): a write that linked this tenant's data to another tenant's."""
    if connection.vendor == "postgresql":
        return _foreign_references_sql(tenant, other_ids)
    found = []
    with tenant_context(tenant):
        for model in tenant_owned_models():
            condition = Q()
            for f in model._meta.concrete_fields:
                if f.is_relation and f.name != "tenant" and other_ids.get(f.related_model._meta.label):
                    condition |= Q(**{f"{f.attname}__in": other_ids[f.related_model._meta.label]})
            if condition and model.dangerously_unscoped.filter(tenant=tenant).filter(condition).exists():
                found.append(model._meta.label)
    return found


def _foreign_references_sql(tenant, other_ids) -> list[str]:
    parts, params = [], []
    for model in tenant_owned_models():
        for f in model._meta.concrete_fields:
            ids = other_ids.get(f.related_model._meta.label) if f.is_relation and f.name != "tenant" else None
            if ids:
                parts.append(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)}"
                             f" WHERE tenant_id = %s AND {connection.ops.quote_name(f.column)} = ANY(%s))")
                params += [f"{model._meta.label}.{f.name}", tenant.pk, sorted(ids)]
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [row[0] for row in cursor.fetchall()]


def tenant_ids(tenant) -> dict[str, set[int]]:
    """The ids of every row of this tenant, by model label (its members' user ids under tenancy.User)."""
    with tenant_context(tenant):
        ids = {m._meta.label: set(m.objects.values_list("pk", flat=True)) for m in tenant_owned_models()}
    ids["tenancy.User"] = set(Membership.objects.filter(tenant=tenant).values_list("user_id", flat=True))
    return ids


def models_without_rows(world: World) -> list[str]:
    """Tenant-owned models the world has no row of (the isolation test wants one of each)."""
    with tenant_context(world.tenant):
        return sorted(m._meta.label for m in tenant_owned_models() if not m.objects.exists())


def module_client() -> Client:
    """One test client for a whole module: a new client loads the middleware again, and WhiteNoise's scan of the
    static files then costs more than the requests themselves."""
    return Client()


def module_world(django_db_blocker, *, slug: str, marker: str, also: tuple[tuple[str, str], ...] = ()):
    """A generator for a module-scoped fixture: yields {slug: World} and rolls everything back afterwards."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            worlds = {slug: build_world(slug=slug, marker=marker)}
            for other_slug, other_marker in also:
                worlds[other_slug] = build_world(slug=other_slug, marker=other_marker)
            yield worlds
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            for world in list(worlds.values()) if "worlds" in locals() else ():
                for token in getattr(world, "pending_tokens", ()):
                    pending_delete(token)
