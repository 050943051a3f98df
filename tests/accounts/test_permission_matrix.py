"""Role x action for the account pages, both ways: what is allowed works, what is denied is refused."""

import pytest
from django.utils import timezone

from csplatform.tenancy.models import Role
from tests.factories import AccountFactory, MembershipFactory

# who: the member's role and whose account they act on ("own": theirs or their team's; "other": another CSM's)
WHO = {
    "csm_own": (Role.CSM, "own"),
    "csm_other": (Role.CSM, "other"),
    "manager_team": (Role.MANAGER, "own"),
    "manager_other": (Role.MANAGER, "other"),
    "ops": (Role.OPS, "other"),
    "admin": (Role.ADMIN, "other"),
    "executive": (Role.EXECUTIVE, "other"),
}

ALLOWED = {
    "list": set(WHO),
    "view_account": set(WHO),
    "log_activity": {"csm_own", "manager_team", "ops", "admin"},
    "add_contact": {"csm_own", "manager_team", "ops", "admin"},
    "escalate": {"csm_own", "manager_team", "ops", "admin"},
    "edit_account": {"manager_team", "ops", "admin"},
    "create_account": {"manager_team", "manager_other", "ops", "admin"},
    "team_timesheet": {"manager_team", "manager_other", "ops", "admin"},
    "book": {"manager_team", "manager_other", "ops", "admin", "executive"},
}


def request_for(action, client, account):
    base = "/t/alpha/accounts"
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return {
        "list": lambda: client.get(f"{base}/"),
        "view_account": lambda: client.get(f"{base}/{account.pk}/"),
        "log_activity": lambda: client.post(f"{base}/{account.pk}/activities/",
                                            {"kind": "call", "subject": "s", "occurred_at": now, "minutes_spent": 5}),
        "add_contact": lambda: client.get(f"{base}/{account.pk}/contacts/new/"),
        "escalate": lambda: client.get(f"{base}/{account.pk}/escalations/new/"),
        "edit_account": lambda: client.get(f"{base}/{account.pk}/edit/"),
        "create_account": lambda: client.get(f"{base}/new/"),
        "team_timesheet": lambda: client.get(f"{base}/timesheet/?user=team"),
        "book": lambda: client.get(f"{base}/book/"),
    }[action]()


@pytest.mark.parametrize("who", list(WHO))
@pytest.mark.parametrize("action", list(ALLOWED))
def test_the_role_matrix(client, tenant_a, who, action):
    role, whose = WHO[who]
    member = MembershipFactory(tenant=tenant_a, role=role).user
    owner_csm = MembershipFactory(tenant=tenant_a, role=Role.CSM, manager=member if role == Role.MANAGER else None)
    account_csm = (member if role == Role.CSM else owner_csm.user) if whose == "own" else \
        MembershipFactory(tenant=tenant_a, role=Role.CSM).user
    account = AccountFactory(tenant=tenant_a, csm=account_csm)
    client.force_login(member)
    status = request_for(action, client, account).status_code
    if who in ALLOWED[action]:
        assert status in (200, 302), f"{who} should be allowed to {action}, got {status}"
    else:
        assert status == 403, f"{who} should be refused {action}, got {status}"
