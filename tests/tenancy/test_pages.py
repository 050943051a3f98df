from django.urls import reverse

from csplatform.tenancy.models import Role
from tests.factories import JobRunFactory, MembershipFactory


def test_it_sends_anonymous_visitors_to_login(client, tenant_a):
    response = client.get("/t/alpha/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_workspace_to_a_member(client, tenant_a, owner, teammate):
    client.force_login(teammate)
    response = client.get("/t/alpha/", follow=True)  # a CSM's home is My work
    assert response.status_code == 200 and response.redirect_chain == [("/t/alpha/plans/my-work/", 302)]
    assert b"Alpha Inc" in response.content
    assert b"owner@alpha.test" in client.get("/t/alpha/members/").content


def test_it_answers_404_to_a_non_member(client, tenant_a, outsider):
    client.force_login(outsider)
    assert client.get("/t/alpha/").status_code == 404


def test_it_answers_404_for_an_unknown_tenant(client, owner):
    client.force_login(owner)
    assert client.get("/t/no-such-tenant/").status_code == 404


def test_it_answers_404_for_a_deactivated_tenant(client, tenant_a, owner):
    tenant_a.is_active = False
    tenant_a.save()
    client.force_login(owner)
    assert client.get("/t/alpha/").status_code == 404


def test_it_answers_404_for_another_tenants_job_run_through_my_workspace(client, tenant_a, tenant_b, outsider):
    theirs = JobRunFactory(tenant=tenant_a, error="alpha secret")
    mine = JobRunFactory(tenant=tenant_b)
    client.force_login(outsider)
    assert client.get(f"/t/bravo/ops/jobs/{mine.pk}/").status_code == 200
    response = client.get(f"/t/bravo/ops/jobs/{theirs.pk}/")
    assert response.status_code == 404
    assert b"alpha secret" not in response.content


def test_it_lets_a_member_of_two_tenants_switch(client, tenant_a, tenant_b, owner):
    MembershipFactory(tenant=tenant_b, user=owner, role=Role.CSM)
    client.force_login(owner)
    picker = client.get("/")
    assert picker.status_code == 200
    assert b"/t/alpha/" in picker.content and b"/t/bravo/" in picker.content
    page = client.get("/t/bravo/", follow=True)
    assert b"Bravo Ltd" in page.content and b"Switch workspace" in page.content


def test_it_goes_straight_to_the_only_workspace(client, tenant_a, owner):
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/t/alpha/"


def test_it_logs_in_with_email_and_password(client, tenant_a, owner):
    response = client.post(reverse("login"), {"username": "owner@alpha.test", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get("/t/alpha/", follow=True).status_code == 200


def test_it_says_why_a_login_failed(client, owner):
    response = client.post(reverse("login"), {"username": "owner@alpha.test", "password": "wrong"})
    assert response.status_code == 200
    assert b"correct email" in response.content or b"Please enter a correct" in response.content
