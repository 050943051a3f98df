"""Demo book of business: about 60 accounts per demo tenant with stakeholders, six months of timeline and
a few escalations. Called by `manage.py seed_demo` inside the tenant's context.

- Stable: every choice comes from `random.Random(tenant.slug)`; only the dates move with today.
- Idempotent: a tenant that already has accounts is left alone (the demo never mixes with real data).
- Fast: a handful of `bulk_create`s, then two set-based UPDATEs for "last touch" / "last engaged".
"""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .models import (
    Account,
    Activity,
    ActivityContact,
    Contact,
    Escalation,
    EscalationEvent,
    LifecycleStage,
    Segment,
)
from .services import defaults_ensure

TIMELINE_DAYS = 180  # "six months" of history, ending today

# --- Word lists (company and people names are generated here; Faker is a dev dependency only) ---------

NAME_STEMS = [
    "Northwind", "Bluefin", "Cedarline", "Summit", "Ironwood", "Harborview", "Lumen", "Vertex", "Brightline",
    "Keystone", "Silverlake", "Redwood", "Granite", "Meridian", "Pinecrest", "Oakridge", "Clearwater",
    "Stonebridge", "Riverbend", "Highland", "Falcon", "Aurora", "Nimbus", "Evergreen", "Beacon", "Copperfield",
    "Westbrook", "Fairhaven", "Sterling", "Halcyon", "Tidewater", "Crescent", "Orchard", "Larkspur", "Juniper",
    "Kestrel", "Marlow", "Ashford", "Cobalt", "Driftwood", "Foxglove", "Goldcrest", "Kingsley", "Lakeshore",
    "Maplewood", "Norcross", "Oxbow", "Pemberton", "Rosewood", "Thornbury", "Valemont", "Willowby", "Yardley",
    "Zephyr", "Alderbrook", "Bayside", "Canopy", "Delmar", "Eastgate", "Fieldstone", "Glenmore", "Hawthorne",
    "Indigo", "Lodestar", "Mistral", "Northstar", "Palisade", "Quillon", "Sablewood", "Trident", "Verity",
]

INDUSTRIES = {
    # industry: nouns that make a company name in it
    "Software": ["Systems", "Software", "Labs", "Cloud", "Data"],
    "Financial services": ["Capital", "Bank", "Financial", "Payments", "Insurance"],
    "Healthcare": ["Health", "Medical", "Care", "Biosciences"],
    "Manufacturing": ["Manufacturing", "Industries", "Robotics", "Materials", "Components"],
    "Retail": ["Retail", "Outfitters", "Markets", "Home & Living"],
    "Transportation & logistics": ["Logistics", "Freight", "Shipping", "Mobility"],
    "Energy & utilities": ["Energy", "Power", "Renewables", "Utilities"],
    "Media": ["Media", "Studios", "Publishing"],
    "Education": ["Learning", "Academy", "Education"],
    "Professional services": ["Consulting", "Partners", "Advisory"],
}
INDUSTRY_WEIGHTS = [22, 14, 12, 12, 9, 9, 6, 6, 5, 5]

# region: (weight, [(legal suffix, top-level domain)])
REGIONS = {
    "North America": (45, [("Inc.", "com"), ("Corp.", "com"), ("LLC", "com"), ("Ltd.", "ca")]),
    "EMEA": (30, [("Ltd", "co.uk"), ("GmbH", "de"), ("AG", "ch"), ("B.V.", "nl"), ("S.A.", "fr"), ("plc", "co.uk")]),
    "APAC": (15, [("Pty Ltd", "com.au"), ("K.K.", "jp"), ("Pte. Ltd.", "sg")]),
    "LATAM": (10, [("S.A. de C.V.", "mx"), ("Ltda.", "com.br"), ("S.A.", "com.ar")]),
}
# Where a global HQ's subsidiaries sit: (region, country word, legal suffix, tld)
SUBSIDIARY_SITES = [
    ("EMEA", "UK", "Ltd", "co.uk"), ("EMEA", "Deutschland", "GmbH", "de"), ("EMEA", "France", "SAS", "fr"),
    ("APAC", "Japan", "K.K.", "jp"), ("APAC", "Australia", "Pty Ltd", "com.au"),
    ("APAC", "Singapore", "Pte. Ltd.", "sg"),
    ("LATAM", "Brasil", "Ltda.", "com.br"), ("North America", "Canada", "Ltd.", "ca"),
]

