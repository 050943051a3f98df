"""Demo success plans: a plan per account with goals, readings, value, reviews and decisions, advocacy and
tasks; two stage playbooks, product feedback and process documents. Called by `manage.py seed_demo` inside
the tenant's context, after accounts' demo.

- Stable: every choice comes from `random.Random(tenant.slug)`; only the dates move with today.
- Idempotent: a tenant that already has success plans is left alone.
- Fast: one `bulk_create` per table.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact, LifecycleStage
from accounts.services import stage_entries_record

from .models import (
    Advocacy,
    BusinessReview,
    Decision,
    FeedbackAccount,
    Goal,
    GoalUpdate,
    Playbook,
    PlaybookStep,
    ProcessDoc,
    ProductFeedback,
    ReviewContact,
    ReviewUser,
    SuccessPlan,
    Task,
    ValueRealised,
)

CENT = Decimal("0.01")

OBJECTIVES = [
    "Give every regional team one view of its customers by the end of the year.",
    "Cut the time to onboard a new hire from six weeks to three.",
    "Move reporting off spreadsheets and into the platform.",
    "Reduce support tickets per customer by a third.",
    "Roll out to the EMEA and APAC teams after the pilot in North America.",
    "Automate the monthly board report.",
    "Lift weekly active usage among sales managers above 80%.",
]
ROI_HYPOTHESES = [
    "Two FTE of manual reporting work saved, worth about {amount} a year.",
    "Faster onboarding brings new hires to quota a month earlier: about {amount} in revenue.",
    "Fewer escalations avoid about {amount} a year in support and credits.",
    "Retiring two legacy tools saves {amount} a year in licences.",
]
# (title, measure, unit, baseline, target)
GOALS = [
    ("Grow weekly active users", "weekly active users", "users", 120, 300),
    ("Cut onboarding time", "days to onboard a new hire", "days", 42, 21),
    ("Reduce support tickets", "tickets per week", "tickets", 40, 25),
    ("Automate reporting", "reports built in the platform", "reports", 5, 40),
    ("Raise adoption of dashboards", "share of managers using dashboards", "%", 35, 80),
    ("Shorten month-end close", "days to close", "days", 9, 5),
    ("Increase data quality", "records with a valid owner", "%", 70, 95),
]
VALUE_NOTES = {
    ValueRealised.Kind.TIME_TO_VALUE: "Go-live {days} days earlier than planned, confirmed in the project log.",
    ValueRealised.Kind.COST_AVOIDANCE: "Hours saved per week from the usage report x the customer's hourly rate.",
    ValueRealised.Kind.REVENUE_UPLIFT: "Pipeline from the new campaign workflow, from the customer's CRM report.",
    ValueRealised.Kind.RISK_REDUCTION: "Audit findings closed thanks to the access reviews.",
    ValueRealised.Kind.OTHER: "Tools retired after the rollout, from the customer's licence list.",
}
DECISIONS = [
    "Roll out SSO to all regions", "Train the new admins", "Share the usage report monthly",
    "Add the finance team to the pilot", "Retire the legacy reporting tool", "Agree success criteria for phase 2",
    "Nominate an executive sponsor for APAC", "Review licence allocation before renewal",
    "Fix the CRM sync field mapping", "Plan a case study after go-live",
]
TASKS = [
    ("Send the usage report", Task.Type.FOLLOW_UP), ("Prepare the QBR deck", Task.Type.TASK),
    ("Check in with the new admin", Task.Type.FOLLOW_UP), ("Review the success plan goals", Task.Type.TASK),
    ("Call the champion about low usage", Task.Type.RISK_RECOVERY),
    ("Share the renewal timeline", Task.Type.RENEWAL_PREP),
    ("Book a training for new hires", Task.Type.ONBOARDING),
]
PLAYBOOKS = [
    ("Onboarding kickoff", "Onboarding", "The first month of a new customer.", [
        ("Kickoff call with the champion", 0, Task.Type.ONBOARDING, Task.Priority.HIGH),
        ("Agree the success plan and first goals", 7, Task.Type.ONBOARDING, Task.Priority.HIGH),
        ("Admin training", 10, Task.Type.ONBOARDING, Task.Priority.NORMAL),
        ("First value check", 30, Task.Type.TASK, Task.Priority.NORMAL),
    ]),
    ("Renewal prep", "Renewal", "Ninety days before the renewal date.", [
        ("Review value realised against the plan", 0, Task.Type.RENEWAL_PREP, Task.Priority.HIGH),
        ("Confirm the economic buyer", 3, Task.Type.RENEWAL_PREP, Task.Priority.NORMAL),
        ("Hold the renewal business review", 14, Task.Type.RENEWAL_PREP, Task.Priority.HIGH),
        ("Send the renewal quote", 21, Task.Type.RENEWAL_PREP, Task.Priority.NORMAL),
        ("Follow up on open decisions", 28, Task.Type.FOLLOW_UP, Task.Priority.NORMAL),
    ]),
]
FEEDBACK = [
    ("SAML single sign-on for every plan", "Security", ProductFeedback.Status.PLANNED),
    ("Export dashboards to PDF", "Reporting", ProductFeedback.Status.UNDER_REVIEW),
    ("Two-way Salesforce sync", "Integrations", ProductFeedback.Status.NEW),
    ("Dark mode", "User interface", ProductFeedback.Status.DECLINED),
    ("Custom fields on contacts", "Data model", ProductFeedback.Status.SHIPPED),
]
PROCESS_DOCS = [
    ("Running a QBR", "## Before\n\nSend the agenda a week ahead.\n\n## During\n\nStart with the customer's goals.",
     True),
    ("Onboarding checklist", "1. Kickoff call\n2. Success plan\n3. Admin training\n4. First value check", True),
    ("Handling an escalation", "Open it in the platform, name an owner, update the trail daily.", False),
    ("Renewal playbook notes", "Start ninety days out; confirm the economic buyer first.", False),
]


def seed(*, tenant, people) -> dict:
    """Gives the tenant's accounts success plans and the rest; returns the counts ({} when it had plans)."""
    if SuccessPlan.objects.exists():
        return {}
    with transaction.atomic():
        return _Seeder(tenant=tenant, people=people).run()


