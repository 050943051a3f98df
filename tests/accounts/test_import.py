import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import load_command_class
from django.db import connections
from django.test import Client

from accounts.importing.files import read_table
from accounts.importing.mapping import mapping_guess
from accounts.importing.resources import RESOURCES, AccountResource
from accounts.importing.services import import_commit
from accounts.models import Account, Activity, Contact
from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from tests.factories import AccountFactory, MembershipFactory

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _pending_uploads_in_tmp(settings, tmp_path):
    settings.ACCOUNTS_IMPORT_DIR = str(tmp_path / "imports")


@pytest.fixture
def ops(client, owner, teammate):
    client.force_login(owner)
    return client


def upload(client, name, kind="accounts", content=None):
    data = content if content is not None else (DATA / name).read_bytes()
    return client.post("/t/alpha/import/", {"kind": kind, "file": SimpleUploadedFile(name, data)})


def preview_url(response):
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def import_file(tenant, kind, name, content=None):
    data = content if content is not None else (DATA / name).read_bytes()
    table = read_table(filename=name, data=data)
    with tenant_context(tenant):
        return import_commit(kind=kind, table=table, mapping=mapping_guess(columns=RESOURCES[kind].columns,
                                                                           headers=table.headers))


def accounts_of(tenant):
    with tenant_context(tenant):
        return {a.external_id: a for a in Account.objects.select_related("segment", "stage", "csm", "parent")}


def run_command(monkeypatch, capsys, *args):
    """The command as `manage.py` runs it, returning (exit code, stdout, stderr)."""
    # run_from_argv closes the connections when it ends, which would throw away the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    try:
        load_command_class("accounts", "import_csv").run_from_argv(["manage.py", "import_csv", *map(str, args)])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_it_creates_accounts_from_a_salesforce_export_after_a_preview(ops, tenant_a, owner, teammate):
    url = preview_url(upload(ops, "accounts_salesforce.csv"))
    report = ops.get(url).context["report"]
    assert (report.created, report.updated, report.errors) == (4, 0, [])
    assert accounts_of(tenant_a) == {}  # the preview wrote nothing

    response = ops.post(url + "commit/")
    assert response.status_code == 302
    accounts = accounts_of(tenant_a)
    assert sorted(accounts) == ["001A000001", "001A000002", "001A000003", "001A000004"]  # footer lines skipped
    europe = accounts["001A000001"]
    assert (europe.name, europe.domain, europe.region, europe.licensed_seats) == (
        "Globex Europe", "globex.eu", "Germany", 1200)
    assert (europe.segment.name, europe.stage.name, europe.csm) == ("Enterprise", "Adoption", teammate)
    assert europe.parent == accounts["001A000002"]  # a parent further down the same file
    assert accounts["001A000002"].csm == owner
    initech = accounts["001A000003"]
    assert (initech.status, initech.churn_date, initech.csm) == ("churned", date(2024, 3, 15), None)
    umbrella = accounts["001A000004"]
    assert (umbrella.segment.name, umbrella.stage.name, umbrella.csm) == ("Mid-Market", "Onboarding", teammate)


def test_it_shows_row_and_column_errors_and_writes_nothing(ops, tenant_a, outsider):
    url = preview_url(upload(ops, "accounts_bad_rows.csv"))
    errors = ops.get(url).context["report"].errors
    found = {(e.row, e.column): e.message for e in errors}
    assert found[(3, "Segment")] == "Unknown segment 'Galactic'. Valid: Enterprise, Mid-Market, SMB."
    assert found[(4, "Account Name")] == "Required."
    assert found[(4, "Licensed Seats")] == "'ten' is not a whole number."
    assert found[(5, "Account Owner Email")] == "outsider@bravo.test is not a member of this workspace."
    assert found[(6, "Churn Date")] == "A churn date needs Status 'Churned'."
    assert "also on row 2" in found[(7, "Account ID")]
    assert "not a date" in found[(8, "Churn Date")]
    assert 2 not in {e.row for e in errors}

    response = ops.post(url + "commit/")
    assert response.status_code == 400
    assert b"Nothing was imported" in response.content
    assert accounts_of(tenant_a) == {}  # not even the good row 2


def test_it_updates_on_reimport_without_duplicates(tenant_a, owner, teammate):
    first = import_file(tenant_a, "accounts", "accounts_salesforce.csv")
    ids = {ext: a.pk for ext, a in accounts_of(tenant_a).items()}
    again = import_file(tenant_a, "accounts", "accounts_salesforce.csv")
    assert (first.created, again.created, again.updated, again.unchanged) == (4, 0, 0, 4)

    changed = (DATA / "accounts_salesforce.csv").read_bytes().replace(b'"1,200"', b'"1,500"')
    third = import_file(tenant_a, "accounts", "accounts_salesforce.csv", content=changed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 3)
    assert [r.changes for r in third.rows if r.action == "update"] == [("Licensed Seats",)]
    accounts = accounts_of(tenant_a)
    assert {ext: a.pk for ext, a in accounts.items()} == ids
    assert accounts["001A000001"].licensed_seats == 1500


