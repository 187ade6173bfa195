"""The order intake: an order change writes its facts and one event; the drain applies the
points, category, segments and messages from the events, exactly once, and a failing event
is kept, visible and retryable without holding up the others or the order."""

from decimal import Decimal as D

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty import points
from loyalty.models import CategoryChange, PointsEntry, SegmentMember
from notifications.models import Channel, Event, Message, MessageTemplate
from shops import events, intake, services
from shops.models import Customer, IntakeEvent, Order
from tests.factories import CategoryFactory, add_rule, order
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db

BROKEN = "{% include 'x.html' %}"


@pytest.fixture
def shop():
    """Member (default, 10% bonus) and Silver (one counted order of 1000 in 30 days)."""
    shop = bonus_shop(tiers=(("0", "10"),))
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "operator": "gte",
                      "amount": D(1000)})
    return shop


def broken_order_message(shop) -> MessageTemplate:
    return MessageTemplate.objects.create(
        shop=shop, event=Event.ORDER_COMPLETED, channel=Channel.EMAIL, subject="Thanks",
        body=BROKEN,
    )


def effects(customer) -> tuple:
    """Everything the drain writes for a customer."""
    return (
        sorted(PointsEntry.objects.filter(customer=customer).values_list("kind", "points")),
        points.balance(customer.pk),
        list(CategoryChange.objects.filter(customer=customer).order_by("pk")
             .values_list("reason", "to_category__name")),
        sorted(Message.objects.filter(customer=customer).values_list("event", "channel")),
        sorted(SegmentMember.objects.filter(customer=customer)
               .values_list("segment_id", flat=True)),
        Customer.objects.get(pk=customer.pk).category.name,
    )


@pytest.mark.intake_on_commit
def test_an_order_is_recorded_with_one_event_and_its_effects_follow_the_commit(
    shop, django_capture_on_commit_callbacks
):
    customer = customer_of(shop)
    with django_capture_on_commit_callbacks() as kicks:
        placed = order(customer, "1200.00")
    # In the order's transaction: the facts and one pending event, nothing else.
    (event,) = IntakeEvent.objects.filter(order=placed)
    assert (event.kind, event.status, event.customer_id) == ("counted", "pending", customer.pk)
    assert points.balance(customer.pk) == 0
    assert not Message.objects.filter(order=placed).exists()
    assert len(kicks) == 1

    kicks[0]()  # the commit's kick: without a broker the drain runs in-process
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == ("done", 1, "")
    assert points.balance(customer.pk) == 120
    assert Customer.objects.get(pk=customer.pk).category.name == "Silver"
    assert Message.objects.filter(order=placed, event=Event.ORDER_COMPLETED).exists()


@pytest.mark.intake_on_commit
def test_one_kick_per_transaction_however_many_events(shop, django_capture_on_commit_callbacks):
    customer = customer_of(shop)
    with django_capture_on_commit_callbacks() as kicks, transaction.atomic():
        for _ in range(3):
            order(customer, "10.00")
    assert IntakeEvent.objects.filter(customer=customer).count() == 3
    assert len(kicks) == 1


@pytest.mark.intake_on_commit
def test_a_broken_template_fails_only_its_message_never_the_order_or_its_points(
    shop, django_capture_on_commit_callbacks
):
    """A template that passes no check (written straight to the database) fails at render:
    the sandbox fails that one message with its reason; the order, its event and its points
    go through (a message problem never loses or holds back the storefront's order)."""
    broken_order_message(shop)
    emailed = customer_of(shop)
    no_email = customer_of(shop, email="")  # gets no message: nothing to render
    with django_capture_on_commit_callbacks(execute=True):
        first = order(emailed, "500.00")
        second = order(no_email, "300.00")

    assert Order.objects.filter(pk=first.pk).exists()  # the storefront's order is kept
    assert IntakeEvent.objects.get(order=first).status == "done"
    assert IntakeEvent.objects.get(order=second).status == "done"
    assert points.balance(emailed.pk) == 50
    assert points.balance(no_email.pk) == 30
    (message,) = Message.objects.filter(customer=emailed, event=Event.ORDER_COMPLETED)
    assert message.status == "failed"
    assert message.last_error.startswith("Template error: ")
    assert "include" in message.last_error


def test_a_failing_handler_fails_only_its_events_and_a_retry_applies_them(shop):
    customer, other = customer_of(shop), customer_of(shop)
    doomed: set[int] = set()

    def flaky(batch):
        if any(e.customer_id in doomed for e in batch):
            raise OverflowError("value out of range")

    events.on_intake(flaky)
    try:
        doomed.add(customer.pk)
        placed = order(customer, "200.00")
        fine = order(other, "200.00")
        event = IntakeEvent.objects.get(order=placed)
        assert event.status == "failed" and "OverflowError" in event.error
        assert points.balance(customer.pk) == 0
        assert IntakeEvent.objects.get(order=fine).status == "done"
        assert points.balance(other.pk) == 20

        services.return_record(order=placed, value=D("50.00"))  # still failing: kept too
        assert IntakeEvent.objects.filter(order=placed, status="failed").count() == 2

        doomed.clear()  # the cause is fixed
        assert intake.events_retry(event_ids=IntakeEvent.objects.filter(
            status="failed").values_list("pk", flat=True)) == 2
    finally:
        events._intake_handlers.remove(flaky)
    assert not IntakeEvent.objects.exclude(status="done").exists()
    assert points.balance(customer.pk) == 15  # 10% of 200 - 50
    assert points.order_points(placed.pk) == 15


