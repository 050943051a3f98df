# ruff: noqa: F811  (the shared fixtures of tests/accounts/conftest.py are imported below, then requested by name)
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from success_plans import services
from success_plans.markdown import render_markdown
from success_plans.models import Advocacy, FeedbackAccount, Playbook, PlaybookStep, ProcessDoc, ProductFeedback, Task
from tests.accounts.conftest import account, executive, foreign_account, other_csm, others_account  # noqa: F401
from tests.factories import AccountFactory, ContactFactory, MembershipFactory

BASE = "/t/alpha/programs"


@pytest.fixture
def ops(tenant_a):
    return MembershipFactory(tenant=tenant_a, role=Role.OPS, user__email="ops@alpha.test",
                             user__full_name="Otto Ops").user


def _steps(*rows):
    data = {"steps-TOTAL_FORMS": str(len(rows)), "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000"}
    for i, (position, title, offset) in enumerate(rows):
        data.update({f"steps-{i}-position": position, f"steps-{i}-title": title, f"steps-{i}-day_offset": offset,
                     f"steps-{i}-type": "onboarding", f"steps-{i}-priority": "high"})
    return data


def _playbook(tenant, name="Onboarding", steps=(("Kick-off call", 0), ("Admin training", 7))):
    with tenant_context(tenant):
        playbook = Playbook.objects.create(name=name)
        for position, (title, offset) in enumerate(steps):
            PlaybookStep.objects.create(playbook=playbook, title=title, day_offset=offset, position=position)
        return playbook


# playbooks

def test_ops_create_a_playbook_with_ordered_steps(client, tenant_a, ops):
    client.force_login(ops)
    response = client.post(f"{BASE}/playbooks/new/", {
        "name": "Onboarding", "description": "First 30 days", "is_active": "on",
        **_steps(("2", "Admin training", "14"), ("1", "Kick-off call", "0"))})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert page.index("Kick-off call") < page.index("Admin training")
    assert "day 14" in page


def test_only_ops_edit_playbooks(client, tenant_a, csm, manager, ops):
    playbook = _playbook(tenant_a)
    for user in (csm, manager):
        client.force_login(user)
        assert client.get(f"{BASE}/playbooks/new/").status_code == 403
        assert client.post(f"{BASE}/playbooks/{playbook.pk}/edit/", {"name": "Hijacked"}).status_code == 403
        page = client.get(f"{BASE}/playbooks/{playbook.pk}/")
        assert page.status_code == 200 and b"Edit playbook" not in page.content
    client.force_login(ops)
    assert client.get(f"{BASE}/playbooks/{playbook.pk}/edit/").status_code == 200


def test_applying_a_playbook_by_hand_creates_tasks_for_the_accounts_csm(client, tenant_a, account, csm):
    playbook = _playbook(tenant_a)
    client.force_login(csm)
    response = client.post(f"{BASE}/playbooks/{playbook.pk}/apply/", {"account": account.pk})
    assert response.status_code == 302 and response["Location"] == f"/t/alpha/accounts/{account.pk}/"
    today = timezone.localdate()
    with tenant_context(tenant_a):
        tasks = {t.title: t for t in Task.objects.filter(account=account)}
    assert set(tasks) == {"Kick-off call", "Admin training"}
    assert all(t.owner_id == csm.pk and t.source == "playbook" for t in tasks.values())
    assert tasks["Kick-off call"].due_date == today
    assert tasks["Admin training"].due_date == today + timedelta(days=7)
    assert b"By hand" in client.get(f"{BASE}/playbooks/{playbook.pk}/").content


def test_a_csm_cannot_apply_a_playbook_to_another_csms_account(client, tenant_a, others_account, csm, executive):
    playbook = _playbook(tenant_a)
    client.force_login(csm)
    assert client.post(f"{BASE}/playbooks/{playbook.pk}/apply/", {"account": others_account.pk}).status_code == 403
    client.force_login(executive)
    assert client.post(f"{BASE}/playbooks/{playbook.pk}/apply/", {"account": others_account.pk}).status_code == 403
    with tenant_context(tenant_a):
        assert not Task.objects.exists()


# advocacy

