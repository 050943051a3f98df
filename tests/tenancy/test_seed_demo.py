from io import StringIO

from django.core.management import call_command

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Membership, Role, Tenant


def test_it_seeds_two_tenants_with_every_role_and_can_run_again(db, settings):
    settings.DEMO_PASSWORD = "demo-pass-for-test"
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    assert set(Tenant.objects.values_list("slug", flat=True)) == {"acme", "globex"}
    for tenant in Tenant.objects.all():
        roles = set(Membership.objects.filter(tenant=tenant).values_list("role", flat=True))
        assert roles == set(Role.values)
        with tenant_context(tenant):
            assert JobRun.objects.filter(status="succeeded").exists()
    assert "demo-pass-for-test" in out.getvalue() and "csm1@acme.example" in out.getvalue()
    assert Membership.objects.filter(user__email="consultant@example.com").count() == 2


def test_demo_users_can_log_in(client, demo_tenants, db):
    # Through the login page: django-axes checks every password login, and it needs the request.
    response = client.post("/login/", {"username": "csm1@acme.example", "password": "demo-pass-for-test"})
    assert response.status_code == 302
    assert client.get("/t/acme/", follow=True).status_code == 200  # lands on the CSM's home, My work
    assert client.get("/t/globex/").status_code == 404
