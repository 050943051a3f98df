"""Usage ingestion: the API batch and the CSV import roll events up per account and day, count nothing twice,
and take a batch whole or not at all."""

import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from csplatform.tenancy.context import tenant_context
from health.models import UsageBatch, UsageDaily, UsageKey
from tests.api import count
from tests.factories import AccountFactory

from .conftest import days_ago

YESTERDAY, EARLIER = days_ago(1), days_ago(2)


def at(day, hour=10):
    return f"{day.isoformat()}T{hour:02d}:00:00+00:00"


def event(account, day=YESTERDAY, *, name="report.view", user="u1", **extra):
    return {"account": account.external_id, "occurred_at": at(day), "event": name, "user_id": user, **extra}


def send(api, events, batch_id="b-1"):
    return api.post("/usage-events/", {"batch_id": batch_id, "events": events})


def usage(tenant):
    """{(account id, day): (events, quantity, active users, features)}"""
    with tenant_context(tenant):
        return {(u.account_id, u.day): (u.events, u.quantity, u.active_users, u.features)
                for u in UsageDaily.objects.all()}


@pytest.fixture
def other(tenant_a):
    return AccountFactory(tenant=tenant_a, name="Globex")


def test_it_rolls_events_up_per_account_and_day(ops_api, tenant_a, account, other):
    events = [
        event(account, user="ann", name="report.view", quantity=2),
        event(account, user="ann", name="report.export", quantity="1.5"),
        event(account, user="bob", name="report.view"),
        event(account, EARLIER, user="ann"),
        {"account_id": other.pk, "occurred_at": at(YESTERDAY), "event": "login", "user_id": 42},
    ]
    response = send(ops_api, events)
    assert response.status_code == 201, response.json()
    assert response.json() == {"batch_id": "b-1", "accepted": 5, "accounts": 2, "days": 2, "duplicate": False}
    assert usage(tenant_a) == {
        (account.pk, YESTERDAY): (3, Decimal("4.50"), 2, 2),
        (account.pk, EARLIER): (1, Decimal("1.00"), 1, 1),
        (other.pk, YESTERDAY): (1, Decimal("1.00"), 1, 1),
    }


def test_it_counts_a_repeated_batch_once_and_says_it_was_a_duplicate(ops_api, tenant_a, account):
    events = [event(account, user="ann"), event(account, user="bob")]
    assert send(ops_api, events).status_code == 201
    again = send(ops_api, events)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["accepted"] == 0
    assert usage(tenant_a) == {(account.pk, YESTERDAY): (2, Decimal("2.00"), 2, 1)}
    assert count(UsageBatch, tenant_a) == 1


def test_it_counts_users_and_features_of_a_day_once_across_batches(ops_api, tenant_a, account):
    send(ops_api, [event(account, user="ann"), event(account, user="bob")], "morning")
    response = send(ops_api, [event(account, user="bob"), event(account, user="cy", name="export")], "evening")
    assert response.status_code == 201
    # Events add up; bob was already active that day and report.view already used.
    assert usage(tenant_a) == {(account.pk, YESTERDAY): (4, Decimal("4.00"), 3, 2)}


def test_it_keeps_user_ids_and_event_names_as_sent(ops_api, tenant_a, account):
    odd = ['a "quoted" user', "back\\slash", "comma, {braces}", "NULL", " spaced ", "ünïcödé ✓", "", "x" * 120]
    response = send(ops_api, [event(account, user=name, name=name or "e") for name in odd])
    assert response.status_code == 201, response.json()
    with tenant_context(tenant_a):
        users = set(UsageKey.objects.filter(kind="u").values_list("key", flat=True))
        features = set(UsageKey.objects.filter(kind="f").values_list("key", flat=True))
    assert users == set(odd) - {""}
    assert features == {name.strip() for name in odd if name} | {"e"}
    nul = send(ops_api, [event(account, user="a\x00b")], "b-2")
    assert nul.status_code == 400 and nul.json()["errors"][0]["field"] == "user_id"


def test_it_refuses_a_batch_id_sent_again_with_other_events(ops_api, tenant_a, account):
    send(ops_api, [event(account, user="ann")], "nightly-7")
    response = send(ops_api, [event(account, user="zed")], "nightly-7")
    assert response.status_code == 409
    assert "different events" in response.json()["detail"] and "new batch id" in response.json()["detail"]
    assert usage(tenant_a) == {(account.pk, YESTERDAY): (1, Decimal("1.00"), 1, 1)}


