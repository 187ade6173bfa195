"""Delivery against real local servers: SMTP (aiosmtpd), an SMS provider and a webhook
receiver over HTTP. Retries, leases, idempotency keys, concurrent workers."""

import hashlib
import hmac
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from loyalty import services as loyalty
from notifications import delivery
from notifications.models import ChannelSettings, Message
from tests.factories import CustomerFactory

from .conftest import use_sms

pytestmark = pytest.mark.django_db


def move_up(ladder, **customer):
    customer = CustomerFactory(shop=ladder.shop, **customer)
    Message.objects.filter(customer=customer).delete()  # the welcome is not under test
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    return customer


def sms_customer(ladder):
    use_sms(ladder.shop, email_enabled=False, sms_sender="Kramnytsia")
    customer = move_up(ladder, phone="+380671234567", email="")
    return Message.objects.get(customer=customer)


def backoff_elapsed():
    Message.objects.filter(status="pending").update(next_attempt_at=timezone.now())


def test_email_goes_through_smtp_with_the_idempotency_key_as_message_id(ladder, smtp):
    customer = move_up(ladder, language="en", name="Ann", email="ann@example.com")

    report = delivery.deliver_due()

    message = Message.objects.get(customer=customer)
    assert report.sent == 1 and message.status == "sent" and message.sent_at is not None
    (received,) = smtp.messages
    assert received["To"] == "ann@example.com"
    assert received["Subject"] == "You are now Silver at Крамниця"
    assert received["Message-ID"] == f"<{message.idempotency_key}@patron>"


def test_sms_retries_after_a_failing_provider_then_delivers_exactly_once(ladder, sms_provider):
    message = sms_customer(ladder)
    sms_provider.failures = 2

    before = timezone.now()
    delivery.deliver_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("HTTP 503")
    assert message.next_attempt_at >= before + timedelta(minutes=1)
    assert delivery.deliver_due().sent == 0  # not due yet: backoff

    backoff_elapsed()
    delivery.deliver_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 2)
    assert message.next_attempt_at >= timezone.now() + timedelta(minutes=1, seconds=50)

    backoff_elapsed()
    delivery.deliver_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 3)
    assert len(sms_provider.requests) == 3
    (delivered,) = sms_provider.delivered.values()
    assert delivered.headers["Authorization"] == "Bearer test-token"
    assert delivered.headers["Idempotency-Key"] == str(message.idempotency_key)
    assert delivered.json == {
        "to": "+380671234567", "from": "Kramnytsia", "text": message.body,
        "reference": str(message.idempotency_key),
    }


def test_a_worker_dying_after_sending_does_not_deliver_twice(ladder, sms_provider):
    message = sms_customer(ladder)
    (claimed,) = delivery.claim()
    from notifications import channels

    channels.send(claimed, ChannelSettings.objects.get(shop=ladder.shop))
    # ...the worker dies here, before marking the message sent. Its lease runs out:
    Message.objects.filter(pk=message.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )

    assert delivery.deliver_due().sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    keys = [r.headers["Idempotency-Key"] for r in sms_provider.requests]
    assert keys == [str(message.idempotency_key)] * 2  # sent twice with one key...
    assert len(sms_provider.delivered) == 1  # ...delivered once


def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends(ladder):
    move_up(ladder)
    first = delivery.claim()
    assert len(first) == 1
    assert delivery.claim() == []
    assert len(delivery.claim(now=timezone.now() + delivery.LEASE + timedelta(seconds=1))) == 1


def test_a_late_worker_cannot_mark_a_message_another_worker_took_over(ladder, sms_provider):
    message = sms_customer(ladder)
    (late,) = delivery.claim()
    (current,) = delivery.claim(now=timezone.now() + delivery.LEASE + timedelta(seconds=1))

    report = delivery.Report()
    delivery._attempt(late, ChannelSettings.objects.get(shop=ladder.shop), report)

    assert report.sent == 0  # its claim token is stale
    message.refresh_from_db()
    assert message.status == "sending" and message.claim == current.claim


def test_a_permanent_error_fails_at_once_with_the_error(ladder, sms_provider):
    message = sms_customer(ladder)
    sms_provider.failures, sms_provider.fail_with = 1, 400

    delivery.deliver_due()

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error.startswith("HTTP 400")


def test_gives_up_after_the_last_attempt(ladder, sms_provider, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    message = sms_customer(ladder)
    sms_provider.failures = 10
    for _ in range(3):
        delivery.deliver_due()
        backoff_elapsed()

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    assert message.last_error.startswith("HTTP 503")
    assert sms_provider.delivered == {}


def test_sms_without_a_configured_provider_fails_with_a_clear_error(ladder, settings):
    settings.SMS_PROVIDER_URL = ""
    message = sms_customer(ladder)

    delivery.deliver_due()

    message.refresh_from_db()
    assert message.status == "failed"
    assert message.last_error == "The SMS provider is not configured (SMS_PROVIDER_URL)."


def test_webhook_posts_json_signed_with_hmac_sha256(ladder, webhook_receiver):
    ChannelSettings.objects.create(
        shop=ladder.shop, email_enabled=False, webhook_url=webhook_receiver.url,
        webhook_secret="s3cret",
    )
    customer = move_up(ladder, language="ru", name="Иван")

    delivery.deliver_due()

    message = Message.objects.get(customer=customer)
    assert message.status == "sent"
    (request,) = webhook_receiver.requests
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Patron-Signature"] == f"sha256={expected}"
    assert request.json["id"] == str(message.idempotency_key)
    assert request.json["event"] == "category_up"
    assert request.json["title"] == "Ваша новая категория в Крамниця: Серебряный"
    assert request.json["customer"]["external_id"] == customer.external_id


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_workers_deliver_each_message_once(on_postgres, ladder, sms_provider):
    use_sms(ladder.shop, email_enabled=False)
    customers = [CustomerFactory(shop=ladder.shop, phone=f"+38067000{i:04d}", email="")
                 for i in range(40)]
    Message.objects.all().delete()  # the welcomes
    for customer in customers:
        loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    assert Message.objects.filter(channel="sms", status="pending").count() == 40

    start = threading.Barrier(2)
    reports = []

    def worker():
        try:
            start.wait()
            reports.append(delivery.deliver_due(limit=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert Message.objects.filter(status="sent").count() == 40
    assert len(sms_provider.requests) == 40  # not deduplicated: never sent twice at all
    assert len(sms_provider.delivered) == 40
    assert sum(r.sent for r in reports) == 40
    assert all(r.sent > 0 for r in reports)  # both workers took part