FIRST_NAMES = [
    "Olivia", "Liam", "Amara", "Noah", "Sofia", "Mateo", "Priya", "Ethan", "Hannah", "Lucas", "Mei", "Daniel",
    "Fatima", "James", "Chloe", "Kenji", "Isabel", "Omar", "Grace", "Tomás", "Aisha", "Benjamin", "Elena", "Ravi",
    "Laura", "Jonas", "Zoe", "Samuel", "Nadia", "Victor", "Emily", "Arjun", "Clara", "Diego", "Freya", "Hugo",
    "Ingrid", "Kwame", "Lena", "Marco", "Nora", "Oliver", "Paula", "Rafael", "Sara", "Theo", "Yuki", "Anika",
    "Bruno", "Camille", "Dmitri", "Esther", "Felix", "Gabriela", "Henrik", "Imani", "Julia", "Kofi", "Leila",
]
LAST_NAMES = [
    "Johnson", "García", "Nguyen", "Müller", "Okafor", "Rossi", "Tanaka", "Silva", "Kowalski", "Patel", "Dubois",
    "Andersson", "Kim", "O'Brien", "Haddad", "Schmidt", "Fernández", "Chen", "Novak", "Mensah", "Larsen",
    "Moreau", "Ivanova", "Singh", "Costa", "Yamamoto", "Becker", "Walsh", "Alvarez", "Fischer", "Hughes",
    "Bianchi", "Ahmed", "Jansen", "Lindqvist", "Mbeki", "Nakamura", "Ortiz", "Petrov", "Quinn", "Romero",
    "Sato", "Thompson", "Vargas", "Weber", "Zhang", "Brennan", "Carvalho", "Dalton", "Eriksen", "Hoffmann",
]

P = Contact.Persona
TITLES = {
    P.EXECUTIVE_SPONSOR: ["Chief Operating Officer", "VP Customer Operations", "Chief Revenue Officer", "CIO",
                          "SVP Operations", "Chief Digital Officer"],
    P.ECONOMIC_BUYER: ["CFO", "VP Finance", "Head of Procurement", "Director of Finance"],
    P.DECISION_MAKER: ["Director of IT", "Head of Digital", "Director of Operations", "Head of Business Systems"],
    P.CHAMPION: ["Head of Revenue Operations", "Director of Customer Operations", "Senior Operations Manager",
                 "Program Manager", "Head of Enablement"],
    P.ADMIN: ["Systems Administrator", "Platform Manager", "Business Systems Analyst", "CRM Administrator"],
    P.END_USER: ["Account Manager", "Operations Analyst", "Team Lead", "Support Specialist", "Data Analyst",
                 "Sales Manager", "Project Coordinator"],
}
INFLUENCE = {
    P.EXECUTIVE_SPONSOR: ["high"], P.ECONOMIC_BUYER: ["high"], P.DECISION_MAKER: ["high", "medium"],
    P.CHAMPION: ["high", "medium"], P.ADMIN: ["medium", "low"], P.END_USER: ["low", "low", "medium"],
}
SURVEY_ODDS = {
    P.EXECUTIVE_SPONSOR: 0.2, P.ECONOMIC_BUYER: 0.0, P.DECISION_MAKER: 0.5, P.CHAMPION: 1.0, P.ADMIN: 0.8,
    P.END_USER: 0.4,
}

# --- Timeline wording ----------------------------------------------------------------------------------

