"""An SMS provider that fails, times out and whose sender is killed mid-delivery (issue 15
item 6), against the real local HTTP provider of tests/notifications/servers.py.

No worker consumes the broker here: the test drives delivery itself, once per fault, in
this process or (for the kill) in a subprocess killed with SIGKILL while the provider holds
its request. Every message must be delivered exactly once, each with one idempotency key on
every attempt."""

import signal
from collections import defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from loyalty import services as loyalty
from notifications import delivery
from notifications.models import Message
from tests.factories import CustomerFactory
from tests.loyalty.test_worker import drop_connections
from tests.notifications.conftest import ladder, sms_provider, use_sms  # noqa: F401

from .conftest import output, spawn, wait_for

pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MESSAGES = 5


@pytest.fixture
def no_eager_tasks():
    """On-commit kicks go to an in-memory broker nobody reads, not run in-process."""
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url="memory://", task_always_eager=False)
    drop_connections()
    yield
    app.conf.update(saved)
    drop_connections()


def due_now():
    Message.objects.filter(status="pending").update(next_attempt_at=timezone.now())


def test_every_sms_is_delivered_once_through_failures_timeouts_and_a_kill(
        postgres_only, no_eager_tasks, ladder, sms_provider, settings):  # noqa: F811
    use_sms(ladder.shop, email_enabled=False, sms_sender="Kramnytsia")
    for i in range(MESSAGES):
        customer = CustomerFactory(shop=ladder.shop, phone=f"+38067123450{i}", email="")
        Message.objects.filter(customer=customer).delete()  # the welcome is not under test
        loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    messages = list(Message.objects.order_by("pk"))
    assert len(messages) == MESSAGES

    # 1. The provider fails: three answers 503.
    sms_provider.failures = 3
    first = delivery.deliver_due()
    assert (first.sent, first.retried) == (2, 3)

    # 2. It times out: it accepts one message but answers after the client's timeout.
    settings.NOTIFICATIONS_HTTP_TIMEOUT = 1
    sms_provider.delays = [3.0]
    due_now()
    second = delivery.deliver_due()
    assert (second.sent, second.retried) == (2, 1)
    assert "timed out" in second.errors[0]

    # 3. The sender is killed mid-delivery: the provider holds its request, SIGKILL.
    sms_provider.delays = [60.0]
    due_now()
    before = len(sms_provider.requests)
    process = spawn("-c", "import django; django.setup(); from notifications import delivery; "
                          "print(delivery.deliver_due())",
                    SMS_PROVIDER_URL=sms_provider.url, SMS_PROVIDER_TOKEN="test-token",
                    NOTIFICATIONS_HTTP_TIMEOUT="60")
    try:
        wait_for(lambda: len(sms_provider.requests) > before or process.poll() is not None,
                 what="the subprocess's request")
        assert process.poll() is None, output(process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        sms_provider.release.set()
    (stuck,) = Message.objects.filter(status="sending")

    # 4. Its lease runs out (10 minutes later): the next delivery sends it again.
    Message.objects.filter(pk=stuck.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1))
    last = delivery.deliver_due()
    assert last.sent == 1

    keys = {m.pk: str(m.idempotency_key) for m in messages}
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert set(sms_provider.delivered) == set(keys.values())  # every message, once
    by_key = defaultdict(set)
    for request in sms_provider.requests:
        by_key[request.headers["Idempotency-Key"]].add(request.json["to"])
    assert set(by_key) == set(keys.values())  # no attempt under another key
    assert all(len(recipients) == 1 for recipients in by_key.values())
    attempts = dict(Message.objects.values_list("pk", "attempts"))
    assert attempts[stuck.pk] == 4  # 503, timeout, killed, delivered (dropped as a repeat)
    assert sum(attempts.values()) == len(sms_provider.requests)
    print(f"\nsms: {MESSAGES} messages, {len(sms_provider.requests)} requests (3 x 503, "
          f"1 timeout, 1 killed in flight), {len(sms_provider.delivered)} delivered, "
          "0 lost, 0 duplicated")
