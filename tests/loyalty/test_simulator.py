"""The what-if simulator's figures on the small fixed history of docs/simulator.md."""


import pytest

from loyalty.models import SimulationStatus
from loyalty.simulator import services
from tests.conftest import shared_world

from .simulator_world import build

pytestmark = [pytest.mark.django_db, pytest.mark.intake_on_commit]

world = shared_world(build)


def simulate(w, ladder=None):
    run = services.simulation_request(shop=w["shop"], months=1, last_week_end=w["last"],
                                      ladder=ladder)
    return services.simulation_run(run_id=run.pk)


def per_category(week, w):
    return tuple(week["customers"].get(str(w[name].pk), 0) for name in ("member", "silver", "gold"))


def test_s1_simulator_small_history(world):
    run = simulate(world)
    assert run.status == SimulationStatus.FINISHED, run.error
    assert (run.weeks_done, run.weeks_total) == (4, 4)
    weeks = run.results
    assert [w["end"] for w in weeks] == [d.isoformat() for d in world["ends"]]
    assert [per_category(w, world) for w in weeks] == [(1, 2, 1), (0, 3, 1), (2, 3, 0),
                                                     (4, 1, 0)]
    assert [(w["moved_up"], w["moved_down"]) for w in weeks] == [(2, 0), (1, 0), (0, 2),
                                                               (0, 2)]
    assert [w["orders"] for w in weeks] == [3, 3, 0, 1]
    assert [w["discount"] for w in weeks] == ["15.00", "10.00", "0.00", "5.00"]
    assert [w["points"] for w in weeks] == [0, 20, 0, 0]
    assert [w["messages"] for w in weeks] == [
        {"category_down/email": 0, "category_up/email": 2, "order_completed/email": 3},
        {"category_down/email": 0, "category_up/email": 0, "order_completed/email": 2},
        {"category_down/email": 2, "category_up/email": 0, "order_completed/email": 0},
        {"category_down/email": 1, "category_up/email": 0, "order_completed/email": 1},
    ]
