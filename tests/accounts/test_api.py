"""The accounts REST API under /api/v1/: tenancy, roles, the object rule, validation and the bulk upsert."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.api.views import EscalationViewSet
from accounts.models import Account, Activity, Contact, Escalation, EscalationEvent
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from tests.api import Api, count, member, reload
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EscalationFactory,
    LifecycleStageFactory,
    SegmentFactory,
)


@pytest.fixture
def other_csm(tenant_a):
    return member(tenant_a, Role.CSM, "other-csm@alpha.test")


@pytest.fixture
def own_account(tenant_a, teammate):
    """The CSM `teammate`'s account."""
    return AccountFactory(tenant=tenant_a, csm=teammate, name="Initech")


@pytest.fixture
def others_account(tenant_a, other_csm):
    """Another CSM's account."""
    return AccountFactory(tenant=tenant_a, csm=other_csm, name="Umbrella")


# --- accounts: list, retrieve, create, update ---------------------------------------------------------


def test_it_lists_only_the_token_tenants_accounts_page_by_page(ops_api, tenant_a, tenant_b):
    AccountFactory.create_batch(51, tenant=tenant_a)
    AccountFactory(tenant=tenant_b, name="Bravo Secret Customer")
    first = ops_api.get("/accounts/").json()
    assert first["count"] == 51 and len(first["results"]) == 50 and first["next"]
    second = ops_api.get("/accounts/", {"page": 2}).json()
    assert len(second["results"]) == 1 and second["next"] is None
    names = [a["name"] for a in first["results"] + second["results"]]
    assert "Bravo Secret Customer" not in names
    assert len({a["id"] for a in first["results"] + second["results"]}) == 51


def test_it_filters_accounts_like_the_account_list_page(csm_api, tenant_a, teammate, own_account, others_account):
    enterprise = SegmentFactory(tenant=tenant_a, name="Enterprise")
    churned = AccountFactory(tenant=tenant_a, name="Gone Corp", status="churned", segment=enterprise)

    def names(params):
        response = csm_api.get("/accounts/", params)
        assert response.status_code == 200
        return [a["name"] for a in response.json()["results"]]

    assert names({"csm": "me"}) == ["Initech"]
    assert names({"status": "churned"}) == [churned.name]
    assert names({"segment": enterprise.pk}) == [churned.name]
    assert names({"q": "umbr"}) == ["Umbrella"]
    assert names({"external_id": own_account.external_id}) == ["Initech"]
    assert names({"ordering": "-name"}) == ["Umbrella", "Initech", "Gone Corp"]


def test_it_lists_accounts_without_more_queries_for_more_accounts(ops_api, tenant_a):
    segment, stage = SegmentFactory(tenant=tenant_a), LifecycleStageFactory(tenant=tenant_a)

    def accounts(n):
        # Each with its own CSM, so that reading a CSM per row would show as more queries.
        for _ in range(n):
            csm = member(tenant_a, Role.CSM, f"csm{count(Account, tenant_a)}@alpha.test")
            AccountFactory(tenant=tenant_a, csm=csm, segment=segment, stage=stage)

    accounts(3)
    ops_api.get("/accounts/")  # the token's first use also records when it was used
    with CaptureQueriesContext(connection) as few:
        assert ops_api.get("/accounts/").json()["count"] == 3
    accounts(22)
    with CaptureQueriesContext(connection) as many:
        assert ops_api.get("/accounts/").json()["count"] == 25
    assert len(many) <= len(few)


def test_it_retrieves_an_account(csm_api, tenant_a, teammate, own_account):
    body = csm_api.get(f"/accounts/{own_account.pk}/").json()
    assert body["name"] == "Initech" and body["csm"] == teammate.pk
    assert body["external_id"] == own_account.external_id and body["status"] == "active"