def test_it_rejects_the_whole_batch_for_one_bad_event_and_lists_every_error(ops_api, tenant_a, account):
    events = [event(account, user=f"u{i}") for i in range(10)]
    events[3]["occurred_at"] = "yesterday at noon"
    events[7]["quantity"] = -1
    events[8]["event"] = ""
    response = send(ops_api, events)
    assert response.status_code == 400
    body = response.json()
    assert "rejected whole" in body["detail"] and body["invalid_events"] == 3
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(3, "occurred_at"), (7, "quantity"), (8, "event")]
    assert usage(tenant_a) == {} and count(UsageBatch, tenant_a) == 0 and count(UsageKey, tenant_a) == 0

    # Nothing was recorded under that batch id, so the corrected batch goes through with it.
    events[3]["occurred_at"], events[7]["quantity"], events[8]["event"] = at(YESTERDAY), 1, "x"
    assert send(ops_api, events).status_code == 201


def test_it_takes_at_most_10000_events_per_batch(ops_api, tenant_a, account):
    response = send(ops_api, [event(account, user=str(i % 50)) for i in range(10_001)])
    assert response.status_code == 400
    assert "At most 10000 events" in response.json()["errors"][0]["error"]
    assert usage(tenant_a) == {} and count(UsageBatch, tenant_a) == 0


def test_it_does_not_know_the_accounts_of_another_tenant(ops_api, tenant_a, account, foreign_account):
    response = send(ops_api, [
        event(account),
        {"account": foreign_account.external_id, "occurred_at": at(YESTERDAY), "event": "login"},
        {"account_id": foreign_account.pk, "occurred_at": at(YESTERDAY), "event": "login"},
    ])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, "account"), (2, "account_id")]
    assert "No account with external id" in errors[0]["error"] and errors[1]["error"] == "No such account."
    assert usage(tenant_a) == {}


def test_it_rejects_times_without_a_utc_offset(ops_api, tenant_a, account):
    response = send(ops_api, [{**event(account), "occurred_at": f"{YESTERDAY}T10:00:00"}])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "field": "occurred_at", "error": "Give a UTC offset (e.g. 2026-11-23T10:00:00Z)."}]


def test_it_lists_odd_account_references_as_row_errors(ops_api, tenant_a, account):
    response = send(ops_api, [
        {**event(account), "account_id": [account.pk]},
        {**event(account), "account_id": True},
        {**event(account), "account_id": float(account.pk)},
        {**event(account), "account": {"id": 1}},
        {**event(account), "account_id": 2**70},
    ])
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [
        (0, "account_id"), (1, "account_id"), (2, "account_id"), (3, "account"), (4, "account_id")]
    assert usage(tenant_a) == {}


def test_it_counts_an_event_on_its_utc_day_whatever_offset_it_was_sent_with(ops_api, tenant_a, account):
    late = f"{EARLIER.isoformat()}T23:30:00-02:00"  # 01:30 UTC the next day
    response = send(ops_api, [
        {**event(account), "occurred_at": late, "user_id": "ann"},
        {**event(account), "occurred_at": f"{YESTERDAY.isoformat()}T10:00:00Z", "user_id": "ann"},
        {**event(account), "occurred_at": f"{YESTERDAY.isoformat()}T10:00:00.123456+00:00", "quantity": 0.25},
    ])
    assert response.status_code == 201, response.json()
    assert usage(tenant_a) == {(account.pk, YESTERDAY): (3, Decimal("2.25"), 2, 1)}


def test_it_forgets_the_usage_of_an_account_deleted_with_its_keys(ops_api, tenant_a, account, other):
    assert send(ops_api, [event(account, user="ann"), event(other, user="bob")]).status_code == 201
    with tenant_context(tenant_a):
        account.delete()  # UsageKey has no database constraint on account: the ORM cascade removes its keys
        assert set(UsageKey.objects.values_list("account_id", flat=True)) == {other.pk}
    assert usage(tenant_a) == {(other.pk, YESTERDAY): (1, Decimal("1.00"), 1, 1)}


def test_it_answers_400_to_a_body_that_is_not_a_batch(ops_api, account):
    assert ops_api.post("/usage-events/", [event(account)]).status_code == 400
    response = ops_api.client.post("/api/v1/usage-events/", "{not json", content_type="application/json",
                                   **ops_api.auth)
    assert response.status_code == 400 and "not JSON" in response.json()["detail"]
    missing_id = ops_api.post("/usage-events/", {"events": [event(account)]})
    assert missing_id.status_code == 400 and missing_id.json()["errors"][0]["field"] == "batch_id"


