"""The simulator in the admin: saved and edited ladders, table, chart, CSV, progress and
shop scoping, on the history of docs/simulator.md (S1)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty.models import Condition, LadderSource, SimulationRun, SimulationStatus
from loyalty.simulator import engine, services
from tests.conftest import shared_world
from tests.factories import ShopFactory
from tests.scoping_world import staff_of

from .simulator_world import build

pytestmark = [pytest.mark.django_db, pytest.mark.intake_on_commit]

world = shared_world(build)


def start(client, w, capture, **data):
    with capture(execute=True):
        response = client.post(reverse("admin:loyalty_simulationrun_add"), {
            "shop": w["shop"].pk, "months": "1", "last_week_end": w["last"].isoformat(),
            **data})
    return response


def test_s1_saved_ladder_from_the_admin_table_chart_and_csv(
        admin_client, world, django_capture_on_commit_callbacks):
    response = start(admin_client, world, django_capture_on_commit_callbacks)
    run = SimulationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:loyalty_simulationrun_change", args=[run.pk])
    assert (run.status, run.source, run.weeks_done) == (SimulationStatus.FINISHED,
                                                        LadderSource.SAVED, 4)
    html = admin_client.get(response["Location"]).content.decode()
    assert '<span class="simulation-progress">4 / 4</span>' in html
    assert '<td class="simulation-discount">30.00 PLN</td>' in html
    assert html.count("<polyline") == 3 and '<svg class="simulation-chart"' in html
    assert 'http-equiv="refresh"' not in html  # finished: no more reloading
    csv = admin_client.get(reverse("admin:loyalty_simulationrun_csv", args=[run.pk]))
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    e = [d.isoformat() for d in world["ends"]]
    assert csv.content.decode().splitlines() == [
        "week,week ends,Gold,Silver,Member,moved up,moved down,counted orders,discount cost,"
        "points earned,messages category_down/email,messages category_up/email,"
        "messages order_completed/email",
        f"1,{e[0]},1,2,1,2,0,3,15.00,0,0,2,3",
        f"2,{e[1]},1,3,0,1,0,3,10.00,20,0,0,2",
        f"3,{e[2]},0,3,2,0,2,0,0.00,0,2,0,0",
        f"4,{e[3]},0,1,4,0,2,1,5.00,0,1,0,1",
    ]


def silver_rule_post(w, amount, **extra):
    rule = w["silver"].rules.get()
    condition = rule.conditions.get()
    return {
        "category": rule.category_id, "name": rule.name,
        "conditions-TOTAL_FORMS": "1", "conditions-INITIAL_FORMS": "1",
        "conditions-MIN_NUM_FORMS": "0", "conditions-MAX_NUM_FORMS": "1000",
        "conditions-0-id": condition.pk, "conditions-0-rule": rule.pk,
        "conditions-0-kind": "window_spend", "conditions-0-operator": "gte",
        "conditions-0-amount": amount, "conditions-0-days": "14",
        "conditions-0-count": "", "conditions-0-client_type": "", "conditions-0-text": "",
        "conditions-0-product": "", "conditions-0-collection": "", **extra,
    }


def test_s2_edited_unsaved_ladder_is_simulated_and_nothing_is_saved(
        admin_client, world, django_capture_on_commit_callbacks, monkeypatch):
    # The button simulates the last 12 months; the fixed history is the last 4 weeks.
    monkeypatch.setattr(services, "weeks_in", lambda months: 4)
    rule = world["silver"].rules.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:loyalty_rule_change", args=[rule.pk]),
                                     silver_rule_post(world, "1300", _simulate="1"))
    run = SimulationRun.objects.get()
    assert response.status_code == 302
    assert Condition.objects.get(rule=rule).amount == Decimal(1000)  # not saved
    assert run.source == LadderSource.EDITED
    assert run.ladder["categories"][1]["rules"][0]["conditions"][0]["amount"] == "1300.00"
    assert run.status == SimulationStatus.FINISHED, run.error
    weeks = run.results
    s, m, g = (str(world[n].pk) for n in ("silver", "member", "gold"))
    assert [(w["customers"].get(m, 0), w["customers"].get(s, 0), w["customers"].get(g, 0))
            for w in weeks] == [(2, 1, 1), (1, 2, 1), (4, 1, 0), (4, 1, 0)]
    assert [(w["moved_up"], w["moved_down"]) for w in weeks] == [(1, 0), (1, 0), (0, 2),
                                                               (0, 0)]
    assert [w["discount"] for w in weeks] == ["15.00", "0.00", "0.00", "0.00"]
    assert [w["points"] for w in weeks] == [0, 20, 0, 0]


def test_progress_is_saved_after_each_week(world, monkeypatch):
    run = SimulationRun.objects.create(
        shop=world["shop"], ladder=services.snapshot.take(world["shop"]), months=1,
        first_week_end=world["ends"][0], last_week_end=world["last"], weeks_total=4)
    seen = []
    week = engine.Replay.week

    def spy(self, k):
        seen.append(SimulationRun.objects.values_list("weeks_done", "status").get(pk=run.pk))
        return week(self, k)

    monkeypatch.setattr(engine.Replay, "week", spy)
    services.simulation_run(run_id=run.pk)
    assert seen == [(0, "running"), (1, "running"), (2, "running"), (3, "running")]
    assert services.simulation_run(run_id=run.pk) is None  # a second delivery does nothing


def test_a_queued_simulation_page_shows_its_progress_and_reloads(admin_client, world):
    run = SimulationRun.objects.create(
        shop=world["shop"], ladder={"categories": []}, months=1,
        first_week_end=world["ends"][0], last_week_end=world["last"], weeks_total=4)
    html = admin_client.get(reverse("admin:loyalty_simulationrun_change",
                                    args=[run.pk])).content.decode()
    assert '<span class="simulation-progress">0 / 4</span>' in html
    assert 'http-equiv="refresh"' in html


def test_staff_see_only_their_shops_simulations(client, world, django_capture_on_commit_callbacks):
    other = ShopFactory(code="other")
    mine = SimulationRun.objects.create(
        shop=other, ladder={"categories": []}, months=1, first_week_end=world["ends"][0],
        last_week_end=world["last"], weeks_total=4)
    theirs = SimulationRun.objects.create(
        shop=world["shop"], ladder={"categories": []}, months=1,
        first_week_end=world["ends"][0], last_week_end=world["last"], weeks_total=4)
    client.force_login(staff_of(other))
    listing = client.get(reverse("admin:loyalty_simulationrun_changelist")).content.decode()
    assert reverse("admin:loyalty_simulationrun_change", args=[mine.pk]) in listing
    assert reverse("admin:loyalty_simulationrun_change", args=[theirs.pk]) not in listing
    for name in ("change", "csv"):
        url = reverse(f"admin:loyalty_simulationrun_{name}", args=[theirs.pk])
        assert client.get(url).status_code == 404
    response = start(client, world, django_capture_on_commit_callbacks)  # another shop's id
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert SimulationRun.objects.count() == 2


def test_months_out_of_range_are_refused_with_nothing_recorded(world):
    with pytest.raises(services.ValidationError):
        services.simulation_request(shop=world["shop"], months=0)
    with pytest.raises(services.ValidationError):
        services.simulation_request(shop=world["shop"], months=1,
                                    last_week_end=world["shop"].today())
    assert not SimulationRun.objects.exists()
