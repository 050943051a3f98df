"""Contracts import from CSV: one row per contract line, grouped by Contract ID; a preview with the errors by row
and column; commit all or nothing through contract_save; a re-import updates by Contract ID; the command."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Role
from renewals.models import Contract
from tests.api import member, reload
from tests.factories import AccountFactory

from .conftest import TODAY

UPLOAD = "/t/alpha/renewals/import/"
HEADER = "Contract ID,Account ID,Contract Name,Start Date,End Date,Auto Renew,Status,Product,Quantity,Unit Price,ARR\n"
START, END = TODAY - timedelta(days=100), TODAY + timedelta(days=265)  # counting today
US = "%m/%d/%Y"
GOOD = HEADER + (
    f"K-1,ACC-1,Initech 2026,{START},{END},yes,Active,Platform,10,1200,\n"
    "K-1,,,,,,,Support,,,3000\n"
    f"K-2,ACC-2,Globex 2026,{START:{US}},{END:{US}},no,Active,Platform,5,\"1,000\",\n"
)


def text(html: str) -> str:
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unescape(html))).strip()
    return re.sub(r" ([,.;])", r"\1", words)


def state(tenant):
    with tenant_context(tenant):
        return sorted((c.external_id, c.account.external_id, c.name, str(c.start_date), str(c.end_date), c.auto_renew,
                       c.status, str(c.arr), tuple((line.product, str(line.quantity), str(line.unit_price),
                                                    str(line.arr)) for line in c.lines.all()))
                      for c in Contract.objects.select_related("account").prefetch_related("lines"))


@pytest.fixture
def accounts(tenant_a):
    return (AccountFactory(tenant=tenant_a, external_id="ACC-1", name="Initech"),
            AccountFactory(tenant=tenant_a, external_id="ACC-2", name="Globex"))


def upload(client, content: str, name="contracts.csv"):
    response = client.post(UPLOAD, {"file": SimpleUploadedFile(name, content.encode(), content_type="text/csv")})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def test_ops_preview_then_commit_a_contracts_file(client, tenant_a, owner, accounts):
    client.force_login(owner)
    assert "Contract ID" in client.get(UPLOAD).content.decode()
    preview = upload(client, GOOD)
    page = text(client.get(preview).content.decode())
    assert "Ready to import" in page and "Would create 2 contracts, update 0, leave 0 unchanged" in page
    assert "Initech 2026 · Initech" in page
    assert state(tenant_a) == []  # the preview wrote nothing
    response = client.post(preview + "commit/")
    assert response.status_code == 302 and response["Location"] == UPLOAD
    assert state(tenant_a) == [
        ("K-1", "ACC-1", "Initech 2026", str(START), str(END), True, "active", "15000.00",
         (("Platform", "10.00", "1200.00", "12000.00"), ("Support", "1.00", "0.00", "3000.00"))),
        ("K-2", "ACC-2", "Globex 2026", str(START), str(END), False, "active", "5000.00",
         (("Platform", "5.00", "1000.00", "5000.00"),)),
    ]
    assert "2 contract(s) created" in client.get(UPLOAD).content.decode()


def test_a_reimport_updates_by_contract_id(client, tenant_a, owner, accounts):
    client.force_login(owner)
    client.post(upload(client, GOOD) + "commit/")
    changed = GOOD.replace("Support,,,3000", "Support,,,4000").replace("K-2,ACC-2,Globex 2026", "K-2,ACC-2,Globex")
    page = text(client.get(upload(client, changed)).content.decode())
    assert "Would create 0 contracts, update 2, leave 0 unchanged" in page
    assert "Contract Name" in page and "Product" in page  # what changes
    client.post(upload(client, changed) + "commit/")
    rows = state(tenant_a)
    assert [r[0] for r in rows] == ["K-1", "K-2"] and rows[0][7] == "16000.00" and rows[1][2] == "Globex"
    page = text(client.get(upload(client, changed)).content.decode())
    assert "Would create 0 contracts, update 0, leave 2 unchanged" in page
    assert reload(accounts[0], tenant_a).arr == Decimal("16000.00")  # the account's ARR follows its contracts


def test_row_errors_are_listed_and_nothing_is_written(client, tenant_a, owner, accounts):
    bad = HEADER + (
        "K-1,ACC-1,Initech 2026,2026-01-01,2026-12-31,maybe,Active,Platform,10,1200,\n"  # bad yes/no
        "K-1,ACC-2,,,,,,Support,,,3000\n"  # another account than row 2
        "K-2,NOPE,Ghost,2026-01-01,2026-12-31,,,Platform,1,,\n"  # unknown account, no price
        "K-3,ACC-1,Backwards,2026-12-31,2026-01-01,,,Platform,1,5,\n"  # ends before it starts
        "K-4,ACC-1,Stopped,2026-01-01,2026-12-31,,Cancelled,Platform,1,5,\n"  # cancelled without a date
        "K-5,ACC-1,Fine,2026-01-01,2026-12-31,,,Platform,-2,5,\n"  # negative quantity
        ",ACC-1,No id,2026-01-01,2026-12-31,,,,1,5,\n"  # no contract id, no product
        "K-6,ACC-1,Fine,2026-01-01,2026-12-31,,Paused,Platform,1,5,\n"  # unknown status
    )
    client.force_login(owner)
    preview = upload(client, bad)
    response = client.get(preview)
    html = response.content.decode()
    errors = text(html[html.index('id="import-errors"'):html.index("</table>", html.index('id="import-errors"'))])
    assert "2 Auto Renew 'maybe' is not yes or no" in errors
    assert "3 Account ID Differs from row 2 of the same contract (ACC-1)" in errors
    assert "4 Account ID No account with ID 'NOPE' in this workspace" in errors
    assert "4 ARR Give the line's ARR or its unit price." in errors
    assert "5 End Date The contract ends before it starts." in errors
    assert "6 Cancellation Date A cancelled contract needs its cancellation date." in errors
    assert "7 Quantity Must be 0 or more." in errors
    assert "8 Contract ID Required." in errors and "8 Product Required." in errors
    assert "9 Status Unknown status 'Paused'" in errors
    assert "Import " not in text(html[html.index('id="summary-title"'):html.index("</section>",
                                                                                html.index('id="summary-title"'))])
    response = client.post(preview + "commit/")
    assert response.status_code == 400 and "Nothing was imported" in response.content.decode()
    assert state(tenant_a) == []


def test_a_contract_cannot_move_to_another_account_by_import(client, tenant_a, owner, accounts):
    client.force_login(owner)
    client.post(upload(client, GOOD) + "commit/")
    moved = HEADER + f"K-2,ACC-1,Globex 2026,{START},{END},no,Active,Platform,5,1000,\n"
    html = client.get(upload(client, moved)).content.decode()
    assert "a contract cannot move to another account" in html
    assert [r[1] for r in state(tenant_a)] == ["ACC-1", "ACC-2"]


def test_unmatched_headers_are_mapped_by_hand(client, tenant_a, owner, accounts):
    odd = GOOD.replace("Contract ID,", "Deal Number,")
    client.force_login(owner)
    preview = upload(client, odd)
    page = text(client.get(preview).content.decode())
    assert "Map the columns" in page and "Contract ID" in page
    response = client.post(preview, {"contract_id": "Deal Number", "account": "Account ID", "start_date": "Start Date",
                                     "end_date": "End Date", "product": "Product", "arr": "ARR",
                                     "unit_price": "Unit Price", "quantity": "Quantity"})
    assert response.status_code == 302
    assert "Ready to import" in client.get(preview).content.decode()
    response = client.post(preview, {"contract_id": "Deal Number", "account": "Deal Number"})
    assert response.status_code == 400


def test_only_ops_import_and_uploads_are_private(client, tenant_a, owner, teammate, outsider, accounts):
    client.force_login(owner)
    preview = upload(client, GOOD)
    for user in (teammate, member(tenant_a, Role.EXECUTIVE, "exec@alpha.test"),
                 member(tenant_a, Role.MANAGER, "boss@alpha.test")):
        client.force_login(user)
        assert client.get(UPLOAD).status_code == 403
        assert client.post(preview + "commit/").status_code == 403
    other_ops = member(tenant_a, Role.OPS, "ops2@alpha.test")
    client.force_login(other_ops)
    assert client.get(preview).status_code == 404  # another person's upload
    client.force_login(outsider)
    assert client.get(preview).status_code == 404
    assert client.post(preview.replace("/alpha/", "/bravo/") + "commit/").status_code == 404
    assert state(tenant_a) == []


def test_an_accounts_import_upload_is_not_a_contracts_upload(client, owner, accounts):
    client.force_login(owner)
    response = client.post("/t/alpha/import/", {"kind": "accounts", "file": SimpleUploadedFile(
        "a.csv", b"Account ID,Account Name\nACC-9,Nine\n", content_type="text/csv")})
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"{UPLOAD}{token}/").status_code == 404


def test_a_bad_upload_answers_400(client, owner):
    client.force_login(owner)
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("c.txt", b"x", content_type="text/plain")})
    assert response.status_code == 400 and ".txt files are not supported" in response.content.decode()


def test_the_command_imports_all_or_nothing(tmp_path, tenant_a, accounts, capsys):
    good = tmp_path / "contracts.csv"
    good.write_text(GOOD)
    call_command("import_contracts", str(good), "--tenant", "alpha", "--dry-run")
    assert "Would import 2 contract(s) from 3 row(s)" in capsys.readouterr().out and state(tenant_a) == []
    call_command("import_contracts", str(good), "--tenant", "alpha")
    assert "created 2, updated 0, unchanged 0" in capsys.readouterr().out
    call_command("import_contracts", str(good), "--tenant", "alpha")
    assert "created 0, updated 0, unchanged 2" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("ACC-2", "NOPE"))
    with pytest.raises(CommandError, match="nothing written"):
        call_command("import_contracts", str(bad), "--tenant", "alpha")
    assert "row 4, Account ID: No account with ID 'NOPE'" in capsys.readouterr().err
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(GOOD.replace("Contract ID,", "Number,"))
    with pytest.raises(CommandError, match="No column found for: Contract ID"):
        call_command("import_contracts", str(renamed), "--tenant", "alpha")
    call_command("import_contracts", str(renamed), "--tenant", "alpha", "--map", "contract_id=Number")
    assert "unchanged 2" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No active tenant"):
        call_command("import_contracts", str(good), "--tenant", "nowhere")