class _Seeder:
    def __init__(self, *, tenant, people):
        self.rng = random.Random(tenant.slug)
        self.tenant = tenant
        self.csms = list(people.csms)
        self.manager = people.by_key.get("manager") or (self.csms[0] if self.csms else None)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.accounts = list(Account.objects.order_by("id"))
        self.contacts: dict[int, list[Contact]] = {}
        for contact in Contact.objects.order_by("id"):
            self.contacts.setdefault(contact.account_id, []).append(contact)
        self.counts: dict[str, int] = {}

    def run(self) -> dict:
        plans = self._plans()
        goals = self._goals(plans)
        self._value(plans, goals)
        self._reviews(plans)
        self._advocacy()
        self._tasks(plans)
        self._playbooks()
        self._feedback()
        self._process_docs()
        return self.counts

    def _owner(self, account):
        return account.csm or self.manager

    def _sponsor(self, account):
        """The contact who agrees goals and validates value: the champion or the executive sponsor."""
        contacts = self.contacts.get(account.pk, [])
        preferred = [c for c in contacts if c.persona in (Contact.Persona.CHAMPION, Contact.Persona.EXECUTIVE_SPONSOR)]
        return self.rng.choice(preferred or contacts) if contacts else None

    def _at(self, day):
        at = datetime.combine(day, time(self.rng.randint(9, 17)), tzinfo=timezone.get_current_timezone())
        return min(at, self.now)

    # --- plans and goals -------------------------------------------------------------------------------

    def _plans(self) -> list[SuccessPlan]:
        rng, plans = self.rng, []
        for account in self.accounts:
            churned = account.status == Account.Status.CHURNED
            start = self.today - timedelta(days=rng.randint(60, 240))
            if churned and account.churn_date:
                start = min(start, account.churn_date - timedelta(days=30))
            amount = f"{rng.randint(2, 40) * 5000:,}"
            plans.append(SuccessPlan(
                account=account, owner=self._owner(account), title=f"{account.name}: {start.year} success plan",
                period_start=start, period_end=start + timedelta(days=364),
                status=SuccessPlan.Status.ARCHIVED if churned else SuccessPlan.Status.ACTIVE,
                objectives="\n".join(f"- {o}" for o in rng.sample(OBJECTIVES, rng.randint(2, 3))),
                roi_hypothesis=rng.choice(ROI_HYPOTHESES).format(amount=f"{self.tenant.currency} {amount}"),
            ))
        SuccessPlan.objects.bulk_create(plans)
        self.counts["plans"] = len(plans)
        return plans

    def _goals(self, plans) -> list[Goal]:
        rng, goals, readings = self.rng, [], []
        for plan in plans:
            account = plan.account
            for title, measure, unit, baseline, target in rng.sample(GOALS, rng.randint(1, 3)):
                baseline, target = Decimal(baseline), Decimal(target)
                start = plan.period_start + timedelta(days=rng.randint(0, 20))
                due = start + timedelta(days=rng.randint(120, 330))
                # Readings on the way to the target: some ahead, some behind, a few there already.
                pace = rng.choice([0.3, 0.6, 0.9, 1.0, 1.1, 1.3])
                history = [(start, baseline, "Baseline")]
                last_day = min(self.today, due)
                span_days = (last_day - start).days
                for i in range(1, rng.randint(2, 4)):
                    day = start + timedelta(days=span_days * i // 3)
                    if day <= history[-1][0]:
                        continue
                    share = min(1.0, pace * (day - start).days / max(1, (due - start).days))
                    value = (baseline + (target - baseline) * Decimal(str(round(share, 3)))).quantize(CENT)
                    history.append((day, value, rng.choice(["From the usage report", "Customer's figures", ""])))
                approver = self._sponsor(account) if rng.random() < 0.8 else None
                approved_on = min(self.today, start + timedelta(days=rng.randint(3, 20))) if approver else None
                goal = Goal(plan=plan, account=account, title=title, measure=measure, unit=unit, baseline=baseline,
                            target=target, current_value=history[-1][1], current_as_of=history[-1][0],
                            start_date=start, due_date=due, approved_by=approver, approved_on=approved_on,
                            created_by=plan.owner)
                goals.append(goal)
                readings.append((goal, history))
        if goals:  # a person's judgement over the numbers, on one goal
            goals[len(goals) // 2].status_override = Goal.Status.AT_RISK
            goals[len(goals) // 2].override_reason = "The champion is leaving; the numbers will not hold."
        Goal.objects.bulk_create(goals)
        updates = [GoalUpdate(goal=goal, value=value, as_of=day, note=note, by=goal.created_by)
                   for goal, history in readings for day, value, note in history]
        GoalUpdate.objects.bulk_create(updates, batch_size=1000)
        self.counts["goals"], self.counts["goal_updates"] = len(goals), len(updates)
        return goals

    def _value(self, plans, goals):
        rng, values = self.rng, []
        goals_of = {}
        for goal in goals:
            goals_of.setdefault(goal.account_id, []).append(goal)
        for plan in plans:
            account = plan.account
            if account.status != Account.Status.ACTIVE or rng.random() < 0.35:
                continue
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice(ValueRealised.Kind.values)
                goal = rng.choice(goals_of.get(account.pk, [None]))
                realised = min(self.today, plan.period_start + timedelta(days=rng.randint(20, 200)))
                validator = self._sponsor(account) if rng.random() < 0.5 else None
                values.append(ValueRealised(
                    account=account, plan=plan, goal=goal if rng.random() < 0.6 else None, kind=kind,
                    amount=Decimal(rng.randint(5, 120) * 500).quantize(CENT), realised_on=realised,
                    how_measured=VALUE_NOTES[kind].format(days=rng.randint(5, 30)), validated_by=validator,
                    validated_on=min(self.today, realised + timedelta(days=rng.randint(1, 14))) if validator else None,
                    recorded_by=self._owner(account),
                ))
        ValueRealised.objects.bulk_create(values)
        self.counts["value_records"] = len(values)

    # --- reviews and decisions -------------------------------------------------------------------------

    def _reviews(self, plans):
        rng = self.rng
        reviews, attendees, decisions = [], [], []
        for plan in plans:
            account = plan.account
            active = account.status == Account.Status.ACTIVE
            days_ago = [rng.randint(80, 120)] + ([rng.randint(3, 30)] if active else [])
            if not active and account.churn_date:
                days_ago = [max((self.today - account.churn_date).days + 20, 30)]
            for n, ago in enumerate(days_ago):
                held = self.today - timedelta(days=ago)
                review = BusinessReview(
                    account=account, plan=plan, held_on=held,
                    kind=BusinessReview.Kind.EBR if n == 0 and rng.random() < 0.3 else BusinessReview.Kind.QBR,
                    agenda="1. Goals and progress\n2. Value realised\n3. Open decisions\n4. Next quarter",
                    notes="Walked through the success plan; the customer confirmed the priorities.",
                )
                reviews.append(review)
                contacts = self.contacts.get(account.pk, [])
                attendees.append((review, contacts[:rng.randint(1, min(3, len(contacts)))] if contacts else [],
                                  [u for u in {self._owner(account)} if u is not None]))
                for text in rng.sample(DECISIONS, rng.randint(2, 3)):
                    customer_owned = contacts and rng.random() < 0.4
                    # The earlier review's decisions are partly closed; the rest are carried forward.
                    state = (rng.choices(["open", "done", "dropped"], weights=[45, 45, 10])[0]
                             if n == 0 else "open")
                    decisions.append(Decision(
                        review=review, account=account, text=text,
                        owner=None if customer_owned else self._owner(account),
                        owner_contact=rng.choice(contacts) if customer_owned else None,
                        due_date=held + timedelta(days=rng.randint(14, 45)), status=state,
                        closed_at=None if state == "open" else self._at(held + timedelta(days=rng.randint(5, 40))),
                    ))
        BusinessReview.objects.bulk_create(reviews)
        ReviewContact.objects.bulk_create(
            [ReviewContact(review=r, contact=c) for r, contacts, _ in attendees for c in contacts], batch_size=1000)
        ReviewUser.objects.bulk_create(
            [ReviewUser(review=r, user=u) for r, _, users in attendees for u in users], batch_size=1000)
        Decision.objects.bulk_create(decisions, batch_size=1000)
        self.counts["reviews"], self.counts["decisions"] = len(reviews), len(decisions)

    # --- advocacy and tasks ----------------------------------------------------------------------------

    def _advocacy(self):
        rng, records = self.rng, []
        happy = [a for a in self.accounts if a.status == Account.Status.ACTIVE and a.csm_id]
        chosen = rng.sample(happy, min(len(happy), max(4, len(happy) // 4)))
        kinds = [Advocacy.Kind.CASE_STUDY, Advocacy.Kind.REFERRAL]  # at least one of each
        for account in chosen:
            for _ in range(rng.randint(1, 2)):
                kind = kinds.pop(0) if kinds else rng.choice(Advocacy.Kind.values)
                records.append(Advocacy(
                    account=account, contact=self._sponsor(account), kind=kind,
                    status=rng.choices(Advocacy.Status.values, weights=[15, 20, 60, 5])[0],
                    happened_on=self.today - timedelta(days=rng.randint(1, 300)),
                    notes=f"{Advocacy.Kind(kind).label} agreed with the champion.", captured_by=account.csm,
                ))
        Advocacy.objects.bulk_create(records)
        self.counts["advocacy"] = len(records)

    def _tasks(self, plans):
        rng, tasks = self.rng, []
        for plan in plans:
            account = plan.account
            if account.status != Account.Status.ACTIVE or account.csm_id is None or rng.random() < 0.5:
                continue
            for title, kind in rng.sample(TASKS, rng.randint(1, 2)):
                due = self.today + timedelta(days=rng.randint(-10, 20))
                done = due < self.today and rng.random() < 0.6
                tasks.append(Task(
                    account=account, plan=plan, title=title, owner=account.csm, due_date=due, type=kind,
                    priority=rng.choices(Task.Priority.values, weights=[15, 60, 20, 5])[0],
                    status=Task.Status.DONE if done else Task.Status.OPEN,
                    completed_at=self._at(due) if done else None,
                ))
        Task.objects.bulk_create(tasks)
        self.counts["tasks"] = len(tasks)

    # --- tenant-wide -----------------------------------------------------------------------------------

    def _playbooks(self):
        stages = {s.name: s for s in LifecycleStage.objects.all()}
        playbooks, steps = [], []
        for name, stage, description, spec in PLAYBOOKS:
            playbook = Playbook(name=name, stage=stages.get(stage), description=description)
            playbooks.append(playbook)
            steps += [(playbook, PlaybookStep(title=title, day_offset=offset, type=kind, priority=priority,
                                              position=i)) for i, (title, offset, kind, priority) in enumerate(spec)]
        Playbook.objects.bulk_create(playbooks)
        for playbook, step in steps:
            step.playbook = playbook
        PlaybookStep.objects.bulk_create([step for _, step in steps])
        # Accounts already in those stages get their tasks now (the nightly job would do the same).
        stage_entries_record()
        self.counts["playbooks"] = len(playbooks)

    def _feedback(self):
        rng = self.rng
        active = [a for a in self.accounts if a.status == Account.Status.ACTIVE]
        items, links = [], []
        for n, (title, area, status) in enumerate(FEEDBACK):
            item = ProductFeedback(title=title, product_area=area, status=status, created_by=self.manager,
                                   description=f"Customers ask for: {title.lower()}.")
            items.append(item)
            links += [(item, account) for account in rng.sample(active, min(len(active), 12 - 2 * n))]
        ProductFeedback.objects.bulk_create(items)
        FeedbackAccount.objects.bulk_create([FeedbackAccount(feedback=f, account=a) for f, a in links])
        self.counts["feedback"] = len(items)

    def _process_docs(self):
        authors = self.csms or [self.manager]
        docs = []
        for n, (title, body, approved) in enumerate(PROCESS_DOCS):
            docs.append(ProcessDoc(
                title=title, body=body, author=authors[n % len(authors)],
                status=ProcessDoc.Status.APPROVED if approved else ProcessDoc.Status.DRAFT,
                approved_by=self.manager if approved else None, approved_at=self.now if approved else None,
            ))
        ProcessDoc.objects.bulk_create(docs)
        self.counts["process_docs"] = len(docs)