def test_an_event_delivered_twice_changes_nothing(shop):
    customer = customer_of(shop)
    placed = order(customer, "1200.00")
    services.return_record(order=placed, value=D("300.00"))
    before = effects(customer)
    assert before[0] == [("earned", 120), ("reversed", -30)]

    IntakeEvent.objects.update(status="pending")  # the whole history delivered again
    assert intake.drain().applied == 2
    batch = [intake._as_change(e, {}) for e in IntakeEvent.objects.order_by("pk")]
    events.intake_apply(batch)  # and handed to the handlers once more
    events.intake_apply(batch[:1])
    assert effects(customer) == before


@pytest.mark.intake_on_commit
def test_a_crash_between_claim_and_commit_leaves_the_events_pending_then_converges(shop):
    customer = customer_of(shop)
    placed = order(customer, "1200.00")

    def crash(batch):  # after loyalty's and notifications' handlers wrote their effects
        raise KeyboardInterrupt  # not an error of one event: the process goes away

    events.on_intake(crash)
    try:
        with pytest.raises(KeyboardInterrupt):
            intake.drain()
    finally:
        events._intake_handlers.remove(crash)
    event = IntakeEvent.objects.get(order=placed)
    assert (event.status, event.attempts) == ("pending", 0)  # the claim rolled back too
    assert effects(customer)[:2] == ([], 0)

    assert intake.drain().applied == 1
    assert intake.drain().claimed == 0
    assert effects(customer)[:2] == ([("earned", 120)], 120)
    assert Customer.objects.get(pk=customer.pk).category.name == "Silver"


def test_orders_of_one_customer_in_one_batch_earn_as_if_applied_one_by_one(monkeypatch):
    """An order earns at its customer's category when its event is applied: a batch gives
    what the events one after the other give (the first order moves the customer up)."""
    from tests.loyalty.points_builders import bonus_program

    shop = bonus_shop(tiers=(("0", "1"),))
    gold = CategoryFactory(shop=shop, name="Gold", rank=2, program="bonus")
    bonus_program(gold, ("0", "5"))
    add_rule(gold, {"kind": "window_spend", "days": 30, "operator": "gte", "amount": D(1000)})
    one_by_one, batched = customer_of(shop), customer_of(shop)
    order(one_by_one, "1000.00", days_ago=2)
    order(one_by_one, "1000.00", days_ago=1)

    with monkeypatch.context() as later:
        later.setattr(intake, "schedule_drain", lambda: None)
        order(batched, "1000.00", days_ago=2)
        order(batched, "1000.00", days_ago=1)
    assert intake.drain().applied == 2
    assert effects(batched)[:2] == effects(one_by_one)[:2] == (
        [("earned", 10), ("earned", 50)], 60)


def test_failed_events_are_listed_and_retried_in_the_admin(shop, admin_client):
    customer = customer_of(shop)
    broken = True

    def failing(batch):
        if broken and any(e.customer_id == customer.pk for e in batch):
            raise OverflowError("value out of range")

    events.on_intake(failing)
    try:
        placed = order(customer, "500.00")
        url = reverse("admin:shops_intakeevent_changelist")

        page = admin_client.get(url, {"status__exact": "failed"})
        assert page.status_code == 200
        assert placed.number in page.content.decode()
        assert "OverflowError" in page.content.decode()

        broken = False  # the cause is fixed
        event = IntakeEvent.objects.get(order=placed)
        response = admin_client.post(url, {"action": "retry_selected",
                                           "_selected_action": [event.pk]}, follow=True)
    finally:
        events._intake_handlers.remove(failing)
    assert "1 failed order events queued again." in response.content.decode()
    event.refresh_from_db()
    assert event.status == "done"
    assert points.balance(customer.pk) == 50


def test_the_event_list_keeps_its_queries_whatever_the_number_of_rows(shop, admin_client):
    url = reverse("admin:shops_intakeevent_changelist")
    customer = customer_of(shop)
    order(customer, "10.00")
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(5):
        order(customer_of(shop), "10.00")
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)


@pytest.mark.intake_on_commit
def test_the_sweep_applies_what_no_kick_did_and_forgets_old_applied_events(shop):
    from datetime import timedelta

    from django.utils import timezone

    from shops import tasks

    customer = customer_of(shop)
    placed = order(customer, "100.00")  # its kick never runs (the commit never comes)
    assert IntakeEvent.objects.get(order=placed).status == "pending"
    assert tasks.sweep_intake() == {"claimed": 1, "applied": 1, "failed": 0}
    assert points.balance(customer.pk) == 10
    IntakeEvent.objects.update(processed_at=timezone.now() - timedelta(days=8))
    tasks.sweep_intake()
    assert not IntakeEvent.objects.exists()