def test_it_records_advocacy_from_an_account(client, tenant_a, account, csm):
    champion = ContactFactory(tenant=tenant_a, account=account, name="Carl Champion")
    stranger = ContactFactory(tenant=tenant_a, name="Somebody Else")
    client.force_login(csm)
    url = f"{BASE}/advocacy/new/?account={account.pk}"
    assert b"Somebody Else" not in client.get(url).content
    data = {"kind": "reference", "contact": champion.pk, "status": "completed",
            "happened_on": timezone.localdate().isoformat(), "notes": "Call with a prospect"}
    assert client.post(url, {**data, "contact": stranger.pk}).status_code == 400
    assert client.post(url, data).status_code == 302
    with tenant_context(tenant_a):
        advocacy = Advocacy.objects.get()
    assert advocacy.contact_id == champion.pk and advocacy.captured_by_id == csm.pk
    assert b"Carl Champion" in client.get(f"{BASE}/advocacy/?kind=reference").content
    assert b"Carl Champion" not in client.get(f"{BASE}/advocacy/?kind=referral").content


def test_advocacy_is_counted_per_csm_and_kind(client, tenant_a, account, others_account, csm, other_csm, manager):
    today = timezone.localdate()
    with tenant_context(tenant_a):
        for kind in ("reference", "reference", "case_study"):
            services.advocacy_record(account=account, by=csm, kind=kind, happened_on=today)
        services.advocacy_record(account=others_account, by=other_csm, kind="referral", happened_on=today)
        services.advocacy_record(account=account, by=csm, kind="review", happened_on=today.replace(year=today.year - 1))
    client.force_login(manager)
    page = client.get(f"{BASE}/advocacy/per-csm/?year={today.year}").content.decode()

    def cells(name):
        row = page.split(f"{name}</th>")[1].split("</tr>")[0]
        return re.findall(r"<td>(?:<strong>)?(\d+)", row)

    # columns: reference, case study, referral, review, community, total
    assert cells("Chris Carter") == ["2", "1", "0", "0", "0", "3"]
    assert cells("Olga Other") == ["0", "0", "1", "0", "0", "1"]


def test_a_csm_cannot_record_advocacy_on_another_csms_account(client, others_account, csm, executive):
    client.force_login(csm)
    assert client.get(f"{BASE}/advocacy/new/?account={others_account.pk}").status_code == 403
    client.force_login(executive)
    assert client.get(f"{BASE}/advocacy/new/?account={others_account.pk}").status_code == 403
    assert client.get(f"{BASE}/advocacy/").status_code == 200
    assert client.get(f"{BASE}/advocacy/per-csm/").status_code == 200


# product feedback

def test_feedback_is_ranked_by_the_number_of_accounts_asking(client, tenant_a, account, others_account, manager):
    third = AccountFactory(tenant=tenant_a, name="Third Co")
    with tenant_context(tenant_a):
        rare = ProductFeedback.objects.create(title="Dark mode", product_area="UI")
        popular = ProductFeedback.objects.create(title="SAML SSO", product_area="Security")
        FeedbackAccount.objects.create(feedback=rare, account=account)
        for a in (account, others_account, third):
            FeedbackAccount.objects.create(feedback=popular, account=a)
    client.force_login(manager)
    page = client.get(f"{BASE}/feedback/").content.decode()
    assert page.index("SAML SSO") < page.index("Dark mode")
    assert page.count("ARR at stake appears once contracts are recorded") == 1
    assert "<td>3</td>" in page and "<td>1</td>" in page


def test_a_csm_records_feedback_and_the_accounts_asking(client, tenant_a, account, others_account, csm):
    client.force_login(csm)
    created = client.post(f"{BASE}/feedback/new/", {"title": "Bulk export", "product_area": "Reporting",
                                                    "description": "CSV of everything", "status": "new"})
    assert created.status_code == 302
    with tenant_context(tenant_a):
        feedback = ProductFeedback.objects.get()
    detail = f"{BASE}/feedback/{feedback.pk}"
    assert client.post(f"{detail}/accounts/", {"account": account.pk}).status_code == 302
    assert client.post(f"{detail}/accounts/", {"account": others_account.pk}).status_code == 403
    assert client.post(f"{detail}/status/", {"status": "planned"}).status_code == 302
    page = client.get(f"{detail}/").content.decode()
    assert "Initech" in page and "Planned" in page
    assert client.post(f"{detail}/accounts/{account.pk}/remove/").status_code == 302
    with tenant_context(tenant_a):
        assert not FeedbackAccount.objects.exists()