K = Activity.Kind
MINUTES = {K.CALL: (15, 45), K.EMAIL: (5, 15), K.MEETING: (30, 60), K.NOTE: (5, 10), K.TRAINING: (45, 90),
           K.BUSINESS_REVIEW: (60, 120), K.FEEDBACK: (10, 30)}
SUBJECTS = {
    K.CALL: ["Bi-weekly check-in", "Adoption check-in", "Roadmap preview call", "Usage review call",
             "Renewal prep call", "Follow-up on support tickets", "Intro call with new admin", "Expansion discovery"],
    K.EMAIL: ["Shared monthly usage report", "Sent release notes and webinar invite", "Follow-up on open ticket",
              "Recap of our last call", "Shared best-practice guide", "Sent renewal timeline",
              "Asked for feedback on the new dashboards"],
    K.MEETING: ["Quarterly planning session", "Admin sync", "Integration workshop", "Reporting deep dive",
                "Success plan review", "Workflow design session"],
    K.NOTE: ["Champion mentioned a reorg", "Usage dipped after holiday season", "Competitor evaluation rumoured",
             "Budget freeze until next quarter", "New VP joined; wants an intro", "Positive feedback from support"],
    K.TRAINING: ["Admin onboarding session", "Power-user training", "New-hire training", "Reporting training",
                 "Workflow automation training", "Train-the-trainer session"],
    K.BUSINESS_REVIEW: ["Quarterly business review", "Executive business review", "Half-year value review"],
    K.FEEDBACK: ["Asked for feedback on the new dashboards", "Quarterly feedback call", "Feedback on onboarding",
                 "Roadmap feedback session"],
}
BODIES = {
    K.CALL: "Walked through adoption by team and open questions. {who} raised {topic}.",
    K.EMAIL: "Sent to {who}. Included links to the relevant help articles on {topic}.",
    K.MEETING: "Agenda: goals for the quarter, {topic}, open tickets. {who} attended.",
    K.NOTE: "Internal note after talking to {who}: keep an eye on {topic}.",
    K.TRAINING: "Session with {who}; covered {topic}. Recording shared afterwards.",
    K.BUSINESS_REVIEW: "Reviewed outcomes against the success plan with {who}; discussed {topic} and next "
                       "quarter's goals.",
    K.FEEDBACK: "Asked {who} how {topic} works for them; feedback passed to the product team.",
}
TOPICS = ["SSO rollout", "the reporting module", "API limits", "license utilisation", "the renewal timeline",
          "data quality in the CRM sync", "dashboard performance", "onboarding of the new team",
          "the mobile app", "pricing for additional seats", "the Salesforce integration", "user adoption in EMEA"]
OUTCOMES = ["Agreed next steps", "Positive, wants to expand to another team", "Needs a technical follow-up",
            "Concerned about the price increase", "Confirmed renewal intent", "Asked for a product demo",
            "No blockers", "Waiting on their IT team", ""]
NEXT_STEPS = ["Send the usage report", "Book a training for new hires", "Share the renewal quote",
              "Follow up on the support ticket", "Introduce our solutions architect", "Schedule the QBR",
              "Send the SSO setup guide", "Confirm success plan milestones", "Check in with the new admin",
              "Share the product roadmap deck"]

