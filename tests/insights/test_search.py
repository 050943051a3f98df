"""Global search: accounts, contacts, goals and tasks of the member's tenant, ranked, with their context and links;
another tenant's rows never appear; kinds follow the role; short queries are refused; the query is escaped; the page
reads with the same number of queries whatever the size of the book."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, Contact
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from insights.search.results import COUNT_CAP, highlight
from success_plans.models import Goal, SuccessPlan, Task
from success_plans.views.plans import plan_detail
from tests.factories import AccountFactory, ContactFactory, GoalFactory, MembershipFactory

PAGE = "/t/alpha/search/"
TODAY = timezone.localdate()


def book(tenant, *, csm=None, name="Acme Robotics"):
    """One of each kind that "acme" finds, as a CSM's book would hold them."""
    account = AccountFactory(tenant=tenant, name=name, domain="acme-robotics.com", external_id="", csm=csm)
    contact = ContactFactory(
        tenant=tenant, account=account, name="Ada Lovelace", email="ada@acme-robotics.com", title="CTO"
    )
    goal = GoalFactory(tenant=tenant, plan__account=account, plan__title="FY27 plan", title="Acme adoption at 80%")
    with tenant_context(tenant):
        task = Task.objects.create(
            account=account, owner=csm, title="Send the Acme QBR deck", due_date=TODAY - timedelta(days=1)
        )
    return account, contact, goal, task


def sections(response):
    return {section.key: section for section in response.context["sections"]}


def test_it_finds_each_kind_with_its_context_and_the_page_it_lives_on(client, tenant_a, csm):
    account, contact, goal, task = book(tenant_a, csm=csm)
    client.force_login(csm)
    response = client.get(PAGE, {"q": "acme"})
    assert response.status_code == 200
    found = sections(response)
    assert list(found) == ["accounts", "contacts", "goals", "tasks"]
    [a], [c], [g], [t] = (found[k].hits for k in ("accounts", "contacts", "goals", "tasks"))
    assert a.url == f"/t/alpha/accounts/{account.pk}/" and "CSM Chris Carter" in a.context
    assert c.url == f"/t/alpha/accounts/{account.pk}/" and "at Acme Robotics" in c.context
    assert g.url == f"/t/alpha/plans/{goal.plan_id}/#goal-{goal.pk}"
    assert "Acme Robotics" in g.context and "plan FY27 plan" in g.context
    assert t.url == f"/t/alpha/accounts/{account.pk}/#task-{task.pk}" and t.note == "Overdue"
    assert t.context == ["Acme Robotics", "Chris Carter", f"due {TODAY - timedelta(days=1):%Y-%m-%d}"]
    page = response.content.decode()
    assert "<mark>Acme</mark> Robotics" in page and "ada@<mark>acme</mark>-robotics.com" in page
    assert 'href="#results-contacts"' in page  # jump links to each section


def test_it_ranks_accounts_exact_then_prefix_then_anywhere_and_ignores_case(client, tenant_a, csm):
    for name in ["Big Acme", "Acme Labs", "Acme", "Zed"]:
        AccountFactory(tenant=tenant_a, name=name, domain="", external_id="")
    AccountFactory(tenant=tenant_a, name="Unrelated", domain="shop.example", external_id="acme")  # its CRM id
    client.force_login(csm)
    hits = sections(client.get(PAGE, {"q": "ACME"}))["accounts"].hits
    assert [str(hit.title) for hit in hits] == [
        "<mark>Acme</mark>",
        "Unrelated",
        "<mark>Acme</mark> Labs",
        "Big <mark>Acme</mark>",
    ]


