"""Who would get which message today, for loyalty's what-if simulator (registered in
NotificationsConfig.ready through loyalty.simulator.hooks). The same rules as recording
(notifications.services._record): a channel the shop sends on, an enabled template for the
event and channel (the shop's own, else the default), consent, and an address."""

from __future__ import annotations

from loyalty.simulator.hooks import CATEGORY_DOWN, CATEGORY_UP, ORDER_COMPLETED, Audience
from shops.models import Customer

from . import selectors
from .models import Channel


def audiences(shop) -> list[Audience]:
    cfg = selectors.channel_settings(shop.pk)
    chosen = selectors.templates(shop.pk)
    result = []
    for channel in selectors.channels_on(cfg, shop.currency):
        customers = Customer.objects.filter(shop=shop).exclude(
            **{f"notification_consent__{channel}": False})
        if channel == Channel.EMAIL:
            customers = customers.exclude(email="")
        elif channel == Channel.SMS:
            customers = customers.exclude(phone="")
        for event in (CATEGORY_UP, CATEGORY_DOWN, ORDER_COMPLETED):
            if chosen.get((event, channel)) is None:
                continue
            switch = selectors.SMS_SWITCHES.get(event, "") if channel == Channel.SMS else ""
            result.append(Audience(event, channel, customers.values_list("pk"), switch))
    return result