def test_it_creates_an_account_with_the_tenants_segment_stage_and_a_member_as_csm(ops_api, tenant_a, teammate):
    segment, stage = SegmentFactory(tenant=tenant_a, name="Enterprise"), LifecycleStageFactory(tenant=tenant_a)
    response = ops_api.post("/accounts/", {
        "name": "Hooli", "external_id": "CRM-1", "segment": segment.pk, "stage": stage.pk, "csm": teammate.pk,
        "licensed_seats": 120, "long_term_potential": "250000.50",
    })
    assert response.status_code == 201, response.json()
    with tenant_context(tenant_a):
        account = Account.objects.select_related("segment", "stage", "csm").get(pk=response.json()["id"])
    assert (account.name, account.segment, account.stage, account.csm) == ("Hooli", segment, stage, teammate)
    assert account.long_term_potential == Decimal("250000.50")
    assert response.json()["long_term_potential"] == "250000.50"


def test_it_answers_field_errors_for_an_invalid_account(ops_api, tenant_a, tenant_b, outsider, own_account):
    foreign_segment = SegmentFactory(tenant=tenant_b, name="Bravo only")
    response = ops_api.post("/accounts/", {
        "name": "", "segment": foreign_segment.pk, "csm": outsider.pk, "long_term_potential": "-5",
        "external_id": own_account.external_id, "churn_date": "2024-01-31",
    })
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"name", "segment", "csm", "long_term_potential", "external_id"}
    assert errors["segment"] == [f"No segment with id {foreign_segment.pk} in this workspace."]
    assert errors["csm"] == [f"User {outsider.pk} is not a member of this workspace."]
    assert errors["external_id"] == ["Another account already has this external id."]
    assert count(Account, tenant_a) == 1


def test_it_refuses_a_churn_date_on_an_active_account(ops_api, own_account):
    response = ops_api.post("/accounts/", {"name": "Hooli", "churn_date": "2024-01-31"})
    assert response.status_code == 400
    assert response.json() == {"churn_date": ["Only a churned account has a churn date."]}


def test_it_updates_an_account_partially_and_fully(ops_api, tenant_a, other_csm, own_account):
    patched = ops_api.patch(f"/accounts/{own_account.pk}/", {"csm": other_csm.pk, "status": "churned",
                                                              "churn_date": "2025-03-31"})
    assert patched.status_code == 200, patched.json()
    assert reload(own_account, tenant_a).csm == other_csm and own_account.status == "churned"
    put = ops_api.put(f"/accounts/{own_account.pk}/", {"name": "Initech Global", "status": "active"})
    assert put.status_code == 200, put.json()
    reload(own_account, tenant_a)
    assert own_account.name == "Initech Global" and own_account.status == "active"
    assert own_account.churn_date is None  # re-activating forgets the churn date


def test_it_refuses_to_make_an_account_its_own_parent(ops_api, own_account):
    response = ops_api.patch(f"/accounts/{own_account.pk}/", {"parent": own_account.pk})
    assert response.status_code == 400
    assert response.json() == {"parent": ["An account cannot be its own parent."]}


# --- tenancy and permissions --------------------------------------------------------------------------


@pytest.fixture
def alpha_objects(tenant_a, own_account):
    contact = ContactFactory(tenant=tenant_a, account=own_account, name="Alpha Contact")
    return {
        "accounts": own_account,
        "contacts": contact,
        "activities": ActivityFactory(tenant=tenant_a, account=own_account, subject="Alpha secret call"),
        "escalations": EscalationFactory(tenant=tenant_a, account=own_account, title="Alpha secret outage"),
    }