def test_it_never_shows_another_tenants_rows_with_the_same_names(client, tenant_a, tenant_b, csm, outsider):
    mine = book(tenant_a, csm=csm)
    theirs = book(tenant_b)
    client.force_login(csm)
    found = sections(client.get(PAGE, {"q": "acme"}))
    shown = {key: [hit.url for hit in section.hits] for key, section in found.items()}
    account, _, goal, task = mine
    assert shown == {
        "accounts": [f"/t/alpha/accounts/{account.pk}/"],
        "contacts": [f"/t/alpha/accounts/{account.pk}/"],
        "goals": [f"/t/alpha/plans/{goal.plan_id}/#goal-{goal.pk}"],
        "tasks": [f"/t/alpha/accounts/{account.pk}/#task-{task.pk}"],
    }
    client.force_login(outsider)
    assert client.get(PAGE, {"q": "acme"}).status_code == 404  # not a member of alpha
    found = sections(client.get("/t/bravo/search/", {"q": "acme"}))
    assert [hit.url for hit in found["accounts"].hits] == [f"/t/bravo/accounts/{theirs[0].pk}/"]
    assert [hit.url for hit in found["tasks"].hits] == [f"/t/bravo/accounts/{theirs[0].pk}/#task-{theirs[3].pk}"]


def test_it_shows_every_role_the_kinds_whose_pages_it_may_open(client, tenant_a, csm, monkeypatch):
    book(tenant_a, csm=csm)
    executive = MembershipFactory(tenant=tenant_a, role=Role.EXECUTIVE).user
    for user in (csm, executive):
        client.force_login(user)
        assert list(sections(client.get(PAGE, {"q": "acme"}))) == ["accounts", "contacts", "goals", "tasks"]
    # Were the plan page closed to executives, its goals and tasks would leave their search, not a CSM's.
    monkeypatch.setattr(plan_detail, "required_actions", ("plans.edit",))
    client.force_login(executive)
    response = client.get(PAGE, {"q": "acme"})
    assert list(sections(response)) == ["accounts", "contacts"]
    assert "#goal-" not in response.content.decode() and "#task-" not in response.content.decode()
    client.force_login(csm)
    assert list(sections(client.get(PAGE, {"q": "acme"}))) == ["accounts", "contacts", "goals", "tasks"]


def test_it_lists_the_tasks_some_page_shows_and_links_plan_tasks_to_their_plan(client, tenant_a, csm):
    account = AccountFactory(tenant=tenant_a, name="Globex")
    with tenant_context(tenant_a):
        plan = SuccessPlan.objects.create(account=account, title="Plan", period_start=TODAY, period_end=TODAY)
        done_in_plan = Task.objects.create(account=account, plan=plan, title="Kickoff call", status=Task.Status.DONE)
        Task.objects.create(account=account, title="Kickoff call (old)", status=Task.Status.DONE)
        still_open = Task.objects.create(account=account, title="Kickoff follow-up", owner=None)
    client.force_login(csm)
    hits = sections(client.get(PAGE, {"q": "kickoff"}))["tasks"].hits
    assert [(hit.url, hit.note) for hit in hits] == [
        (f"/t/alpha/accounts/{account.pk}/#task-{still_open.pk}", ""),
        (f"/t/alpha/plans/{plan.pk}/#task-{done_in_plan.pk}", "Done"),
    ]
    assert "no owner" in hits[0].context and "no due date" in hits[0].context


def test_it_refuses_short_queries_politely_and_explains_an_empty_one(client, tenant_a, csm):
    book(tenant_a, csm=csm)
    client.force_login(csm)
    empty = client.get(PAGE).content.decode()
    assert "Type what you are looking for" in empty
    response = client.get(PAGE, {"q": " a "})
    assert response.context["sections"] == [] and response.context["too_short"]
    assert "is too short: type at least 2 characters" in response.content.decode()


def test_it_says_nothing_was_found_and_what_to_try_next(client, tenant_a, csm):
    book(tenant_a, csm=csm)
    client.force_login(csm)
    page = client.get(PAGE, {"q": "zzzz"}).content.decode()
    assert "Nothing found for “zzzz” in accounts, contacts, goals or tasks." in page
    assert "browse all accounts" in page


