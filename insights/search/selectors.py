"""Global search reads: the current tenant's accounts, contacts, goals and tasks whose text contains the query.

Every read goes through the tenant-scoped managers (and row level security on PostgreSQL). Each function is one
query whatever the data: a LIMIT, ranked exact match first, then prefix, then anywhere. Callers fetch one row more
than they count up to, so a large match reads as "50+" instead of being counted exactly.

Matching is Django's `icontains` (PostgreSQL: `UPPER(col::text) LIKE UPPER('%q%')`, with the query's % and _
escaped); the trigram indexes of accounts and success_plans are on that expression.
"""

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from accounts.models import Account, Contact
from success_plans.models import Goal, Task

MIN_LENGTH = 2
MAX_LENGTH = 100  # a pasted paragraph is not a search; the rest is dropped


def clean_query(raw: str | None) -> str:
    """Whitespace collapsed, at most MAX_LENGTH characters."""
    return " ".join((raw or "").split())[:MAX_LENGTH]


def _contains(q: str, *fields: str) -> Q:
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": q})
    return condition


def _rank(q: str, *, exact: tuple[str, ...], prefix: tuple[str, ...]):
    """0: a field equals the query; 1: a field starts with it; 2: it is somewhere inside."""
    exact_match = Q()
    for field in exact:
        exact_match |= Q(**{f"{field}__iexact": q})
    prefix_match = Q()
    for field in prefix:
        prefix_match |= Q(**{f"{field}__istartswith": q})
    return Case(
        When(exact_match, then=Value(0)),
        When(prefix_match, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def accounts_matching(q: str, *, limit: int) -> list[Account]:
    """By name, domain or CRM id; "acme" finds Acme first, then Acme Labs, then Big Acme."""
    return list(
        Account.objects.filter(_contains(q, "name", "domain", "external_id"))
        .select_related("csm")
        .annotate(rank=_rank(q, exact=("name", "domain", "external_id"), prefix=("name", "domain")))
        .order_by("rank", "name", "id")[:limit]
    )


def contacts_matching(q: str, *, limit: int) -> list[Contact]:
    """By name, email or CRM id (not the job title: "VP" would list half the book)."""
    return list(
        Contact.objects.filter(_contains(q, "name", "email", "external_id"))
        .select_related("account")
        .annotate(rank=_rank(q, exact=("name", "email", "external_id"), prefix=("name", "email")))
        .order_by("rank", "name", "id")[:limit]
    )


def goals_matching(q: str, *, limit: int) -> list[Goal]:
    return list(
        Goal.objects.filter(title__icontains=q)
        .select_related("account", "plan")
        .annotate(rank=_rank(q, exact=("title",), prefix=("title",)))
        .order_by("rank", "due_date", "id")[:limit]
    )


def visible_tasks() -> QuerySet:
    """The tasks some page shows: every open task (Account 360, My work) and every task of a plan (the plan page).

    A done or cancelled task outside any plan is shown nowhere, so search does not list it either.
    """
    return Task.objects.filter(Q(status=Task.Status.OPEN) | Q(plan__isnull=False))


def tasks_matching(q: str, *, limit: int) -> list[Task]:
    """Open tasks first, the earliest due first."""
    still_open = Case(When(status=Task.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(
        visible_tasks()
        .filter(title__icontains=q)
        .select_related("account", "owner", "plan")
        .annotate(rank=_rank(q, exact=("title",), prefix=("title",)), closed=still_open)
        .order_by("rank", "closed", F("due_date").asc(nulls_last=True), "id")[:limit]
    )
