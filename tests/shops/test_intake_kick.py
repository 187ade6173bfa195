"""The kick after an order's commit: debounced per web process with a broker, never dropped
(a kick asked for inside the window is sent at its end), and when a kick is lost anyway
(broker down, process killed) beat's sweep applies the event."""

import threading
import time
from decimal import Decimal as D

import pytest

from shops import intake, tasks
from shops.models import IntakeEvent
from tests.factories import order
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db
WINDOW = 0.05


class Sent:
    def __init__(self):
        self.times: list[float] = []
        self.event = threading.Event()

    def __call__(self):
        self.times.append(time.monotonic())
        self.event.set()


def test_kicks_inside_a_window_are_sent_once_now_and_once_at_the_windows_end():
    sent = Sent()
    debounce = intake.KickDebounce(send=sent)
    started = time.monotonic()
    for _ in range(10):  # ten commits in quick succession
        debounce(WINDOW)
    assert len(sent.times) == 1  # the first goes out at once
    time.sleep(WINDOW * 3)
    assert len(sent.times) == 2  # the nine others share one trailing kick
    assert sent.times[1] - started >= WINDOW


def test_a_kick_asked_for_right_after_one_was_sent_is_not_dropped():
    sent = Sent()
    debounce = intake.KickDebounce(send=sent)
    debounce(WINDOW)
    sent.event.clear()
    asked = time.monotonic()
    debounce(WINDOW)  # the commit after the first kick went out: its drain may miss it
    assert sent.event.wait(1)
    assert len(sent.times) == 2
    assert sent.times[1] > asked  # sent after the commit, so its drain sees the event


def test_a_failing_trailing_kick_is_logged_and_the_next_one_goes_out(caplog):
    calls = []

    def send():
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("broker down")

    debounce = intake.KickDebounce(send=send)
    debounce(WINDOW)
    debounce(WINDOW)
    time.sleep(WINDOW * 3)
    assert "intake kick failed" in caplog.text
    debounce(WINDOW)
    assert calls == [1, 1, 1]


@pytest.mark.intake_on_commit
def test_a_lost_kick_leaves_the_event_pending_and_the_sweep_applies_it(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker is configured ...
    settings.INTAKE_KICK_WINDOW_MS = 0

    def broker_down(**kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks.drain_intake, "delay", broker_down)  # ... and unreachable
    shop = bonus_shop(tiers=(("0", "10"),))
    customer = customer_of(shop)
    with django_capture_on_commit_callbacks(execute=True):
        placed = order(customer, "250.00")  # the order is recorded all the same
    event = IntakeEvent.objects.get(order=placed)
    assert event.status == "pending"

    assert tasks.sweep_intake() == {"claimed": 1, "applied": 1, "failed": 0}
    event.refresh_from_db()
    assert event.status == "done"
    from loyalty import points

    assert points.balance(customer.pk) == 25
    assert placed.goods_total.amount == D("250.00")


@pytest.mark.intake_on_commit
def test_a_kick_sent_before_a_drain_that_emptied_the_queue_drains_nothing(monkeypatch):
    monkeypatch.setattr(intake, "_last_emptying_claim", float("-inf"))
    monkeypatch.setattr(intake, "schedule_drain", lambda: None)  # kicks by hand below
    shop = bonus_shop(tiers=(("0", "10"),))
    customer = customer_of(shop)
    order(customer, "100.00")
    stale_kick = time.time()
    assert tasks.drain_intake(kicked_at=time.time()) == {
        "claimed": 1, "applied": 1, "failed": 0}
    late = order(customer, "100.00")
    # A kick queued behind that drain was sent before it started: answered without a query.
    assert tasks.drain_intake(kicked_at=stale_kick) == {"claimed": 0, "applied": 0, "failed": 0}
    # The kick of the later order was sent after its commit: it drains it.
    assert tasks.drain_intake(kicked_at=time.time()) == {
        "claimed": 1, "applied": 1, "failed": 0}
    assert IntakeEvent.objects.get(order=late).status == "done"