ESCALATIONS = [
    # (title, severity, days ago opened, status trail [(status, days after opening, note)], resolution, to)
    ("SSO login failures after IdP migration", Escalation.Severity.HIGH, 52,
     [("investigating", 1, "Engineering reproduced the SAML assertion error."),
      ("waiting", 4, "Waiting on the customer's IdP admin for new metadata."),
      ("resolved", 9, "Customer uploaded corrected metadata; logins verified with their admin.")],
     "Certificate rotated on the customer's IdP without updating our SAML metadata. Added a check to the admin "
     "page that warns before certificates expire.", "manager"),
    ("Report exports timing out", Escalation.Severity.LOW, 118,
     [("investigating", 2, "Large exports exceed the 60 s limit."),
      ("resolved", 6, "Exports now run in the background and are emailed.")],
     "Moved large exports to background jobs.", "manager"),
    ("Invoice dispute over true-up seats", Escalation.Severity.MEDIUM, 16,
     [("investigating", 1, "Finance pulling seat history for the last 12 months."),
      ("waiting", 3, "Sent the seat report; waiting on their procurement team.")], "", "manager"),
    ("Nightly data sync missing records", Escalation.Severity.CRITICAL, 6,
     [("investigating", 0, "Engineering on it; about 4% of records skipped since the last release.")], "", "exec"),
    ("Champion left; renewal at risk", Escalation.Severity.HIGH, 2, [], "", "manager"),
]


@dataclass
class _Plan:
    """What we know about an account while generating its data (not stored)."""

    account: Account
    segment: str
    stage: str
    active_from: date  # first day of its timeline
    active_until: date  # last day (the churn date for churned accounts)
    base_name: str = ""  # the name without the legal suffix (subsidiaries reuse it)
    quiet_days: int = 0  # no touches in the last N days (an account that went quiet)
    contacts: list = field(default_factory=list)
    by_persona: dict = field(default_factory=dict)


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and (c.isalnum() or c in ".-"))


def _round(value: float, step: int) -> int:
    return max(step, int(round(value / step)) * step)


def seed(*, tenant, people) -> dict:
    """Gives the tenant a book of business; returns the counts created ({} when it already had accounts)."""
    if Account.objects.exists():
        return {}
    with transaction.atomic():
        return _Seeder(tenant=tenant, people=people).run()