def test_an_executive_reads_feedback_but_does_not_write(client, executive):
    client.force_login(executive)
    assert client.get(f"{BASE}/feedback/").status_code == 200
    assert client.post(f"{BASE}/feedback/new/", {"title": "x", "product_area": "y", "status": "new"}).status_code == 403


# process documents

def test_markdown_is_rendered_without_scripts_or_javascript_links():
    html = render_markdown("# Title\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1)) "
                           '<a href="JAVASCRIPT:alert(2)" onclick="steal()">two</a> <img src=x onerror=alert(3)>\n\n'
                           "[docs](https://example.com)")
    assert "<h1>Title</h1>" in html
    assert "<script" not in html and "alert" not in html.replace("alert('x')", "")
    assert "javascript:" not in html.lower() and "onclick" not in html and "onerror" not in html
    assert 'href="https://example.com"' in html


def test_the_document_page_shows_safe_html(client, tenant_a, csm):
    with tenant_context(tenant_a):
        doc = ProcessDoc.objects.create(title="Renewal runbook", author=csm,
                                        body="**Call early**\n\n<script>alert(1)</script>[x](javascript:alert(2))")
    client.force_login(csm)
    page = client.get(f"{BASE}/docs/{doc.pk}/").content.decode()
    assert "<strong>Call early</strong>" in page
    assert "<script>alert" not in page and "javascript:alert" not in page
    assert "Draft" in client.get(f"{BASE}/docs/").content.decode()


def test_self_approval_is_refused_and_a_managers_approval_works(client, tenant_a, csm, manager):
    client.force_login(manager)
    created = client.post(f"{BASE}/docs/new/", {"title": "Escalation guide", "body": "# Steps"})
    assert created.status_code == 302
    with tenant_context(tenant_a):
        doc = ProcessDoc.objects.get()
    refused = client.post(f"{BASE}/docs/{doc.pk}/approve/")
    assert refused.status_code == 400 and b"Someone other than the author" in refused.content
    with tenant_context(tenant_a):
        doc.refresh_from_db()
        assert doc.status == "draft"
    # a CSM may not approve; another lead may
    client.force_login(csm)
    assert client.post(f"{BASE}/docs/{doc.pk}/approve/").status_code == 403
    other_manager = MembershipFactory(tenant=tenant_a, role=Role.MANAGER, user__email="m2@alpha.test").user
    client.force_login(other_manager)
    assert client.post(f"{BASE}/docs/{doc.pk}/approve/").status_code == 302
    with tenant_context(tenant_a):
        doc.refresh_from_db()
        assert doc.status == "approved" and doc.approved_by == other_manager


def test_a_csm_edits_their_own_document_but_not_someone_elses(client, tenant_a, csm, other_csm):
    with tenant_context(tenant_a):
        doc = ProcessDoc.objects.create(title="Mine", author=csm, body="x")
    client.force_login(other_csm)
    assert client.post(f"{BASE}/docs/{doc.pk}/edit/", {"title": "Theirs", "body": "y"}).status_code == 403
    client.force_login(csm)
    assert client.post(f"{BASE}/docs/{doc.pk}/edit/", {"title": "Mine, v2", "body": "y"}).status_code == 302


# tenancy

def test_another_tenants_ids_answer_404(client, tenant_b, foreign_account, manager):
    playbook = _playbook(tenant_b, name="Foreign playbook")
    with tenant_context(tenant_b):
        feedback = ProductFeedback.objects.create(title="Foreign", product_area="x")
        doc = ProcessDoc.objects.create(title="Foreign doc", body="x")
    client.force_login(manager)
    assert client.get(f"{BASE}/playbooks/{playbook.pk}/").status_code == 404
    assert client.get(f"{BASE}/feedback/{feedback.pk}/").status_code == 404
    assert client.get(f"{BASE}/docs/{doc.pk}/").status_code == 404
    assert client.post(f"{BASE}/docs/{doc.pk}/approve/").status_code == 404
    assert client.get(f"{BASE}/advocacy/new/?account={foreign_account.pk}").status_code == 404