@pytest.mark.parametrize("resource, change", [
    ("accounts", {"name": "Taken over"}),
    ("contacts", {"name": "Taken over"}),
    ("activities", {"subject": "Taken over"}),
    ("escalations", {"title": "Taken over"}),
])
def test_it_answers_404_for_another_tenants_ids(outsider_api, ops_api, tenant_a, alpha_objects, resource, change):
    obj = alpha_objects[resource]
    assert ops_api.get(f"/{resource}/{obj.pk}/").status_code == 200
    seen = outsider_api.get(f"/{resource}/{obj.pk}/")
    assert seen.status_code == 404 and b"Alpha" not in seen.content
    assert outsider_api.patch(f"/{resource}/{obj.pk}/", change).status_code == 404
    assert outsider_api.get(f"/{resource}/").json()["count"] == 0
    field, _ = change.popitem()
    assert getattr(reload(obj, tenant_a), field) != "Taken over"


def test_it_refuses_another_tenants_account_in_a_filter_or_a_body(outsider_api, tenant_b, own_account):
    assert outsider_api.get("/contacts/", {"account": own_account.pk}).status_code == 400
    response = outsider_api.post("/contacts/", {"account": own_account.pk, "name": "Spy"})
    assert response.status_code == 400
    assert response.json() == {"account": [f"No account with id {own_account.pk} in this workspace."]}
    assert count(Contact, tenant_b) == 0


@pytest.mark.parametrize("method, path, data", [
    ("post", "/accounts/", {"name": "Exec Corp"}),
    ("patch", "/accounts/{account}/", {"name": "Renamed"}),
    ("post", "/contacts/", {"account": "{account}", "name": "Exec Contact"}),
    ("post", "/activities/", {"account": "{account}", "kind": "call", "subject": "Exec call"}),
    ("post", "/escalations/", {"account": "{account}", "title": "Exec escalation"}),
    ("post", "/accounts/bulk-upsert/", [{"external_id": "X-1", "name": "Exec Corp"}]),
])
def test_it_keeps_executives_read_only(executive_api, tenant_a, own_account, method, path, data):
    assert executive_api.get(f"/accounts/{own_account.pk}/").status_code == 200
    if isinstance(data, dict):
        data = {k: own_account.pk if v == "{account}" else v for k, v in data.items()}
    response = getattr(executive_api, method)(path.format(account=own_account.pk), data)
    assert response.status_code == 403
    assert reload(own_account, tenant_a).name == "Initech"
    assert count(Account, tenant_a) == 1 and count(Contact, tenant_a) == 0 and count(Activity, tenant_a) == 0


