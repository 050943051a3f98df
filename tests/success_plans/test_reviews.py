# ruff: noqa: F811  (the shared fixtures of tests/accounts/conftest.py are imported below, then requested by name)
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from success_plans import services
from success_plans.models import BusinessReview, Decision
from tests.accounts.conftest import account, executive, foreign_account, other_csm, others_account  # noqa: F401
from tests.factories import ContactFactory, GoalFactory, SuccessPlanFactory

BASE = "/t/alpha/reviews"


def _review(tenant, account, days_ago=0, **extra):
    with tenant_context(tenant):
        return services.review_create(account=account, kind="qbr",
                                      held_on=timezone.localdate() - timedelta(days=days_ago), **extra)


def test_it_creates_a_review_with_attendees_from_the_account(client, tenant_a, account, csm, manager):
    sponsor = ContactFactory(tenant=tenant_a, account=account, name="Vera Sponsor")
    client.force_login(csm)
    form = client.get(f"{BASE}/new/?account={account.pk}")
    assert form.status_code == 200 and b"Vera Sponsor" in form.content
    response = client.post(f"{BASE}/new/?account={account.pk}", {
        "kind": "ebr", "held_on": timezone.localdate().isoformat(), "agenda": "Roadmap",
        "contacts": [sponsor.pk], "users": [csm.pk, manager.pk]})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        review = BusinessReview.objects.get(account=account)
        assert review.kind == "ebr"
        assert list(review.contacts.all()) == [sponsor]
        assert set(review.users.all()) == {csm, manager}
    page = client.get(response["Location"]).content.decode()
    assert "Vera Sponsor" in page and "Maya Manager" in page


def test_it_rejects_an_invalid_review_with_errors(client, account, csm):
    client.force_login(csm)
    response = client.post(f"{BASE}/new/?account={account.pk}", {"kind": "qbr", "held_on": "not a date"})
    assert response.status_code == 400 and b"Enter a valid date" in response.content


def test_it_carries_an_open_decision_forward_until_it_is_done(client, tenant_a, account, csm):
    first = _review(tenant_a, account, days_ago=90)
    second = _review(tenant_a, account, days_ago=0)
    client.force_login(csm)
    added = client.post(f"{BASE}/{first.pk}/decisions/", {"text": "Roll out SSO to all teams", "owner": csm.pk},
                        HTTP_HX_REQUEST="true")
    assert added.status_code == 200 and b"Roll out SSO" in added.content and b"<html" not in added.content
    later = client.get(f"{BASE}/{second.pk}/").content.decode()
    assert "Carried forward" in later and "Roll out SSO to all teams" in later
    with tenant_context(tenant_a):
        decision = Decision.objects.get()
    closed = client.post(f"{BASE}/{second.pk}/decisions/{decision.pk}/close/", {"status": "done"},
                         HTTP_HX_REQUEST="true")
    assert closed.status_code == 200
    assert "Roll out SSO" not in client.get(f"{BASE}/{second.pk}/").content.decode()
    with tenant_context(tenant_a):
        assert Decision.objects.get().status == "done"
    # closing twice is refused (compare-and-set), and says so
    again = client.post(f"{BASE}/{second.pk}/decisions/{decision.pk}/close/", {"status": "dropped"},
                        HTTP_HX_REQUEST="true")
    assert b"closed this decision already" in again.content
    with tenant_context(tenant_a):
        assert Decision.objects.get().status == "done"


