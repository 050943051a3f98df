"""Scorecard configuration for ops: list, create/edit with measures, settings, restate history, permissions."""

import pytest

from csplatform.jobs.models import JobRun
from csplatform.tenancy.context import tenant_context
from health.models import HealthScore, HealthSettings, Measure, Scorecard
from tests.factories import LifecycleStageFactory, SegmentFactory

from .conftest import TODAY, days_ago

BASE = "/t/alpha/health/scorecards/"


def measure_rows(*rows, initial=0):
    """Formset data for the measures table; each row a dict of field -> value."""
    data = {"measures-TOTAL_FORMS": str(len(rows)), "measures-INITIAL_FORMS": str(initial),
            "measures-MIN_NUM_FORMS": "0", "measures-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data.update({f"measures-{i}-{key}": value for key, value in row.items()})
    return data


def measure(kind="seat_utilisation", weight="20", red="10", green="60", direction="higher", window="30",
            position="0", **extra):
    return {"kind": kind, "label": "", "window_days": window, "weight": weight, "direction": direction,
            "red_threshold": red, "green_threshold": green, "position": position, **extra}


def card_data(name="Enterprise health", **fields):
    return {"name": name, "description": "", "priority": "10", "is_active": "on", **fields}


def cards(tenant):
    with tenant_context(tenant):
        return {c.name: (c.is_default, sorted((m.kind, str(m.weight)) for m in c.measures.all()),
                         sorted(s.name for s in c.segments.all()), sorted(s.name for s in c.stages.all()))
                for c in Scorecard.objects.all()}


def default_card(tenant):
    with tenant_context(tenant):
        return Scorecard.objects.get(is_default=True)


@pytest.fixture
def smb(tenant_a):
    return SegmentFactory(tenant=tenant_a, name="SMB")


def test_it_lists_the_scorecards_with_their_assignment_and_measures(client, tenant_a, owner, smb):
    client.force_login(owner)
    client.post(f"{BASE}new/", {**card_data(segments=[smb.pk]), **measure_rows(measure())})
    response = client.get(BASE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Standard health" in page and "Enterprise health" in page
    standard = page[page.index("Standard health"):]
    assert "<strong>Default</strong>" in standard[:standard.index("</tr>")]
    enterprise = page[page.index(">Enterprise health<"):]
    row = enterprise[:enterprise.index("</tr>")]
    assert "SMB" in row and '<td class="num">1</td>' in row
    assert 'action="/t/alpha/health/settings/"' in page and 'action="/t/alpha/health/restate/"' in page


def test_ops_create_a_scorecard_for_segments_and_stages_with_measures(client, tenant_a, owner, smb):
    onboarding = LifecycleStageFactory(tenant=tenant_a, name="Onboarding")
    client.force_login(owner)
    response = client.post(f"{BASE}new/", {
        **card_data(segments=[smb.pk], stages=[onboarding.pk]),
        **measure_rows(measure(), measure(kind="open_priority_tickets", weight="5", red="3", green="0",
                                          direction="lower", position="1"))})
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}?saved=scorecard#restate"
    assert cards(tenant_a)["Enterprise health"] == (
        False, [("open_priority_tickets", "5.00"), ("seat_utilisation", "20.00")], ["SMB"], ["Onboarding"])
    page = client.get(response["Location"]).content.decode()
    assert "Enterprise health saved." in page and "You changed the scoring rules." in page


def test_the_form_explains_each_measure_and_previews_its_mapping(client, tenant_a, owner):
    client.force_login(owner)
    page = client.get(f"{BASE}{default_card(tenant_a).pk}/").content.decode()
    assert "Seat utilisation (% of licensed seats active daily)" in page
    assert "raw 10 → 0, raw 60 → 100, linear between" in page
    assert "raw 3 → 0, raw 0 → 100, linear between" in page  # open tickets: lower is better
    assert client.get(f"{BASE}new/").status_code == 200


@pytest.mark.parametrize("direction, red, green, error", [
    ("higher", "60", "10", "Higher is better: the green threshold must be above the red."),
    ("lower", "0", "3", "Lower is better: the green threshold must be below the red."),
])
def test_thresholds_against_the_direction_are_refused_and_nothing_is_saved(client, tenant_a, owner, smb,
                                                                          direction, red, green, error):
    before = cards(tenant_a)
    client.force_login(owner)
    response = client.post(f"{BASE}new/", {**card_data(segments=[smb.pk]),
                                           **measure_rows(measure(), measure(direction=direction, red=red,
                                                                             green=green, position="1"))})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_measures-1-green_threshold-error">{error}' in page
    assert cards(tenant_a) == before

    # Editing an existing scorecard into the same mistake leaves it as it was.
    card = default_card(tenant_a)
    with tenant_context(tenant_a):
        first = card.measures.first()
    response = client.post(f"{BASE}{card.pk}/", {
        **card_data(name=card.name, is_default="on"),
        **measure_rows(measure(kind=first.kind, direction=direction, red=red, green=green, id=first.pk), initial=1)})
    assert response.status_code == 400 and error in response.content.decode()
    assert cards(tenant_a) == before


def test_a_zero_weight_and_a_scorecard_without_measures_are_refused(client, tenant_a, owner, smb):
    before = cards(tenant_a)
    client.force_login(owner)
    response = client.post(f"{BASE}new/", {**card_data(segments=[smb.pk]), **measure_rows(measure(weight="0"))})
    assert response.status_code == 400 and "The weight must be above 0." in response.content.decode()
    response = client.post(f"{BASE}new/", {**card_data(segments=[smb.pk]), **measure_rows()})
    assert response.status_code == 400 and "A scorecard needs at least one measure." in response.content.decode()
    assert cards(tenant_a) == before


def test_a_scorecard_that_is_not_the_default_needs_segments_or_stages(client, tenant_a, owner):
    before = cards(tenant_a)
    client.force_login(owner)
    response = client.post(f"{BASE}new/", {**card_data(), **measure_rows(measure())})
    assert response.status_code == 400
    assert "Pick the segments or lifecycle stages this scorecard is for" in response.content.decode()
    assert cards(tenant_a) == before


def test_there_is_only_one_default_scorecard(client, tenant_a, owner):
    old = default_card(tenant_a)
    client.force_login(owner)
    response = client.post(f"{BASE}new/", {**card_data(name="New standard", is_default="on"),
                                           **measure_rows(measure())})
    assert response.status_code == 302
    assert {name: row[0] for name, row in cards(tenant_a).items()} == {"Standard health": False, "New standard": True}

    # The default cannot simply be unticked: another scorecard must take it over.
    new = default_card(tenant_a)
    with tenant_context(tenant_a):
        only = new.measures.get()
    response = client.post(f"{BASE}{new.pk}/", {**card_data(name="New standard", segments=[]),
                                                **measure_rows(measure(id=only.pk), initial=1)})
    assert response.status_code == 400
    assert "Another scorecard must be the default before this one stops being it." in response.content.decode()
    assert default_card(tenant_a).pk == new.pk and old.pk != new.pk


def test_ops_edit_measures_change_remove_and_add(client, tenant_a, owner):
    card = default_card(tenant_a)
    with tenant_context(tenant_a):
        kept, dropped, *others = list(card.measures.all())
    rows = [measure(kind=kept.kind, weight="40", red="5", green="50", id=kept.pk),
            measure(kind=dropped.kind, weight=str(dropped.weight), red=str(dropped.red_threshold),
                    green=str(dropped.green_threshold), direction=dropped.direction, id=dropped.pk, DELETE="on")]
    rows += [measure(kind=m.kind, weight=str(m.weight), red=str(m.red_threshold), green=str(m.green_threshold),
                     direction=m.direction, window=str(m.window_days), position=str(m.position), id=m.pk)
             for m in others]
    rows.append(measure(kind="csat", weight="7", red="2", green="4.5", position="20"))
    client.force_login(owner)
    response = client.post(f"{BASE}{card.pk}/", {**card_data(name="Standard health", is_default="on"),
                                                **measure_rows(*rows, initial=len(rows) - 1)})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        measures = {m.kind: m for m in Measure.objects.filter(scorecard=card)}
    assert dropped.kind not in measures and measures["csat"].weight == 7
    assert (measures[kept.kind].weight, measures[kept.kind].red_threshold) == (40, 5)
    assert len(measures) == len(others) + 2


def test_ops_change_the_health_settings(client, tenant_a, owner):
    client.force_login(owner)
    response = client.post("/t/alpha/health/settings/", {
        "green_from": "75", "yellow_from": "45", "drop_alert_points": "10", "drop_alert_days": "14",
        "green_goal_percent": "85", "survey_link_days": "7"})
    assert response.status_code == 302 and response["Location"] == f"{BASE}?saved=settings#restate"
    with tenant_context(tenant_a):
        rules = HealthSettings.objects.get()
    assert (rules.green_from, rules.yellow_from, rules.green_goal_percent, rules.survey_link_days) == (75, 45, 85, 7)

    response = client.post("/t/alpha/health/settings/", {
        "green_from": "40", "yellow_from": "60", "drop_alert_points": "10", "drop_alert_days": "14",
        "green_goal_percent": "85", "survey_link_days": "7"})
    assert response.status_code == 400 and "Green must start above yellow." in response.content.decode()
    with tenant_context(tenant_a):
        assert HealthSettings.objects.get().green_from == 75


def test_restating_history_recomputes_the_last_n_days(client, tenant_a, owner, account,
                                                      django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/t/alpha/health/restate/", {"days": "3"})
    assert response.status_code == 302 and response["Location"] == "/t/alpha/ops/jobs/?job=health.scores"
    page = client.get(response["Location"]).content.decode()
    assert "Recomputing the last 3 days is queued" in page
    with tenant_context(tenant_a):
        days = set(HealthScore.objects.filter(account=account).values_list("day", flat=True))
        runs = set(JobRun.objects.filter(job="health.scores").values_list("day", "status", "trigger"))
    assert days == {TODAY, days_ago(1), days_ago(2)}
    assert runs == {(d, "succeeded", "restate") for d in days}


@pytest.mark.parametrize("days", ["0", "366", "abc", ""])
def test_restate_days_outside_1_to_365_are_refused(client, tenant_a, owner, days, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/t/alpha/health/restate/", {"days": days})
    assert response.status_code == 400 and not callbacks
    assert 'id="id_days-error"' in response.content.decode()


def test_only_ops_configure_scorecards(client, tenant_a, owner, teammate):
    from csplatform.tenancy.models import Role
    from tests.api import member

    card = default_card(tenant_a)
    for user in (teammate, member(tenant_a, Role.MANAGER, "mgr@alpha.test"),
                 member(tenant_a, Role.EXECUTIVE, "exec@alpha.test")):
        client.force_login(user)
        assert client.get(BASE).status_code == 403
        assert client.get(f"{BASE}{card.pk}/").status_code == 403
        assert client.post(f"{BASE}new/", {**card_data(is_default="on"), **measure_rows(measure())}).status_code == 403
        assert client.post("/t/alpha/health/settings/", {"green_from": "90"}).status_code == 403
        assert client.post("/t/alpha/health/restate/", {"days": "3"}).status_code == 403
        assert client.get("/t/alpha/health/").status_code == 200  # but they all see the dashboard
    assert list(cards(tenant_a)) == ["Standard health"]
    admin = member(tenant_a, Role.ADMIN, "admin@alpha.test")
    client.force_login(admin)
    assert client.get(BASE).status_code == 200


def test_another_tenants_scorecard_is_not_found(client, tenant_a, tenant_b, owner, outsider):
    card = default_card(tenant_a)
    client.force_login(outsider)
    assert client.get(f"{BASE}{card.pk}/").status_code == 404
    assert client.get(f"/t/bravo/health/scorecards/{card.pk}/").status_code == 404
    response = client.post(f"/t/bravo/health/scorecards/{card.pk}/",
                           {**card_data(name="Hijacked", is_default="on"), **measure_rows(measure())})
    assert response.status_code == 404
    assert default_card(tenant_a).name == "Standard health"
    client.force_login(owner)
    assert client.get(f"/t/alpha/health/scorecards/{default_card(tenant_b).pk}/").status_code == 404