def test_it_forbids_a_csm_to_write_on_another_csms_account(csm_api, tenant_a, own_account, others_account):
    theirs = ContactFactory(tenant=tenant_a, account=others_account, name="Their Contact")
    refused = [
        csm_api.post("/contacts/", {"account": others_account.pk, "name": "Sneaky"}),
        csm_api.patch(f"/contacts/{theirs.pk}/", {"name": "Renamed"}),
        csm_api.post("/activities/", {"account": others_account.pk, "kind": "call", "subject": "Sneaky call"}),
        csm_api.post("/escalations/", {"account": others_account.pk, "title": "Sneaky escalation"}),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert "outside your book" in refused[0].json()["detail"]
    assert reload(theirs, tenant_a).name == "Their Contact"
    assert count(Contact, tenant_a) == 1 and count(Activity, tenant_a) == 0 and count(Escalation, tenant_a) == 0
    # ...while on their own account the same writes go through
    assert csm_api.post("/contacts/", {"account": own_account.pk, "name": "Mine"}).status_code == 201
    assert csm_api.post("/activities/", {"account": own_account.pk, "kind": "call", "subject": "Hi"}).status_code == 201


def test_it_lets_a_manager_edit_only_their_teams_accounts(client, tenant_a, others_account):
    manager = member(tenant_a, Role.MANAGER, "manager@alpha.test")
    report = member(tenant_a, Role.CSM, "report@alpha.test", manager=manager)
    team_account = AccountFactory(tenant=tenant_a, csm=report, name="Team Account")
    api = Api(client, tenant=tenant_a, user=manager)
    assert api.patch(f"/accounts/{team_account.pk}/", {"region": "APAC"}).status_code == 200
    assert api.patch(f"/accounts/{others_account.pk}/", {"region": "APAC"}).status_code == 403
    assert reload(team_account, tenant_a).region == "APAC" and reload(others_account, tenant_a).region == "EMEA"


def test_it_forbids_a_csm_to_edit_accounts(csm_api, tenant_a, own_account):
    assert csm_api.patch(f"/accounts/{own_account.pk}/", {"name": "Mine now"}).status_code == 403
    assert reload(own_account, tenant_a).name == "Initech"


# --- bulk upsert --------------------------------------------------------------------------------------


def bulk_items(teammate):
    return [
        {"external_id": "CRM-1", "name": "Hooli", "segment": "Enterprise", "stage": "Onboarding",
         "csm": teammate.email.upper(), "licensed_seats": 300},
        {"external_id": "CRM-2", "name": "Pied Piper", "segment": "SMB", "long_term_potential": "1200.75"},
    ]


def test_it_bulk_creates_then_updates_accounts_by_external_id(ops_api, tenant_a, teammate):
    response = ops_api.post("/accounts/bulk-upsert/", bulk_items(teammate))
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 2, "updated": 0}
    with tenant_context(tenant_a):
        hooli = Account.objects.select_related("segment", "stage").get(external_id="CRM-1")
        assert (hooli.segment.name, hooli.stage.name, hooli.csm, hooli.licensed_seats) == (
            "Enterprise", "Onboarding", teammate, 300
        )
        assert Account.objects.get(external_id="CRM-2").long_term_potential == Decimal("1200.75")

    again = bulk_items(teammate)
    again[0].update(name="Hooli XYZ", csm=None)
    again[1] = {"external_id": "CRM-2", "licensed_seats": 7}  # absent fields keep their value
    again.append({"external_id": "CRM-3", "name": "Raviga"})
    response = ops_api.post("/accounts/bulk-upsert/", again)
    assert response.json() == {"created": 1, "updated": 2}
    with tenant_context(tenant_a):
        assert Account.objects.count() == 3
        hooli.refresh_from_db()
        assert hooli.name == "Hooli XYZ" and hooli.csm is None
        piper = Account.objects.get(external_id="CRM-2")
        assert (piper.name, piper.licensed_seats, piper.segment.name) == ("Pied Piper", 7, "SMB")


def test_it_rejects_the_whole_batch_when_one_item_is_invalid(ops_api, tenant_a, teammate, own_account):
    items = [
        {"external_id": own_account.external_id, "name": "Renamed by import"},
        {"external_id": "CRM-9", "name": "Fine Corp"},
        {"external_id": "CRM-10", "name": "Bad Corp", "segment": "Nonexistent", "csm": "nobody@alpha.test"},
        {"name": "No key"},
        {"external_id": "CRM-11"},
        {"external_id": "CRM-9", "name": "Fine Corp again"},
        "not an object",
    ]
    response = ops_api.post("/accounts/bulk-upsert/", items)
    assert response.status_code == 400
    errors = {e["index"]: e for e in response.json()["errors"]}
    assert set(errors) == {2, 3, 4, 5, 6}
    assert errors[2]["external_id"] == "CRM-10"
    assert errors[2]["fields"] == {
        "segment": ["No segment 'Nonexistent' in this workspace."],
        "csm": ["No member with email 'nobody@alpha.test' in this workspace."],
    }
    assert errors[3]["fields"] == {"external_id": ["This field is required."]}
    assert errors[4]["fields"] == {"name": ["A new account needs a name."]}
    assert errors[5]["fields"] == {"external_id": ["Also at index 1: send each account once per batch."]}
    assert errors[6]["external_id"] is None and "non_field_errors" in errors[6]["fields"]
    assert count(Account, tenant_a) == 1
    assert reload(own_account, tenant_a).name == "Initech"