def test_an_invalid_decision_answers_400_with_the_form(client, tenant_a, account, csm):
    review = _review(tenant_a, account)
    client.force_login(csm)
    response = client.post(f"{BASE}/{review.pk}/decisions/", {"text": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and b"This field is required" in response.content


def test_the_pack_shows_goals_value_and_decisions(client, tenant_a, account, csm):
    plan = SuccessPlanFactory(tenant=tenant_a, account=account)
    GoalFactory(tenant=tenant_a, plan=plan, title="Grow weekly active users", baseline=100, target=200,
                current_value=150)
    earlier = _review(tenant_a, account, days_ago=60)
    review = _review(tenant_a, account)
    with tenant_context(tenant_a):
        services.value_record(account=account, by=csm, kind="cost_avoidance", amount=Decimal("12500"),
                              realised_on=timezone.localdate(), how_measured="Fewer support tickets")
        services.decision_add(review=earlier, text="Train the admins")
        services.decision_add(review=review, text="Expand to the Berlin office")
    client.force_login(csm)
    response = client.get(f"{BASE}/{review.pk}/pack/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Grow weekly active users" in page and "50%" in page
    assert "12,500" in page or "12500" in page
    assert "Train the admins" in page and "Expand to the Berlin office" in page
    assert "@media print" in page


def test_a_csm_cannot_write_on_another_csms_account(client, tenant_a, others_account, csm):
    review = _review(tenant_a, others_account)
    client.force_login(csm)
    assert client.get(f"{BASE}/new/?account={others_account.pk}").status_code == 403
    assert client.post(f"{BASE}/{review.pk}/decisions/", {"text": "Nope"}).status_code == 403
    assert client.get(f"{BASE}/{review.pk}/").status_code == 200  # reading is for everyone


def test_an_executive_reads_but_does_not_write(client, tenant_a, account, executive):
    review = _review(tenant_a, account)
    client.force_login(executive)
    page = client.get(f"{BASE}/{review.pk}/")
    assert page.status_code == 200 and b"Add decision" not in page.content
    assert client.get(f"{BASE}/{review.pk}/pack/").status_code == 200
    assert client.get(f"{BASE}/").status_code == 200
    assert client.post(f"{BASE}/{review.pk}/decisions/", {"text": "Nope"}).status_code == 403
    assert client.get(f"{BASE}/new/?account={account.pk}").status_code == 403


def test_another_tenants_review_answers_404(client, tenant_b, foreign_account, manager):
    review = _review(tenant_b, foreign_account)
    client.force_login(manager)
    assert client.get(f"{BASE}/{review.pk}/").status_code == 404
    assert client.get(f"{BASE}/{review.pk}/pack/").status_code == 404
    assert client.post(f"{BASE}/{review.pk}/decisions/", {"text": "x"}).status_code == 404
    assert client.get(f"{BASE}/new/?account={foreign_account.pk}").status_code == 404


def test_the_list_filters_upcoming_and_past(client, tenant_a, account, others_account, csm):
    _review(tenant_a, account, days_ago=-10, agenda="future")
    _review(tenant_a, others_account, days_ago=10)
    client.force_login(csm)

    def table(url):
        return client.get(url).content.decode().split("<table>")[-1]

    upcoming = table(f"{BASE}/?when=upcoming")
    assert "Initech" in upcoming and "Umbrella" not in upcoming
    past = table(f"{BASE}/?when=past")
    assert "Umbrella" in past and "Initech" not in past
    only = table(f"{BASE}/?account={others_account.pk}")
    assert "Umbrella" in only and "Initech" not in only


def test_it_edits_a_review_after_the_meeting_and_keeps_its_decisions(client, tenant_a, account, others_account,
                                                                      csm):
    sponsor = ContactFactory(tenant=tenant_a, account=account, name="Vera Sponsor")
    stranger = ContactFactory(tenant=tenant_a, account=others_account)
    with tenant_context(tenant_a):
        review = services.review_create(account=account, kind="qbr", held_on=timezone.localdate())
        services.decision_add(review=review, text="Roll out SSO")
    client.force_login(csm)
    url = f"/t/alpha/reviews/{review.pk}/edit/"
    form = {"kind": "ebr", "held_on": timezone.localdate().isoformat(), "notes": "Budget approved"}
    assert client.post(url, {**form, "contacts": [stranger.pk]}).status_code == 400
    assert client.post(url, {**form, "contacts": [sponsor.pk], "users": [csm.pk]}).status_code == 302
    with tenant_context(tenant_a):
        review.refresh_from_db()
        assert (review.kind, review.notes) == ("ebr", "Budget approved")
        assert list(review.contacts.all()) == [sponsor] and list(review.users.all()) == [csm]
        assert Decision.objects.filter(review=review).count() == 1


def test_only_writers_edit_a_review(client, tenant_a, others_account, csm):
    with tenant_context(tenant_a):
        review = services.review_create(account=others_account, kind="qbr", held_on=timezone.localdate())
    client.force_login(csm)
    assert client.get(f"/t/alpha/reviews/{review.pk}/edit/").status_code == 403