def test_it_takes_a_full_batch_above_djangos_default_upload_limit(ops_api, tenant_a, account, settings):
    long_name = "x" * 120
    events = [event(account, user=f"{'user' * 25}{i % 40}", name=f"{long_name[:-3]}{i % 30:03d}")
              for i in range(10_000)]
    body = json.dumps({"batch_id": "big", "events": events})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = ops_api.client.post("/api/v1/usage-events/", body, content_type="application/json", **ops_api.auth)
    assert response.status_code == 201, response.json()
    assert usage(tenant_a) == {(account.pk, YESTERDAY): (10_000, Decimal("10000.00"), 40, 30)}


def test_it_answers_413_to_a_body_over_the_size_limit(ops_api, account, monkeypatch):
    monkeypatch.setattr("health.api.usage.MAX_BODY_BYTES", 2_000)
    response = send(ops_api, [event(account, user=str(i)) for i in range(50)])
    assert response.status_code == 413 and "send smaller batches" in response.json()["detail"]


# --- manage.py import_usage -----------------------------------------------------------------------------


def write_csv(tmp_path, rows, name="usage.csv"):
    path = tmp_path / name
    path.write_text("account,occurred_at,event,user_id,quantity\n" + "".join(",".join(r) + "\n" for r in rows))
    return path


def import_usage(path, *args):
    call_command("import_usage", str(path), "--tenant", "alpha", *args)


def test_it_imports_a_usage_csv_in_batches_and_counts_nothing_twice(tenant_a, account, other, tmp_path, capsys):
    rows = [(account.external_id, at(YESTERDAY), "report.view", f"u{i % 3}", "1") for i in range(5)]
    rows += [(other.external_id, at(EARLIER), "login", "", "")]
    path = write_csv(tmp_path, rows)

    import_usage(path, "--chunk-size", "4")
    assert "6 events accepted into alpha" in capsys.readouterr().out
    expected = {(account.pk, YESTERDAY): (5, Decimal("5.00"), 3, 1), (other.pk, EARLIER): (1, Decimal("1.00"), 0, 1)}
    assert usage(tenant_a) == expected

    import_usage(path, "--chunk-size", "4")
    out = capsys.readouterr().out
    assert "0 events accepted" in out and "6 already imported" in out
    assert usage(tenant_a) == expected


def test_it_rejects_a_csv_batch_with_a_bad_line_and_exits_non_zero(tenant_a, account, tmp_path, capsys):
    rows = [(account.external_id, at(YESTERDAY), "report.view", "ann", "1")] * 3
    rows[1] = ("NO-SUCH-ACCOUNT", at(YESTERDAY), "report.view", "ann", "1")
    rows.append((account.external_id, f"{YESTERDAY}T10:00:00", "login", "bob", "1"))
    path = write_csv(tmp_path, rows)

    with pytest.raises(CommandError, match="2 bad row"):
        import_usage(path)
    err = capsys.readouterr().err
    # Line 1 is the header: the second event is on line 3.
    assert "line 3, account: No account with external id 'NO-SUCH-ACCOUNT'" in err
    assert "line 5, occurred_at: Give a UTC offset" in err
    assert usage(tenant_a) == {} and count(UsageBatch, tenant_a) == 0


def test_it_keeps_the_batches_before_a_bad_line_and_skips_them_after_the_fix(tenant_a, account, tmp_path, capsys):
    good = (account.external_id, at(YESTERDAY), "report.view", "ann", "1")
    rows = [good, good, good, ("NOPE", at(YESTERDAY), "login", "bob", "1")]
    path = write_csv(tmp_path, rows)
    with pytest.raises(CommandError, match="2 events accepted before line 4"):
        import_usage(path, "--chunk-size", "2")
    assert "line 5, account" in capsys.readouterr().err
    assert usage(tenant_a) == {(account.pk, YESTERDAY): (2, Decimal("2.00"), 1, 1)}

    rows[3] = (account.external_id, at(YESTERDAY), "login", "bob", "1")
    import_usage(write_csv(tmp_path, rows), "--chunk-size", "2")
    assert "2 events accepted into alpha; 2 already imported" in capsys.readouterr().out
    assert usage(tenant_a) == {(account.pk, YESTERDAY): (4, Decimal("4.00"), 2, 2)}


def test_it_names_the_missing_columns_of_a_usage_csv(tenant_a, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("customer,when,event\nx,y,z\n")
    with pytest.raises(CommandError, match=r"Missing column\(s\): account \(or account_id\), occurred_at"):
        import_usage(path)