def test_it_refuses_a_bulk_upsert_that_is_not_a_list_or_too_long(ops_api, tenant_a):
    assert ops_api.post("/accounts/bulk-upsert/", {"external_id": "CRM-1"}).json() == {
        "detail": "Send a JSON list of accounts."
    }
    too_many = [{"external_id": f"CRM-{i}", "name": f"Account {i}"} for i in range(1001)]
    response = ops_api.post("/accounts/bulk-upsert/", too_many)
    assert response.status_code == 400 and "At most 1000" in response.json()["detail"]
    assert count(Account, tenant_a) == 0


def test_it_refuses_a_bulk_update_of_another_teams_account_and_writes_nothing(client, tenant_a, others_account):
    manager = member(tenant_a, Role.MANAGER, "manager@alpha.test")
    api = Api(client, tenant=tenant_a, user=manager)
    response = api.post("/accounts/bulk-upsert/", [
        {"external_id": "NEW-1", "name": "New Corp"},
        {"external_id": others_account.external_id, "name": "Taken over"},
    ])
    assert response.status_code == 403
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert count(Account, tenant_a) == 1 and reload(others_account, tenant_a).name == "Umbrella"


# --- contacts -----------------------------------------------------------------------------------------


def test_it_filters_contacts_by_account_persona_and_email(csm_api, tenant_a, own_account, others_account):
    ContactFactory(tenant=tenant_a, account=own_account, name="Ann Champion", persona="champion",
                   email="ann@initech.test")
    ContactFactory(tenant=tenant_a, account=own_account, name="Bob User", persona="end_user")
    ContactFactory(tenant=tenant_a, account=others_account, name="Cy Champion", persona="champion")

    def names(params):
        return [c["name"] for c in csm_api.get("/contacts/", params).json()["results"]]

    assert names({"account": own_account.pk}) == ["Ann Champion", "Bob User"]
    assert names({"persona": "champion"}) == ["Ann Champion", "Cy Champion"]
    assert names({"email": "ANN@initech.test"}) == ["Ann Champion"]
    assert names({"account": own_account.pk, "persona": "end_user"}) == ["Bob User"]


def test_it_creates_and_updates_a_contact(csm_api, tenant_a, own_account):
    boss = ContactFactory(tenant=tenant_a, account=own_account, name="Boss")
    created = csm_api.post("/contacts/", {"account": own_account.pk, "name": "Dana", "email": "dana@initech.test",
                                          "persona": "champion", "reports_to": boss.pk})
    assert created.status_code == 201, created.json()
    contact_id = created.json()["id"]
    updated = csm_api.patch(f"/contacts/{contact_id}/", {"sentiment": "positive", "title": "VP"})
    assert updated.status_code == 200
    with tenant_context(tenant_a):
        dana = Contact.objects.get(pk=contact_id)
    assert (dana.account_id, dana.reports_to_id, dana.persona, dana.sentiment, dana.title) == (
        own_account.pk, boss.pk, "champion", "positive", "VP"
    )


def test_it_answers_field_errors_for_an_invalid_contact(csm_api, tenant_a, own_account, others_account):
    stranger = ContactFactory(tenant=tenant_a, account=others_account, name="Stranger")
    mine = ContactFactory(tenant=tenant_a, account=own_account, name="Mine")
    response = csm_api.post("/contacts/", {"account": own_account.pk, "name": "Eve", "email": "not-an-email",
                                           "persona": "boss", "reports_to": stranger.pk})
    assert response.status_code == 400
    assert set(response.json()) == {"email", "persona"}
    response = csm_api.post("/contacts/", {"account": own_account.pk, "name": "Eve", "reports_to": stranger.pk})
    assert response.json() == {"reports_to": ["Stranger does not work at Initech."]}
    moved = csm_api.patch(f"/contacts/{mine.pk}/", {"account": others_account.pk})
    assert moved.json() == {"account": ["A contact cannot move to another account."]}
    assert reload(mine, tenant_a).account_id == own_account.pk and count(Contact, tenant_a) == 2


