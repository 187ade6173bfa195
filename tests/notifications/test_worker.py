"""End to end under a real Celery worker and Redis broker (CI): a category change commits,
the on-commit kick reaches the worker, which delivers the email to a real SMTP server."""

import time

import pytest

from loyalty import services as loyalty
from notifications.models import Message
from tests.factories import CustomerFactory
from tests.loyalty.test_worker import redis_worker  # noqa: F401 - the fixture


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_category_change_email_is_delivered_by_a_real_worker(redis_worker, ladder, smtp):  # noqa: F811
    customer = CustomerFactory(shop=ladder.shop, name="Olena", language="uk",
                               email="olena@example.com")

    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    deadline = time.monotonic() + 30
    subjects = set()
    while time.monotonic() < deadline:
        subjects = {m["Subject"].strip() for m in smtp.messages}
        if "Ваша нова категорія в Крамниця: Срібний" in subjects:
            break
        time.sleep(0.2)
    assert "Ваша нова категорія в Крамниця: Срібний" in subjects
    message = Message.objects.get(customer=customer, event="category_up")
    for _ in range(50):  # the worker marks it just after the SMTP server has it
        if message.status == "sent":
            break
        time.sleep(0.1)
        message.refresh_from_db()
    assert message.status == "sent"
    assert len([s for s in smtp.messages if "Срібний" in s["Subject"]]) == 1