class _Seeder:
    def __init__(self, *, tenant, people):
        self.rng = random.Random(tenant.slug)
        self.tenant = tenant
        self.people = people
        self.csms = list(people.csms)
        self.manager = people.by_key.get("manager")
        self.exec = people.by_key.get("exec") or self.manager
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        defaults_ensure()  # the post_save signal made them; a tenant that predates it gets them here
        self.segments = {s.name: s for s in Segment.objects.all()}
        self.stages = {s.name: s for s in LifecycleStage.objects.all()}

    def run(self) -> dict:
        plans = self._accounts()
        contacts = self._contacts(plans)
        activities, links = self._timeline(plans)
        escalations, events = self._escalations(plans)
        self._touch()
        return {"accounts": len(plans), "contacts": contacts, "activities": activities, "activity_contacts": links,
                "escalations": escalations, "escalation_events": events}

    # --- accounts ------------------------------------------------------------------------------------

    def _accounts(self) -> list[_Plan]:
        rng = self.rng
        total = rng.randint(58, 63)
        n_parents = rng.randint(3, 4)
        sub_counts = [rng.randint(1, 2) for _ in range(n_parents)]
        n_top = total - sum(sub_counts)
        stems = rng.sample(NAME_STEMS, n_top)
        industries = list(INDUSTRIES)
        region_names = list(REGIONS)
        region_weights = [REGIONS[r][0] for r in region_names]
        plans: list[_Plan] = []
        seq = iter(range(1, 10_000))

        # Segment mix; the first few are the global HQs (Enterprise).
        segments = ["Enterprise"] * n_parents + rng.choices(
            ["Enterprise", "Mid-Market", "SMB"], weights=[20, 35, 45], k=n_top - n_parents
        )
        smaller = [i for i in range(n_parents, n_top) if segments[i] != "Enterprise"]
        churned = set(rng.sample(smaller, min(len(smaller), rng.randint(3, 4))))
        pooled = [i for i in range(n_parents, n_top) if i not in churned and segments[i] == "SMB"]
        unassigned = set(rng.sample(pooled, min(3, len(pooled))))
        for i, stem in enumerate(stems):
            industry = rng.choices(industries, weights=INDUSTRY_WEIGHTS)[0]
            noun = rng.choice(INDUSTRIES[industry])
            if i < n_parents:  # global HQs sit in the US
                region, (suffix, tld) = "North America", rng.choice(REGIONS["North America"][1][:3])
            else:
                region = rng.choices(region_names, weights=region_weights)[0]
                suffix, tld = rng.choice(REGIONS[region][1])
            segment = segments[i]
            name = f"{stem} {noun}"
            account, stage = self._account(
                name=f"{name} {suffix}", domain=f"{_ascii(name).lower()}.{tld}", industry=industry, region=region,
                segment=segment, seq=next(seq), churned=i in churned,
                csm=None if i in unassigned else self._pick_csm(),
            )
            plans.append(self._plan(account, segment, stage, base_name=name))
        Account.objects.bulk_create([p.account for p in plans])

        subsidiaries = []
        for parent_plan, count in zip(plans[:n_parents], sub_counts, strict=True):
            parent = parent_plan.account
            for region, country, suffix, tld in rng.sample(SUBSIDIARY_SITES, count):
                segment = rng.choices(["Enterprise", "Mid-Market"], weights=[30, 70])[0]
                csm = parent.csm if rng.random() < 0.7 else self._pick_csm()
                account, stage = self._account(
                    name=f"{parent_plan.base_name} {country} {suffix}",
                    domain=f"{_ascii(parent_plan.base_name).lower()}.{tld}", industry=parent.industry,
                    region=region, segment=segment, seq=next(seq), churned=False, csm=csm, parent=parent,
                    max_seats=_round(parent.licensed_seats * rng.uniform(0.2, 0.6), 10),
                )
                subsidiaries.append(self._plan(account, segment, stage, base_name=parent_plan.base_name))
        Account.objects.bulk_create([p.account for p in subsidiaries])
        return plans + subsidiaries

    def _pick_csm(self):
        if not self.csms:
            return None
        # A slightly uneven split, as in real books of business.
        return self.rng.choices(self.csms, weights=[max(1, 12 - i) for i in range(len(self.csms))])[0]

    def _account(self, *, name, domain, industry, region, segment, seq, churned, csm, parent=None, max_seats=None):
        """The unsaved account and its lifecycle stage's name."""
        rng = self.rng
        seats = {
            "Enterprise": lambda: _round(rng.uniform(400, 6000), 50),
            "Mid-Market": lambda: _round(rng.uniform(80, 900), 10),
            "SMB": lambda: rng.randint(5, 120),
        }[segment]()
        if max_seats:  # a subsidiary is smaller than its HQ
            seats = min(seats, max_seats)
        potential = None
        if rng.random() > 0.06:  # a few are not estimated yet
            per_seat = rng.uniform(250, 900) * rng.uniform(2.0, 4.0)
            potential = Decimal(_round(seats * per_seat, 1000)).quantize(Decimal("0.01"))
        if churned:
            stage_name = "Churned"
        else:
            stage_name = rng.choices(["Onboarding", "Adoption", "Expansion", "Renewal", "At risk"],
                                     weights=[10, 35, 20, 20, 15])[0]
            if stage_name == "Onboarding" and csm is None:  # new customers always get a CSM
                stage_name = "Adoption"
        account = Account(
            name=name, external_id=f"001D{seq:06d}", domain=domain, industry=industry, region=region,
            segment=self.segments.get(segment), stage=self.stages.get(stage_name), csm=csm, parent=parent,
            licensed_seats=seats, long_term_potential=potential,
            status=Account.Status.CHURNED if churned else Account.Status.ACTIVE,
            churn_date=self.today - timedelta(days=rng.randint(20, 150)) if churned else None,
        )
        return account, stage_name

    def _plan(self, account, segment, stage, *, base_name) -> _Plan:
        rng = self.rng
        churned = account.status == Account.Status.CHURNED
        start = self.today - timedelta(days=TIMELINE_DAYS)
        if stage == "Onboarding":
            start = self.today - timedelta(days=rng.randint(20, 75))
        plan = _Plan(account=account, segment=segment, stage=stage, active_from=start,
                     active_until=account.churn_date if churned else self.today, base_name=base_name)
        if not churned and account.csm and stage != "Onboarding" and rng.random() < 0.15:
            plan.quiet_days = rng.randint(35, 80)
        return plan

    # --- contacts ------------------------------------------------------------------------------------

    def _contacts(self, plans: list[_Plan]) -> int:
        rng = self.rng
        layers: dict[int, list[tuple[Contact, Contact | None]]] = {}  # depth in the org chart: (contact, boss)
        seq = 0
        for plan in plans:
            low, high = {"Enterprise": (6, 8), "Mid-Market": (4, 7), "SMB": (3, 5)}[plan.segment]
            n = rng.randint(low, high)
            personas = [P.EXECUTIVE_SPONSOR, P.CHAMPION, P.ADMIN]
            if n >= 4:
                personas.insert(1, P.ECONOMIC_BUYER)
            if n >= 6:
                personas.insert(2, P.DECISION_MAKER)
            personas += [P.END_USER] * (n - len(personas))
            names = set()
            for persona in personas:
                while True:
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    if (first, last) not in names:
                        names.add((first, last))
                        break
                seq += 1
                contact = Contact(
                    account=plan.account, external_id=f"003D{seq:06d}", name=f"{first} {last}",
                    email=f"{_ascii(first)}.{_ascii(last)}@{plan.account.domain}".lower(),
                    title=rng.choice(TITLES[persona]), persona=persona,
                    influence=rng.choice(INFLUENCE[persona]), sentiment=self._sentiment(plan),
                    receives_surveys=rng.random() < SURVEY_ODDS[persona],
                )
                plan.contacts.append(contact)
                plan.by_persona.setdefault(persona, []).append(contact)
            # Reports-to chains: sponsor <- decision maker <- champion <- admin <- end users. By position in
            # plan.contacts, since unsaved model instances cannot be dict keys.
            position = {persona: personas.index(persona) for persona in set(personas)}
            top, champion, admin = position[P.EXECUTIVE_SPONSOR], position[P.CHAMPION], position[P.ADMIN]
            dm = position.get(P.DECISION_MAKER)
            boss_of: list[int | None] = []
            for persona in personas:
                if persona == P.EXECUTIVE_SPONSOR:
                    boss = None
                elif persona == P.ECONOMIC_BUYER:
                    boss = None if rng.random() < 0.5 else top
                elif persona == P.DECISION_MAKER:
                    boss = top
                elif persona == P.CHAMPION:
                    boss = top if dm is None else dm
                elif persona == P.ADMIN:
                    boss = champion
                else:
                    boss = rng.choice([champion, admin])
                boss_of.append(boss)
            for i, contact in enumerate(plan.contacts):
                depth, boss = 0, boss_of[i]
                while boss is not None:
                    depth, boss = depth + 1, boss_of[boss]
                boss = None if boss_of[i] is None else plan.contacts[boss_of[i]]
                layers.setdefault(depth, []).append((contact, boss))
        for depth in sorted(layers):
            for contact, boss in layers[depth]:
                contact.reports_to = boss  # saved in an earlier layer, so it has its id now
            Contact.objects.bulk_create([c for c, _ in layers[depth]], batch_size=500)
        return seq

    def _sentiment(self, plan: _Plan) -> str:
        if plan.account.status == Account.Status.CHURNED:
            weights = [5, 35, 50, 10]
        elif plan.stage == "At risk" or plan.quiet_days:
            weights = [15, 35, 35, 15]
        else:
            weights = [45, 30, 5, 20]
        return self.rng.choices(["positive", "neutral", "negative", "unknown"], weights=weights)[0]

    # --- timeline ------------------------------------------------------------------------------------

    def _timeline(self, plans: list[_Plan]) -> tuple[int, int]:
        rng = self.rng
        activities: list[Activity] = []
        participants: list[tuple[Activity, list[Contact]]] = []

        def add(plan, kind, day, *, next_step_due=None, next_step_done=False):
            by = plan.account.csm or self.manager
            who = self._participants(plan, kind)
            low, high = MINUTES[kind]
            activity = Activity(
                account=plan.account, kind=kind, occurred_at=self._at(day), logged_by=by,
                subject=rng.choice(SUBJECTS[kind]),
                body=BODIES[kind].format(who=", ".join(c.name for c in who) or "the team", topic=rng.choice(TOPICS)),
                outcome="" if kind in (K.NOTE, K.EMAIL) else rng.choice(OUTCOMES),
                minutes_spent=_round(rng.randint(low, high), 5),
            )
            if next_step_due is None and kind not in (K.NOTE, K.EMAIL) and rng.random() < 0.35:
                next_step_due = day + timedelta(days=rng.randint(2, 14))
                overdue_days = (self.today - next_step_due).days
                next_step_done = overdue_days > 0 and rng.random() < (0.95 if overdue_days > 30 else 0.7)
            if next_step_due is not None:
                activity.next_step = rng.choice(NEXT_STEPS)
                activity.next_step_due = next_step_due
                activity.next_step_done = next_step_done
            activities.append(activity)
            participants.append((activity, who))

        for plan in plans:
            last_day = plan.active_until - timedelta(days=plan.quiet_days)
            if plan.account.csm_id is None:
                gap = (20, 40)  # pooled accounts: occasional digital touches
            else:
                gap = {"Enterprise": (3, 8), "Mid-Market": (6, 13), "SMB": (10, 24)}[plan.segment]
            day = plan.active_from + timedelta(days=rng.randint(0, gap[1]))
            trainings = 4 if plan.stage == "Onboarding" else 0
            while day <= last_day:
                if plan.account.csm_id is None:
                    kind = K.EMAIL
                elif trainings:
                    kind, trainings = K.TRAINING, trainings - 1
                else:
                    kind = rng.choices([K.CALL, K.EMAIL, K.MEETING, K.NOTE, K.TRAINING, K.FEEDBACK],
                                       weights=[30, 28, 15, 12, 5, 4])[0]
                add(plan, kind, day)
                day += timedelta(days=rng.randint(*gap))
            # Business reviews every quarter or so for the bigger accounts.
            if plan.account.csm_id and plan.segment != "SMB" and plan.stage != "Onboarding":
                for days_ago in (rng.randint(150, 175), rng.randint(60, 85)):
                    review_day = self.today - timedelta(days=days_ago)
                    if plan.active_from <= review_day <= last_day:
                        add(plan, K.BUSINESS_REVIEW, review_day)
            # Open next steps coming up this week.
            if (plan.account.csm_id and plan.account.status == Account.Status.ACTIVE and not plan.quiet_days
                    and rng.random() < 0.45):
                day = self.today - timedelta(days=rng.randint(0, 4))
                add(plan, rng.choice([K.CALL, K.MEETING]), day,
                    next_step_due=self.today + timedelta(days=rng.randint(1, 7)))

        Activity.objects.bulk_create(activities, batch_size=500)
        links = [ActivityContact(activity=a, contact=c) for a, who in participants for c in who]
        ActivityContact.objects.bulk_create(links, batch_size=1000)
        return len(activities), len(links)

    def _participants(self, plan: _Plan, kind) -> list[Contact]:
        rng, by = self.rng, plan.by_persona
        if kind == K.NOTE:
            return []
        if kind == K.BUSINESS_REVIEW:
            return by[P.EXECUTIVE_SPONSOR][:1] + by.get(P.ECONOMIC_BUYER, [])[:1] + by[P.CHAMPION][:1]
        if kind == K.TRAINING:
            users = by.get(P.END_USER, [])
            return by[P.ADMIN][:1] + rng.sample(users, min(len(users), rng.randint(1, 3)))
        if kind == K.MEETING:
            others = [c for c in plan.contacts if c.persona != P.CHAMPION]
            return by[P.CHAMPION][:1] + rng.sample(others, min(len(others), rng.randint(1, 2)))
        # Calls and emails: mostly the champion, sometimes someone else.
        if rng.random() < 0.6:
            return by[P.CHAMPION][:1]
        return rng.sample(plan.contacts, rng.randint(1, 2))

    def _at(self, day: date) -> datetime:
        if day.weekday() >= 5:  # nobody logs calls on weekends: move to Friday
            day -= timedelta(days=day.weekday() - 4)
        at = datetime.combine(day, time(self.rng.randint(8, 17), self.rng.choice([0, 15, 30, 45])),
                              tzinfo=timezone.get_current_timezone())
        if at > self.now:
            at = self.now - timedelta(minutes=self.rng.randint(5, 90))
        return at

    # --- escalations ---------------------------------------------------------------------------------

    def _escalations(self, plans: list[_Plan]) -> tuple[int, int]:
        rng = self.rng
        candidates = [p for p in plans if p.account.status == Account.Status.ACTIVE and p.account.csm_id]
        at_risk = [p for p in candidates if p.stage == "At risk"]
        others = [p for p in candidates if p.stage != "At risk"]
        rng.shuffle(at_risk)
        rng.shuffle(others)
        chosen = (at_risk + others)[: len(ESCALATIONS)]
        escalations, trails = [], []
        for plan, (title, severity, days_ago, trail, resolution, to) in zip(chosen, ESCALATIONS, strict=False):
            csm = plan.account.csm
            opened = self.now - timedelta(days=days_ago, hours=rng.randint(1, 6))
            resolved = bool(trail) and trail[-1][0] == Escalation.Status.RESOLVED
            escalation = Escalation(
                account=plan.account, title=title, severity=severity, owner=csm,
                escalated_to=self.exec if to == "exec" else self.manager, opened_at=opened,
                description=f"{title}. Raised by {plan.by_persona[P.CHAMPION][0].name} ({plan.account.name}).",
                status=trail[-1][0] if trail else Escalation.Status.OPEN,
                closed_at=opened + timedelta(days=trail[-1][1], hours=2) if resolved else None,
                resolution=resolution if resolved else "",
            )
            escalations.append(escalation)
            events = [EscalationEvent(escalation=escalation, at=opened, by=csm, from_status="", to_status="open",
                                      note="Opened")]
            previous = "open"
            for status, after_days, note in trail:
                at = min(opened + timedelta(days=after_days, hours=2), self.now)
                by = self.manager if status == Escalation.Status.RESOLVED and self.manager else csm
                events.append(EscalationEvent(escalation=escalation, at=at, by=by, from_status=previous,
                                              to_status=status, note=note))
                previous = status
            trails.append(events)
        Escalation.objects.bulk_create(escalations)
        for escalation, events in zip(escalations, trails, strict=True):
            for event in events:
                event.escalation = escalation  # now that it has an id
        events = [e for events in trails for e in events]
        EscalationEvent.objects.bulk_create(events)
        return len(escalations), len(events)

    # --- derived fields ------------------------------------------------------------------------------

    def _touch(self) -> None:
        """last_touch_at / last_engaged_at from the timeline, in two UPDATE ... = (SELECT max ...) queries."""
        latest_activity = Activity.objects.filter(account=OuterRef("pk")).order_by("-occurred_at").values(
            "occurred_at"
        )[:1]
        Account.objects.update(last_touch_at=Subquery(latest_activity))
        latest_engagement = ActivityContact.objects.filter(contact=OuterRef("pk")).order_by(
            "-activity__occurred_at"
        ).values("activity__occurred_at")[:1]
        Contact.objects.update(last_engaged_at=Subquery(latest_engagement))