# --- activities ---------------------------------------------------------------------------------------


def test_it_logs_an_activity_that_moves_last_touch_and_last_engaged(csm_api, tenant_a, teammate, own_account):
    contact = ContactFactory(tenant=tenant_a, account=own_account)
    when = timezone.now() - timedelta(hours=2)
    response = csm_api.post("/activities/", {
        "account": own_account.pk, "kind": "meeting", "subject": "QBR prep", "occurred_at": when.isoformat(),
        "contacts": [contact.pk], "minutes_spent": 45, "next_step": "Send deck",
    })
    assert response.status_code == 201, response.json()
    assert response.json()["logged_by"] == teammate.pk and response.json()["contacts"] == [contact.pk]
    assert reload(own_account, tenant_a).last_touch_at == when
    assert reload(contact, tenant_a).last_engaged_at == when


def test_it_rejects_an_activity_contact_of_another_account(csm_api, tenant_a, own_account, others_account):
    stranger = ContactFactory(tenant=tenant_a, account=others_account, name="Stranger")
    response = csm_api.post("/activities/", {
        "account": own_account.pk, "kind": "call", "subject": "Call", "contacts": [stranger.pk],
    })
    assert response.status_code == 400
    assert response.json() == {"contacts": [f"Stranger (id {stranger.pk}): not a contact of Initech."]}
    assert count(Activity, tenant_a) == 0 and reload(own_account, tenant_a).last_touch_at is None


def test_it_answers_field_errors_for_an_invalid_activity(csm_api, tenant_a, own_account):
    response = csm_api.post("/activities/", {"account": own_account.pk, "kind": "telepathy", "minutes_spent": -1})
    assert response.status_code == 400
    assert set(response.json()) == {"kind", "subject", "minutes_spent"}
    assert count(Activity, tenant_a) == 0


def test_it_filters_activities_by_account_kind_author_and_time(csm_api, tenant_a, teammate, owner, own_account,
                                                                others_account):
    now = timezone.now()
    ActivityFactory(tenant=tenant_a, account=own_account, subject="Old call", occurred_at=now - timedelta(days=10),
                    logged_by=teammate)
    ActivityFactory(tenant=tenant_a, account=own_account, subject="Recent email", kind="email",
                    occurred_at=now - timedelta(days=1), logged_by=owner)
    ActivityFactory(tenant=tenant_a, account=others_account, subject="Their call", occurred_at=now,
                    logged_by=owner)

    def subjects(params):
        response = csm_api.get("/activities/", params)
        assert response.status_code == 200, response.json()
        return [a["subject"] for a in response.json()["results"]]

    assert subjects({"account": own_account.pk}) == ["Recent email", "Old call"]
    assert subjects({"kind": "email"}) == ["Recent email"]
    assert subjects({"logged_by": owner.pk}) == ["Their call", "Recent email"]
    week_ago, an_hour_ago = (now - timedelta(days=7)).isoformat(), (now - timedelta(hours=1)).isoformat()
    assert subjects({"occurred_after": week_ago, "occurred_before": an_hour_ago}) == ["Recent email"]
    assert csm_api.get("/activities/", {"occurred_after": "last tuesday"}).status_code == 400


def test_it_edits_an_activity_and_who_took_part(csm_api, tenant_a, own_account):
    old, new = ContactFactory.create_batch(2, tenant=tenant_a, account=own_account)
    activity = csm_api.post("/activities/", {"account": own_account.pk, "kind": "call", "subject": "Call",
                                             "contacts": [old.pk]}).json()
    response = csm_api.patch(f"/activities/{activity['id']}/", {"contacts": [new.pk], "next_step_done": True})
    assert response.status_code == 200, response.json()
    assert response.json()["contacts"] == [new.pk]
    with tenant_context(tenant_a):
        saved = Activity.objects.get(pk=activity["id"])
        assert list(saved.contacts.all()) == [new] and saved.next_step_done
    assert reload(new, tenant_a).last_engaged_at == saved.occurred_at


