"""What the search page and the suggestions show: one section per kind, each hit with its context and its link.

A kind appears only when the member's role may open the page its hits link to: the rule is read from that page's
own `@tenant_page` actions, so search never shows a link the role would get a 403 for.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.views.accounts import account_detail, account_list
from csplatform.tenancy.permissions import role_can
from success_plans.models import Task
from success_plans.views.plans import plan_detail

from . import selectors

SECTION_ROWS = 10
SUGGESTION_ROWS = 4
COUNT_CAP = 50


def highlight(text: str, q: str) -> SafeString:
    """`text` escaped, with every case-insensitive occurrence of `q` in <mark>."""
    text = text or ""
    if not q:
        return escape(text)
    parts = re.split(f"({re.escape(q)})", text, flags=re.IGNORECASE)
    # re.split with one group alternates: outside, match, outside, match, ...
    return mark_safe(
        "".join(format_html("<mark>{}</mark>", part) if i % 2 else escape(part) for i, part in enumerate(parts))
    )


@dataclass
class Hit:
    title: SafeString
    url: str
    context: list = field(default_factory=list)  # short facts, each str (escaped by the template) or SafeString
    note: str = ""  # a status worth a badge: churned, done, overdue


@dataclass
class Section:
    key: str
    label: str
    hits: list[Hit]
    found: int  # rows found, at most COUNT_CAP + 1
    see_all: str | None = None

    @property
    def more(self) -> bool:
        return self.found > COUNT_CAP

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP}+" if self.more else str(self.found)

    @property
    def truncated(self) -> bool:
        return self.found > len(self.hits)


class Links:
    """The current tenant's page URLs for the hits."""

    def __init__(self, slug: str):
        self.slug = slug

    def account(self, pk: int, anchor: str = "") -> str:
        return reverse("accounts:detail", kwargs={"tenant_slug": self.slug, "account_id": pk}) + anchor

    def plan(self, pk: int, anchor: str = "") -> str:
        return reverse("plans:detail", kwargs={"tenant_slug": self.slug, "plan_id": pk}) + anchor

    def account_list(self, q: str) -> str:
        # csm="" lists every account: a CSM's list starts on their own book otherwise
        return reverse("accounts:list", kwargs={"tenant_slug": self.slug}) + "?" + urlencode({"q": q, "csm": ""})


def _account_hits(rows, q, links, today):
    return [
        Hit(
            title=highlight(a.name, q),
            url=links.account(a.pk),
            context=[
                c
                for c in [
                    highlight(a.domain, q) if a.domain else "",
                    format_html("CRM id {}", highlight(a.external_id, q)) if a.external_id else "",
                    f"CSM {a.csm.display_name}" if a.csm else "No CSM",
                ]
                if c
            ],
            note="Churned" if a.status == a.Status.CHURNED else "",
        )
        for a in rows
    ]


def _contact_hits(rows, q, links, today):
    return [
        Hit(
            title=highlight(c.name, q),
            url=links.account(c.account_id),
            context=[
                c_
                for c_ in [format_html("at {}", c.account.name), c.title, highlight(c.email, q) if c.email else ""]
                if c_
            ],
        )
        for c in rows
    ]


def _goal_hits(rows, q, links, today):
    return [
        Hit(
            title=highlight(g.title, q),
            url=links.plan(g.plan_id, f"#goal-{g.pk}"),
            context=[g.account.name, f"plan {g.plan.title}", f"due {g.due_date:%Y-%m-%d}"],
        )
        for g in rows
    ]


def _task_hits(rows, q, links, today):
    hits = []
    for t in rows:
        # a plan's page lists all its tasks; Account 360 lists the account's open ones
        url = links.plan(t.plan_id, f"#task-{t.pk}") if t.plan_id else links.account(t.account_id, f"#task-{t.pk}")
        overdue = t.status == Task.Status.OPEN and t.due_date and t.due_date < today
        hits.append(
            Hit(
                title=highlight(t.title, q),
                url=url,
                context=[
                    t.account.name,
                    t.owner.display_name if t.owner else "no owner",
                    f"due {t.due_date:%Y-%m-%d}" if t.due_date else "no due date",
                ],
                note="Overdue" if overdue else ("" if t.status == Task.Status.OPEN else t.get_status_display()),
            )
        )
    return hits


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    rows: Callable  # (q, limit=) -> rows
    hits: Callable  # (rows, q, links, today) -> [Hit]
    pages: tuple  # the views its hits link to; the role must be allowed on each
    list_page: object = None  # a filtered list of this kind, for "see all"; the role must be allowed on it too
    see_all: Callable | None = None  # (links, q) -> that list's URL for the query


KINDS = [
    Kind(
        "accounts",
        "Accounts",
        selectors.accounts_matching,
        _account_hits,
        (account_detail,),
        list_page=account_list,
        see_all=lambda links, q: links.account_list(q),
    ),
    Kind("contacts", "Contacts", selectors.contacts_matching, _contact_hits, (account_detail,)),
    Kind("goals", "Goals", selectors.goals_matching, _goal_hits, (plan_detail,)),
    Kind("tasks", "Tasks", selectors.tasks_matching, _task_hits, (plan_detail, account_detail)),
]


def may_open(role: str, view) -> bool:
    return any(role_can(role, action) for action in view.required_actions)


def kinds_for(role: str) -> list[Kind]:
    return [kind for kind in KINDS if all(may_open(role, page) for page in kind.pages)]


def search(*, slug: str, role: str, q: str, today, rows: int = SECTION_ROWS) -> list[Section]:
    """One section per kind this role may open, each from one query; `q` must already be clean and long enough."""
    links = Links(slug)
    sections = []
    for kind in kinds_for(role):
        found = kind.rows(q, limit=COUNT_CAP + 1)
        see_all = None
        if kind.list_page and len(found) > rows and may_open(role, kind.list_page):
            see_all = kind.see_all(links, q)
        sections.append(Section(kind.key, kind.label, kind.hits(found[:rows], q, links, today), len(found), see_all))
    return sections
