"""The main navigation: one list, filtered by role, with the current section marked `aria-current="page"`.

The current section is the link whose address is the longest prefix of the page's path (Home only on an exact
match), so /accounts/escalations/3/ marks Escalations, not Accounts, and a new page under an existing section is
marked without touching this file. Add a section here (label, URL name, the action a role needs to see it).
"""

from django import template
from django.urls import NoReverseMatch, reverse

from csplatform.tenancy.permissions import role_can

register = template.Library()

# (label, URL name, action needed or None). Order is display order.
MAIN = [
    ("Home", "tenant_home", None),
    ("Accounts", "accounts:list", None),
    ("Health", "health:portfolio", None),
    ("Renewals", "renewals:board", None),
    ("Forecast", "forecast:page", "forecast.view"),
    ("Retention", "retention:page", "retention.view"),
    ("My work", "plans:my_work", None),
    ("Reports", "reports:list", None),
    ("Team", "team:page", "targets.view_team"),
    ("Escalations", "accounts:escalations", None),
    ("Reviews", "reviews:list", None),
    ("Compensation", "compensation:mine", "comp.view_own"),
    ("Jobs", "jobs:runs", "jobs.view"),
]
# Pages that are some role's home (tenant_home redirects there) and no other section's: they mark Home.
HOME_PAGES = ["tenant_members"]
MORE = [
    # The executive's and ops' homes, for the other roles that may read them.
    ("Headlines", "homes:executive", "retention.view"),
    ("What to fix today", "homes:ops", "jobs.view"),
    ("Workplan", "accounts:workplan", None),
    ("Timesheet", "accounts:timesheet", None),
    ("Book of business", "accounts:book", "book.view"),
    ("Playbooks", "programs:playbooks", None),
    ("Advocacy", "programs:advocacy", None),
    ("Product feedback", "programs:feedback", None),
    ("Process docs", "programs:docs", None),
    ("Health scorecards", "health:scorecards", "scorecards.manage"),
    ("Renewal settings", "renewals:settings", "renewals.configure"),
    ("Import contracts", "renewals:import", "renewals.configure"),
    ("Targets", "targets:configure", "targets.view_team"),
    ("Coverage", "coverage:page", "coverage.view"),
    ("Import accounts", "accounts_import:upload", "accounts.import"),
    ("Login security", "security:login_security", "security.manage"),
    ("API tokens", "security:tenant_tokens", "security.manage"),
]


def _links(entries, *, slug, role):
    links = []
    for label, name, action in entries:
        if action is not None and not role_can(role, action):
            continue
        try:
            href = reverse(name, kwargs={"tenant_slug": slug})
        except NoReverseMatch:  # a section whose app is not installed in this deployment
            continue
        links.append({"label": label, "href": href, "current": False, "home": name == "tenant_home"})
    return links


@register.simple_tag(takes_context=True)
def main_navigation(context):
    """`{% main_navigation as nav %}`: {"main": [...], "more": [...], "more_current": bool}; each link has
    label, href and current. Empty outside a workspace."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"main": [], "more": [], "more_current": False}
    slug, role = membership.tenant.slug, membership.role
    main, more = _links(MAIN, slug=slug, role=role), _links(MORE, slug=slug, role=role)
    path = request.path
    home_paths = {link["href"] for link in _links([("", n, None) for n in HOME_PAGES], slug=slug, role=role)}
    best = None
    for link in main + more:
        if link["home"]:
            matches = path == link["href"] or path in home_paths
        else:
            matches = path.startswith(link["href"])
        if matches and (best is None or len(link["href"]) > len(best["href"])):
            best = link
    if best is not None:
        best["current"] = True
    return {"main": main, "more": more, "more_current": any(link["current"] for link in more)}