# --- escalations --------------------------------------------------------------------------------------


def test_it_opens_an_escalation_and_moves_it_with_a_trail(csm_api, tenant_a, teammate, owner, own_account):
    opened = csm_api.post("/escalations/", {"account": own_account.pk, "title": "Exports fail", "severity": "high",
                                            "escalated_to": owner.pk})
    assert opened.status_code == 201, opened.json()
    escalation = opened.json()
    assert escalation["status"] == "open" and escalation["owner"] == teammate.pk
    assert [e["to_status"] for e in escalation["events"]] == ["open"]

    moved = csm_api.patch(f"/escalations/{escalation['id']}/", {"status": "investigating", "note": "Logs pulled"})
    assert moved.status_code == 200, moved.json()
    refused = csm_api.patch(f"/escalations/{escalation['id']}/", {"status": "resolved"})
    assert refused.status_code == 400 and refused.json() == {"resolution": ["Say how it was resolved."]}
    resolved = csm_api.patch(f"/escalations/{escalation['id']}/", {"status": "resolved", "resolution": "Hotfix"})
    assert resolved.status_code == 200
    assert resolved.json()["closed_at"] and resolved.json()["resolution"] == "Hotfix"

    trail = [(e["from_status"], e["to_status"], e["note"], e["by"]) for e in resolved.json()["events"]]
    assert trail == [
        ("", "open", "", teammate.pk),
        ("open", "investigating", "Logs pulled", teammate.pk),
        ("investigating", "resolved", "", teammate.pk),
    ]
    assert csm_api.get("/escalations/", {"status": "resolved"}).json()["count"] == 1


def test_it_answers_field_errors_for_an_invalid_escalation(csm_api, tenant_a, outsider, own_account):
    response = csm_api.post("/escalations/", {"account": own_account.pk, "title": "", "severity": "apocalyptic",
                                              "escalated_to": outsider.pk})
    assert response.status_code == 400
    assert set(response.json()) == {"title", "severity", "escalated_to"}
    escalation = EscalationFactory(tenant=tenant_a, account=own_account)
    response = csm_api.patch(f"/escalations/{escalation.pk}/", {"status": "closed"})
    assert response.status_code == 400 and set(response.json()) == {"status"}
    response = csm_api.patch(f"/escalations/{escalation.pk}/", {"note": "Just a note"})
    assert response.status_code == 400 and set(response.json()) == {"note"}
    assert count(EscalationEvent, tenant_a) == 0


def test_it_answers_409_when_someone_else_moved_the_escalation_first(monkeypatch, csm_api, tenant_a, own_account):
    escalation = EscalationFactory(tenant=tenant_a, account=own_account, title="Outage")
    fetch = EscalationViewSet.get_object

    def fetch_then_a_colleague_moves_it(view):
        seen = fetch(view)
        Escalation.objects.filter(pk=seen.pk).update(status=Escalation.Status.WAITING)
        return seen

    monkeypatch.setattr(EscalationViewSet, "get_object", fetch_then_a_colleague_moves_it)
    response = csm_api.patch(f"/escalations/{escalation.pk}/", {"status": "investigating", "title": "Big outage"})
    assert response.status_code == 409
    assert response.json() == {"detail": "This escalation was changed meanwhile; reload it."}
    reload(escalation, tenant_a)
    assert escalation.status == "waiting" and escalation.title == "Outage"
    assert count(EscalationEvent, tenant_a) == 0


def test_it_documents_the_accounts_api_in_the_schema(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    for path in ("/api/v1/accounts/", "/api/v1/accounts/bulk-upsert/", "/api/v1/contacts/{id}/",
                 "/api/v1/activities/", "/api/v1/escalations/{id}/"):
        assert path.encode() in schema.content