def test_it_escapes_the_query_everywhere_it_shows_it(client, tenant_a, csm):
    AccountFactory(tenant=tenant_a, name="R&D <Labs>", domain="", external_id="")
    client.force_login(csm)
    attack = '"><script>alert(1)</script>'
    page = client.get(PAGE, {"q": attack}).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    page = client.get(PAGE, {"q": "<lab"}).content.decode()
    assert "R&amp;D <mark>&lt;Lab</mark>s&gt;" in page
    assert str(highlight("50% off_100%", "%")) == "50<mark>%</mark> off_100<mark>%</mark>"


def test_it_matches_percent_and_underscore_literally(client, tenant_a, csm):
    AccountFactory(tenant=tenant_a, name="Plain", domain="", external_id="")
    AccountFactory(tenant=tenant_a, name="100% Juice", domain="", external_id="")
    client.force_login(csm)
    assert [str(h.title) for h in sections(client.get(PAGE, {"q": "0%"}))["accounts"].hits] == [
        "10<mark>0%</mark> Juice"
    ]


def test_it_suggests_a_few_of_each_kind_as_one_types(client, tenant_a, csm):
    book(tenant_a, csm=csm)
    bulk(tenant_a, 8, csm=csm)
    client.force_login(csm)
    response = client.get(PAGE, {"q": "acme"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-suggestions")
    page = response.content.decode()
    assert "<html" not in page and "All results for “acme”" in page
    assert len(sections(response)["accounts"].hits) == 4 and sections(response)["accounts"].found == 9
    assert "HX-Request" in response["Vary"]
    empty = client.get(PAGE, {"q": "a"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="search-suggestions")
    assert empty.content.decode().strip() == ""


def bulk(tenant, count, *, csm):
    """`count` matching rows of each kind, in one INSERT per kind."""
    with tenant_context(tenant):
        start = Account.objects.count()
        accounts = Account.objects.bulk_create([Account(name=f"Acme {start + i:03d}", csm=csm) for i in range(count)])
        Contact.objects.bulk_create(
            [Contact(account=a, name=f"Person {i}", email=f"p{i}@acme.test") for i, a in enumerate(accounts)]
        )
        plans = SuccessPlan.objects.bulk_create(
            [SuccessPlan(account=a, title="Plan", period_start=TODAY, period_end=TODAY) for a in accounts]
        )
        Goal.objects.bulk_create(
            [
                Goal(
                    plan=p,
                    account=p.account,
                    title=f"Acme goal {i}",
                    measure="users",
                    baseline=0,
                    target=1,
                    current_value=0,
                    current_as_of=TODAY,
                    start_date=TODAY,
                    due_date=TODAY,
                )
                for i, p in enumerate(plans)
            ]
        )
        Task.objects.bulk_create(
            [
                Task(account=a, plan=p, owner=csm, title=f"Acme task {i}", due_date=TODAY)
                for i, (a, p) in enumerate(zip(accounts, plans, strict=True))
            ]
        )


def test_it_reads_with_a_fixed_number_of_queries_and_caps_the_counts(client, tenant_a, csm):
    bulk(tenant_a, 2, csm=csm)
    client.force_login(csm)
    client.get(PAGE, {"q": "acme"})  # warm the caches a first request fills
    with CaptureQueriesContext(connection) as few:
        response = client.get(PAGE, {"q": "acme"})
    assert {key: s.count_label for key, s in sections(response).items()} == dict.fromkeys(sections(response), "2")
    bulk(tenant_a, COUNT_CAP + 5, csm=csm)
    with CaptureQueriesContext(connection) as many:
        response = client.get(PAGE, {"q": "acme"})
    assert len(few) == len(many), [q["sql"] for q in many.captured_queries]
    found = sections(response)
    assert {key: s.count_label for key, s in found.items()} == dict.fromkeys(found, f"{COUNT_CAP}+")
    assert all(len(s.hits) == 10 for s in found.values())
    assert found["accounts"].see_all == "/t/alpha/accounts/?q=acme&csm="
    assert found["contacts"].see_all is None  # no filtered contact list page to send them to
    page = response.content.decode()
    assert "The first 10 of 50+: add a few letters to narrow them down." in page
    # the "see all" link lands on the account list filtered the same way
    assert "Acme 001" in client.get(found["accounts"].see_all).content.decode()
