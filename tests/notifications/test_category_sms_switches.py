"""SPEC [E15] and issue 16 item 5: "send a welcome SMS after registration" and "send an SMS
after an order" are switched per category (default off), for the category the customer is
in at the event; the shop's SMS channel stays the master switch."""

from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty import services as loyalty
from loyalty.models import Category
from notifications.models import ChannelSettings, Message
from tests.factories import CustomerFactory, order

from .conftest import use_sms

pytestmark = pytest.mark.django_db


def sms(customer, event):
    return list(Message.objects.filter(customer=customer, event=event, channel="sms"))


def switch(category, **flags):
    Category.objects.filter(pk=category.pk).update(**flags)


def test_e15_welcome_and_after_order_sms_are_switched_on_per_category(ladder):
    use_sms(ladder.shop, categories_send=False)
    switch(ladder.member, sms_welcome=True)  # Member welcomes by SMS; Silver thanks by SMS
    switch(ladder.silver, sms_after_order=True)

    welcomed = CustomerFactory(shop=ladder.shop, phone="+380671111111")  # lands in Member
    assert len(sms(welcomed, "registered")) == 1
    order(welcomed, "100.00")  # in Member at the event: no after-order SMS
    assert sms(welcomed, "order_completed") == []

    loyalty.customer_move(customer=welcomed, category=ladder.silver, staff_user=None)
    order(welcomed, "100.00")  # in Silver now
    (thanks,) = sms(welcomed, "order_completed")
    assert thanks.cost.amount == Decimal("1.01")


def test_both_switches_are_off_by_default(ladder):
    use_sms(ladder.shop, categories_send=False)
    assert (ladder.member.sms_welcome, ladder.member.sms_after_order) == (False, False)
    customer = CustomerFactory(shop=ladder.shop, phone="+380671111111")
    order(customer, "100.00")

    assert Message.objects.filter(customer=customer, channel="sms").count() == 0
    assert Message.objects.filter(customer=customer, channel="email").count() == 2  # not SMS


def test_the_shops_sms_channel_is_the_master_switch(ladder):
    switch(ladder.member, sms_welcome=True, sms_after_order=True)
    ChannelSettings.objects.create(shop=ladder.shop, sms_enabled=False)
    customer = CustomerFactory(shop=ladder.shop, phone="+380671111111")
    order(customer, "100.00")

    assert Message.objects.filter(customer=customer, channel="sms").count() == 0


def test_category_changes_by_sms_do_not_depend_on_the_switches(ladder):
    use_sms(ladder.shop, categories_send=False, email_enabled=False)
    customer = CustomerFactory(shop=ladder.shop, phone="+380671111111")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    assert [m.event for m in Message.objects.filter(customer=customer)] == ["category_up"]


def test_category_admin_shows_and_saves_the_switches(admin_client, ladder):
    url = reverse("admin:loyalty_category_change", args=[ladder.silver.pk])
    page = admin_client.get(url).content.decode()
    assert "send a welcome sms after registration" in page.lower()
    assert "send an sms after an order" in page.lower()

    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "id"}
    data.update({"shop": ladder.shop.pk, "sms_after_order": "on", "rules-TOTAL_FORMS": "0",
                 "rules-INITIAL_FORMS": "0"})
    for field in ("is_default", "sms_welcome", "auto_enter", "auto_leave",
                  "visible_to_customer"):
        if data.get(field) is True:
            data[field] = "on"
        elif data.get(field) is False:
            data.pop(field)
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    ladder.silver.refresh_from_db()
    assert (ladder.silver.sms_welcome, ladder.silver.sms_after_order) == (False, True)
