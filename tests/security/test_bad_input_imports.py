"""Bad files for the imports: the accounts import (pages and `manage.py import_csv`), the contracts import
(pages and `import_contracts`) and the usage CSV (`import_usage`). A file in another encoding, without the
required columns, with a cell too long or larger than a CSV field may be, or simply too large, gets a 4xx (a
command: an error and a non-zero exit) that says why, and nothing of it is written. Cells that look like
spreadsheet formulas are kept as the text they are (exports quote them: test_bad_input_exports.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from accounts.importing.files import MAX_UPLOAD_BYTES
from accounts.models import Account
from csplatform.tenancy.context import tenant_context
from health.models import UsageDaily
from renewals.models import Contract
from tests.api import count
from tests.factories import AccountFactory

ACCOUNTS = "/t/alpha/import/"
CONTRACTS = "/t/alpha/renewals/import/"
CONTRACT_HEADER = "Contract ID,Account ID,Contract Name,Start Date,End Date,Product,Quantity,Unit Price\n"
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(A1)"]


@pytest.fixture(autouse=True)
def _pending_uploads_in_tmp(settings, tmp_path):
    settings.ACCOUNTS_IMPORT_DIR = str(tmp_path / "imports")


@pytest.fixture
def ops(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def account(tenant_a):
    return AccountFactory(tenant=tenant_a, external_id="ACC-1", name="Initech")


def upload_accounts(client, data: bytes, name="accounts.csv"):
    return client.post(ACCOUNTS, {"kind": "accounts", "file": SimpleUploadedFile(name, data)})


def upload_contracts(client, data: bytes, name="contracts.csv"):
    return client.post(CONTRACTS, {"file": SimpleUploadedFile(name, data)})


def form_error(response) -> str:
    return " ".join(response.context["form"].errors["file"])


BAD_FILES = [
    ("utf16.csv", "Account ID,Account Name\nA-1,Acme\n".encode("utf-16"), "UTF-16"),
    ("binary.csv", b"Account ID\x00\x01,Account Name\nA-1,\x00\x02\n", "binary data"),
    ("huge-cell.csv", b"Account ID,Account Name\nA-1," + b"x" * 200_000 + b"\n", "malformed near line"),
    ("wide.csv", (",".join(f"c{i}" for i in range(201)) + "\n" + "x," * 200 + "x\n").encode(), "201 columns"),
    ("empty.csv", b"\n\n", "The file is empty"),
    ("header-only.csv", b"Account ID,Account Name\n", "no data rows"),
    ("notes.txt", b"Account ID,Account Name\nA-1,Acme\n", ".txt files are not supported"),
    ("broken.xlsx", b"PK\x03\x04 not really a workbook", "not a valid .xlsx"),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_it_refuses_an_unreadable_file_with_the_reason(ops, tenant_a, account, name, data, reason):
    for response in (upload_accounts(ops, data, name), upload_contracts(ops, data.replace(b"Account", b"Contract"),
                                                                         name)):
        assert response.status_code == 400
        assert reason in form_error(response)
    assert count(Account, tenant_a) == 1 and count(Contract, tenant_a) == 0


def test_it_refuses_an_upload_over_the_limit_before_reading_it(ops, tenant_a):
    data = b"Account ID,Account Name\n" + b"A-1,Acme\n" * (MAX_UPLOAD_BYTES // 9 + 10_000)
    for response in (upload_accounts(ops, data), upload_contracts(ops, data)):
        assert response.status_code == 413
        assert "files up to 5 MB are accepted" in response.content.decode()
    assert count(Account, tenant_a) == 0


def test_it_asks_for_the_required_columns_and_commits_nothing_without_them(ops, tenant_a):
    response = upload_accounts(ops, b"Account Name,Industry\nAcme,Retail\n")
    preview = response["Location"]
    page = ops.get(preview)
    assert [c.name for c in page.context["missing"]] == ["external_id"]
    assert "Required, not found in the file" in page.content.decode()
    assert ops.post(preview + "commit/")["Location"] == preview  # back to the mapping, nothing written
    assert count(Account, tenant_a) == 0


def test_it_lists_a_cell_too_long_for_its_column_and_writes_no_row(ops, tenant_a):
    data = f"Account ID,Account Name\nA-1,Good Co\nA-2,{'x' * 5000}\n".encode()
    preview = upload_accounts(ops, data)["Location"]
    errors = ops.get(preview).context["report"].errors
    assert [(e.row, e.column) for e in errors] == [(3, "Account Name")]
    assert "at most 200 characters" in errors[0].message
    response = ops.post(preview + "commit/")
    assert response.status_code == 400 and "Nothing was imported" in response.content.decode()
    assert count(Account, tenant_a) == 0  # not even the good row


def test_it_lists_a_contract_cell_too_long_and_writes_no_contract(ops, tenant_a, account):
    data = (CONTRACT_HEADER + "K-1,ACC-1,Fine,2026-01-01,2026-12-31,Platform,1,100\n"
            + f"K-2,ACC-1,{'x' * 500},2026-01-01,2026-12-31,Platform,1,100\n").encode()
    preview = upload_contracts(ops, data)["Location"]
    response = ops.post(preview + "commit/")
    assert response.status_code == 400 and "At most 200 characters (this has 500)" in response.content.decode()
    assert count(Contract, tenant_a) == 0


def test_it_keeps_formula_looking_cells_as_text(ops, tenant_a, account):
    rows = "".join(f'A-{i},"{text}"\n' for i, text in enumerate(FORMULAS))
    assert ops.post(upload_accounts(ops, f"Account ID,Account Name\n{rows}".encode())["Location"] + "commit/")\
        .status_code == 302
    data = (CONTRACT_HEADER + "K-1,ACC-1,\"=HYPERLINK(\"\"http://x.test\"\")\",2026-01-01,2026-12-31,"
            "@Platform,1,100\n").encode()
    assert ops.post(upload_contracts(ops, data)["Location"] + "commit/").status_code == 302
    with tenant_context(tenant_a):
        assert {a.name for a in Account.objects.filter(external_id__startswith="A-")} == set(FORMULAS)
        contract = Contract.objects.get(external_id="K-1")
        assert (contract.name, contract.lines.get().product) == ('=HYPERLINK("http://x.test")', "@Platform")


# --- the commands ---------------------------------------------------------------------------------------------


def test_the_commands_refuse_a_utf16_file_and_write_nothing(tmp_path, tenant_a, account):
    path = tmp_path / "utf16.csv"
    path.write_bytes("Account ID,Account Name\nA-1,Acme\n".encode("utf-16"))
    for command in ("import_csv", "import_contracts"):
        args = [str(path), "--tenant", "alpha"] + (["--kind", "accounts"] if command == "import_csv" else [])
        with pytest.raises(CommandError, match="UTF-16"):
            call_command(command, *args)
    with pytest.raises(CommandError, match="not a readable UTF-8 CSV"):
        call_command("import_usage", str(path), "--tenant", "alpha")
    assert count(Account, tenant_a) == 1 and count(Contract, tenant_a) == 0 and count(UsageDaily, tenant_a) == 0


def test_the_usage_import_refuses_a_huge_cell_and_missing_columns(tmp_path, tenant_a, account):
    huge = tmp_path / "huge.csv"
    huge.write_text("account,occurred_at,event\nACC-1,2026-01-01T10:00:00Z," + "x" * 200_000 + "\n")
    with pytest.raises(CommandError, match="not a readable UTF-8 CSV"):
        call_command("import_usage", str(huge), "--tenant", "alpha")
    missing = tmp_path / "missing.csv"
    missing.write_text("account,when\nACC-1,2026-01-01T10:00:00Z\n")
    with pytest.raises(CommandError, match=r"Missing column\(s\): occurred_at, event"):
        call_command("import_usage", str(missing), "--tenant", "alpha")
    assert count(UsageDaily, tenant_a) == 0