def test_it_asks_to_map_headers_it_does_not_know(ops, tenant_a):
    csv = b"CRM Key,Customer,Tier,Headcount Licensed\nK-1,Hooli,SMB,12\nK-2,Pied Piper,Enterprise,3\n"
    url = preview_url(upload(ops, "hand_made.csv", content=csv))
    page = ops.get(url)
    assert [c.label for c in page.context["missing"]] == ["Account ID", "Account Name"]
    assert page.context["report"] is None
    assert b'<option value="CRM Key">CRM Key</option>' in page.content

    twice = ops.post(url, {"external_id": "CRM Key", "name": "CRM Key"})
    assert twice.status_code == 400 and b"mapped to both" in twice.content

    mapped = ops.post(url, {"external_id": "CRM Key", "name": "Customer", "segment": "Tier",
                            "licensed_seats": "Headcount Licensed"})
    assert mapped.status_code == 302
    assert ops.get(url).context["report"].created == 2
    assert ops.post(url + "commit/").status_code == 302
    hooli = accounts_of(tenant_a)["K-1"]
    assert (hooli.name, hooli.segment.name, hooli.licensed_seats) == ("Hooli", "SMB", 12)


def test_it_imports_an_xlsx_file(ops, tenant_a, teammate):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Account ID", "Account Name", "Licensed Seats", "Status", "Churn Date", "Account Owner Email"])
    sheet.append(["001X1", "Excel Corp", 42, "Churned", datetime(2024, 6, 30), "teammate@alpha.test"])
    sheet.append(["001X2", "Sheets Ltd", 7.0, "Active", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    url = preview_url(upload(ops, "accounts.xlsx", content=buffer.getvalue()))
    assert ops.post(url + "commit/").status_code == 302
    accounts = accounts_of(tenant_a)
    excel = accounts["001X1"]
    assert (excel.licensed_seats, excel.status, excel.churn_date, excel.csm) == (42, "churned", date(2024, 6, 30),
                                                                                 teammate)
    assert accounts["001X2"].licensed_seats == 7


def test_it_requires_the_csm_to_be_a_member_of_the_tenant(tenant_a, owner, outsider):
    csv = (b"Account ID,Account Name,Account Owner Email\n"
           b"A1,Alpha Own,owner@alpha.test\nA2,Bravo Person,outsider@bravo.test\nA3,Nobody,nobody@example.test\n")
    report = import_file(tenant_a, "accounts", "owners.csv", content=csv)
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (3, "Account Owner Email", "outsider@bravo.test is not a member of this workspace."),
        (4, "Account Owner Email", "nobody@example.test is not a member of this workspace."),
    ]
    assert not report.committed and accounts_of(tenant_a) == {}


def test_it_leaves_another_tenants_identical_external_ids_untouched(tenant_a, tenant_b, owner, teammate):
    theirs = AccountFactory(tenant=tenant_b, external_id="001A000002", name="Bravo's Globex", licensed_seats=7)
    report = import_file(tenant_a, "accounts", "accounts_salesforce.csv")
    assert (report.created, report.updated) == (4, 0)
    ours = accounts_of(tenant_a)
    assert ours["001A000002"].pk != theirs.pk
    assert ours["001A000001"].parent_id == ours["001A000002"].pk
    bravo = accounts_of(tenant_b)
    assert list(bravo) == ["001A000002"]
    assert (bravo["001A000002"].name, bravo["001A000002"].licensed_seats) == ("Bravo's Globex", 7)


@pytest.mark.postgres
def test_it_does_not_move_the_id_sequence_back_under_another_tenant(monkeypatch, tenant_a, tenant_b, owner, teammate):
    # import-export's default after_import resets the sequence to the largest id it can see; under row
    # level security that excludes rows another tenant inserted meanwhile, whose ids would be handed out again.
    saved = AccountResource.after_save_instance

    def another_tenant_inserts_meanwhile(self, instance, row, **kwargs):
        saved(self, instance, row, **kwargs)
        if row["external_id"] == "001A000004":
            AccountFactory(tenant=tenant_b)

    monkeypatch.setattr(AccountResource, "after_save_instance", another_tenant_inserts_meanwhile)
    assert import_file(tenant_a, "accounts", "accounts_salesforce.csv").committed
    AccountFactory(tenant=tenant_b)  # IntegrityError (duplicate id) if the sequence went back


def test_it_stores_formula_looking_cells_as_text(tenant_a):
    csv = b"Account ID,Account Name,Industry\nF1,\"=cmd|' /C calc'!A0\",\"=HYPERLINK(\"\"http://x.test\"\")\"\n"
    assert import_file(tenant_a, "accounts", "formula.csv", content=csv).committed
    account = accounts_of(tenant_a)["F1"]
    assert (account.name, account.industry) == ("=cmd|' /C calc'!A0", '=HYPERLINK("http://x.test")')


def test_it_reads_latin_1_and_excel_csvs_and_rejects_binary_and_unknown_files(ops, tenant_a):
    latin = "Account ID,Account Name\nL1,Café Müller\n".encode("latin-1")
    assert ops.post(preview_url(upload(ops, "latin.csv", content=latin)) + "commit/").status_code == 302
    assert accounts_of(tenant_a)["L1"].name == "Café Müller"
    excel = "Account ID;Account Name;Long Term Potential\nE1;Société Générale;€1,250.50\n".encode("cp1252")
    assert ops.post(preview_url(upload(ops, "excel.csv", content=excel)) + "commit/").status_code == 302
    assert (accounts_of(tenant_a)["E1"].name, accounts_of(tenant_a)["E1"].long_term_potential) == (
        "Société Générale", Decimal("1250.50"))

    utf16 = upload(ops, "utf16.csv", content="Account ID,Account Name\n".encode("utf-16"))
    assert "UTF-16" in utf16.context["form"].errors["file"][0]
    binary = upload(ops, "binary.csv", content=b"Account ID\x00\x01\x02,Name\n")
    assert "binary data" in binary.context["form"].errors["file"][0]
    pdf = upload(ops, "accounts.pdf", content=b"%PDF-1.4")
    assert "Upload a .csv or .xlsx file" in pdf.context["form"].errors["file"][0]
    too_big = upload(ops, "big.csv", content=b"Account ID,Account Name\n" + b"x" * (5 * 1024 * 1024))
    assert "the limit is 5 MB" in too_big.context["form"].errors["file"][0]
    too_long = upload(ops, "long.csv", content=b"Account ID,Account Name\n" + b"A,B\n" * 10_001)
    assert "more than 10,000 rows" in too_long.context["form"].errors["file"][0]


def test_it_imports_contacts_with_first_and_last_names(tenant_a, owner, teammate):
    import_file(tenant_a, "accounts", "accounts_salesforce.csv")
    report = import_file(tenant_a, "contacts", "contacts_salesforce.csv")
    assert (report.created, report.errors) == (3, [])
    with tenant_context(tenant_a):
        contacts = {c.external_id: c for c in Contact.objects.select_related("account", "reports_to")}
    grace, ada = contacts["003A000002"], contacts["003A000001"]
    assert (grace.name, grace.persona, grace.influence, grace.receives_surveys) == (
        "Grace Hopper", "champion", "medium", False)
    assert grace.reports_to == ada  # a manager further down the same file
    assert (ada.persona, ada.influence, ada.receives_surveys, ada.account.external_id) == (
        "economic_buyer", "high", True, "001A000001")
    assert contacts["003A000003"].persona == "executive_sponsor"


def test_it_imports_activities_and_moves_last_touch_forward_only(tenant_a, owner, teammate):
    import_file(tenant_a, "accounts", "accounts_salesforce.csv")
    import_file(tenant_a, "contacts", "contacts_salesforce.csv")
    later = datetime(2030, 1, 1, tzinfo=UTC)
    with tenant_context(tenant_a):
        Account.objects.filter(external_id="001A000002").update(last_touch_at=later)
    report = import_file(tenant_a, "activities", "activities_salesforce.csv")
    assert (report.created, report.errors) == (3, [])
    with tenant_context(tenant_a):
        kickoff = Activity.objects.get(external_id="00TA000001")
        qbr = Activity.objects.get(external_id="00TA000003")
        touch = dict(Account.objects.values_list("external_id", "last_touch_at"))
        engaged = dict(Contact.objects.values_list("external_id", "last_engaged_at"))
        participants = sorted(kickoff.contacts.values_list("external_id", flat=True))
    assert (kickoff.kind, kickoff.occurred_at, kickoff.minutes_spent, kickoff.logged_by) == (
        "call", datetime(2025, 3, 1, 10, 30, tzinfo=UTC), 45, teammate)
    assert (qbr.kind, qbr.body, qbr.logged_by) == ("business_review", "Renewal risk: low, expansion likely", owner)
    assert participants == ["003A000001", "003A000002"]
    assert touch["001A000001"] == datetime(2025, 3, 5, tzinfo=UTC)  # the latest of its two activities
    assert touch["001A000002"] == later  # never moved back
    assert touch["001A000003"] is None
    assert engaged == {"003A000001": datetime(2025, 3, 1, 10, 30, tzinfo=UTC),
                       "003A000002": datetime(2025, 3, 5, tzinfo=UTC),
                       "003A000003": datetime(2025, 2, 20, 15, 0, tzinfo=UTC)}

    again = import_file(tenant_a, "activities", "activities_salesforce.csv")
    assert (again.created, again.unchanged) == (0, 3)
    with tenant_context(tenant_a):
        assert Activity.objects.count() == 3


def test_it_rejects_an_activity_with_a_contact_of_another_account(tenant_a, owner, teammate):
    import_file(tenant_a, "accounts", "accounts_salesforce.csv")
    import_file(tenant_a, "contacts", "contacts_salesforce.csv")
    csv = b"Activity ID,Account ID,Type,Date,Subject,Contact IDs\nX1,001A000002,Meeting,2025-01-01,Sync,003A000001\n"
    report = import_file(tenant_a, "activities", "wrong.csv", content=csv)
    assert [(e.row, e.column) for e in report.errors] == [(2, "Contact IDs")]
    assert "another account" in report.errors[0].message


def test_the_command_imports_and_prints_the_counts(monkeypatch, capsys, tenant_a, owner, teammate):
    code, out, _ = run_command(monkeypatch, capsys, "--tenant", "alpha", "--kind", "accounts",
                               DATA / "accounts_salesforce.csv")
    assert code == 0
    assert "created 4, updated 0, unchanged 0" in out
    assert len(accounts_of(tenant_a)) == 4


def test_the_command_prints_row_errors_exits_non_zero_and_writes_nothing(monkeypatch, capsys, tenant_a, teammate):
    code, _, err = run_command(monkeypatch, capsys, "--tenant", "alpha", "--kind", "accounts",
                               DATA / "accounts_bad_rows.csv")
    assert code == 1
    assert "row 3, Segment: Unknown segment 'Galactic'" in err
    assert "row 5, Account Owner Email: outsider@bravo.test is not a member of this workspace." in err
    assert "nothing written" in err
    assert accounts_of(tenant_a) == {}


def test_the_command_dry_run_writes_nothing(monkeypatch, capsys, tenant_a, owner, teammate):
    code, out, _ = run_command(monkeypatch, capsys, "--tenant", "alpha", "--kind", "accounts", "--dry-run",
                               DATA / "accounts_salesforce.csv")
    assert (code, "Would import 4 accounts" in out) == (0, True)
    assert accounts_of(tenant_a) == {}


def test_the_command_refuses_an_unknown_tenant_and_unmapped_files(monkeypatch, capsys, tenant_a, tmp_path):
    code, _, err = run_command(monkeypatch, capsys, "--tenant", "nope", "--kind", "accounts",
                               DATA / "accounts_salesforce.csv")
    assert code == 1 and "No active tenant with slug 'nope'" in err
    odd = tmp_path / "odd.csv"
    odd.write_text("Key,Customer\nK1,Hooli\n")
    code, _, err = run_command(monkeypatch, capsys, "--tenant", "alpha", "--kind", "accounts", odd)
    assert code == 1 and "Account ID (external_id), Account Name (name)" in err
    code, out, _ = run_command(monkeypatch, capsys, "--tenant", "alpha", "--kind", "accounts",
                               "--map", "external_id=Key", "--map", "name=Customer", odd)
    assert code == 0 and "created 1" in out


def test_it_forbids_the_import_pages_to_a_csm(client, tenant_a, teammate):
    client.force_login(teammate)
    assert client.get("/t/alpha/import/").status_code == 403
    response = client.post("/t/alpha/import/", {"kind": "accounts",
                                                "file": SimpleUploadedFile("a.csv", b"Account ID,Account Name\n")})
    assert response.status_code == 403


def test_it_keeps_an_upload_to_the_user_who_made_it(ops, tenant_a, owner):
    url = preview_url(upload(ops, "accounts_salesforce.csv"))
    colleague = MembershipFactory(tenant=tenant_a, role=Role.OPS, user__email="ops2@alpha.test").user
    other = Client()
    other.force_login(colleague)
    assert other.get(url).status_code == 404
    assert other.post(url + "commit/").status_code == 404
    assert ops.get(url).status_code == 200
    assert ops.get("/t/alpha/import/" + "x" * 43 + "/").status_code == 404
