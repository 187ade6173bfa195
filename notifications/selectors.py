"""Reads for notifications: a shop's channels and templates, consent, bulk send recipients,
and the statistics page's "Notifications sent" section."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from loyalty.models import Category
from loyalty.statistics import CENT, Chart, Period, Table
from shops.models import Customer, Shop

from . import sms
from .models import (
    DEFAULT_SMS_PRICES,
    BulkSend,
    Channel,
    ChannelSettings,
    Consent,
    Event,
    Message,
    MessageTemplate,
    Status,
)


def channel_settings(shop_id: int) -> ChannelSettings:
    """The shop's settings, or the defaults (email on, SMS and webhook off) when unset."""
    found = ChannelSettings.objects.filter(shop_id=shop_id).first()
    return found or ChannelSettings(shop_id=shop_id)


def sms_tariff(cfg: ChannelSettings, currency: str) -> sms.Tariff | None:
    """How the shop's SMS are billed: its rule and price, else the default price of its
    currency (models.DEFAULT_SMS_PRICES). None when neither is known: SMS are not sent."""
    price = cfg.sms_price if cfg.sms_price is not None else DEFAULT_SMS_PRICES.get(currency)
    if price is None:
        return None
    return sms.Tariff(cfg.sms_billing, price, cfg.sms_billing_characters)


#: Events whose SMS the customer's category switches on (loyalty.Category fields).
SMS_SWITCHES = {Event.REGISTERED: "sms_welcome", Event.ORDER_COMPLETED: "sms_after_order"}


def sms_switched_on(category: Category | None, event: str) -> bool:
    """Whether the category the customer is in at the event sends this event's SMS. Off
    without a category; events without a switch (category changes) are not affected."""
    switch = SMS_SWITCHES.get(event)
    if switch is None:
        return True
    return category is not None and getattr(category, switch)


def channels_on(cfg: ChannelSettings, currency: str) -> list[str]:
    """The channels the shop sends on. SMS also needs a price (its own, or its currency's
    default): a message is never billed at a price nobody set."""
    on = []
    if cfg.email_enabled:
        on.append(Channel.EMAIL)
    if cfg.sms_enabled and sms_tariff(cfg, currency) is not None:
        on.append(Channel.SMS)
    if cfg.webhook_url:
        on.append(Channel.WEBHOOK)
    return on


def templates(shop_id: int) -> dict[tuple[str, str], MessageTemplate | None]:
    """{(event, channel): template} for a shop: its own template, else the default one.
    A disabled template maps to None (that message is switched off)."""
    rows = MessageTemplate.objects.filter(Q(shop_id=shop_id) | Q(shop__isnull=True))
    chosen: dict[tuple[str, str], MessageTemplate] = {}
    for row in rows:
        key = (row.event, row.channel)
        if key not in chosen or row.shop_id is not None:
            chosen[key] = row
    return {key: (row if row.enabled else None) for key, row in chosen.items()}


def consents(customer_ids: Iterable[int]) -> dict[int, Consent]:
    """Consent rows of these customers; a customer without one has not opted out."""
    return {c.customer_id: c for c in Consent.objects.filter(customer_id__in=list(customer_ids))}


def consented(consent: Consent | None, channel: str) -> bool:
    return consent is None or getattr(consent, channel)


def address(customer: Customer, channel: str, cfg: ChannelSettings) -> str:
    """Where a message on `channel` goes; empty when the customer cannot get it."""
    if channel == Channel.EMAIL:
        return customer.email
    if channel == Channel.SMS:
        return customer.phone
    return cfg.webhook_url


def bulk_recipients(
    *, shop: Shop, channel: str, category_id: int | None = None, segment_id: int | None = None,
) -> QuerySet[Customer]:
    """The customers a bulk send reaches: active, in the category or in the segment (its
    stored membership, as of its last refresh), with an address for the channel and not
    opted out of it. Exactly one of `category_id` / `segment_id`.

    The one place a bulk send's target becomes customers."""
    if (category_id is None) == (segment_id is None):
        raise ValueError("bulk_recipients needs exactly one of category_id and segment_id")
    customers = Customer.objects.filter(shop=shop, is_active=True)
    if category_id is not None:
        customers = customers.filter(category_id=category_id)
    else:
        # A join on the membership (unique per segment and customer: no duplicates).
        customers = customers.filter(segment_memberships__segment_id=segment_id)
    customers = customers.exclude(**{f"notification_consent__{channel}": False})
    if channel == Channel.EMAIL:
        customers = customers.exclude(email="")
    elif channel == Channel.SMS:
        customers = customers.exclude(phone="")
    elif not channel_settings(shop.pk).webhook_url:
        customers = customers.none()
    return customers.select_related("shop", "category").order_by("pk")


def bulk_progress(bulk: BulkSend) -> dict[str, int]:
    """{status: count} of a bulk send's messages, in one query."""
    counts = dict(
        Message.objects.filter(bulk_send=bulk).order_by().values("status")
        .annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in ("pending", "sending", "sent", "failed")}


def notifications_sent(period: Period) -> Table:
    """A statistics section: per channel, the messages delivered (status sent) with a
    `sent_at` in the range; the SMS cost is the sum of those messages' costs (each rounded
    once when the message was recorded, in the shop's currency: costs recorded in another
    currency, after a change of the shop's currency, are left out of the sum)."""
    currency = period.shop.currency
    grouped = (
        Message.objects.filter(
            shop=period.shop, status=Status.SENT, sent_at__gte=period.since,
            sent_at__lt=period.until,
        )
        .order_by().values("channel")
        .annotate(sent=Count("pk"), cost=Sum("cost", filter=Q(cost_currency=currency)))
        .values_list("channel", "sent", "cost")
    )
    figures = {channel: (sent, cost) for channel, sent, cost in grouped}
    rows = []
    for channel in Channel:
        sent, cost = figures.get(channel.value, (0, None))
        if channel == Channel.SMS:
            cost = Decimal(cost or 0).quantize(CENT)
        rows.append((str(channel.label), sent, cost))
    return Table(
        "notifications_sent",
        _("Notifications sent and SMS cost (%(currency)s)") % {"currency": currency},
        (_("Channel"), _("Messages sent"), _("SMS cost")), rows, Chart("bar"),
    )


def messages_waiting(shop_ids) -> dict[int, dict[str, int]]:
    """Per shop, messages waiting to go (pending or being sent) and failed: one GROUP BY."""
    rows = (
        Message.objects.filter(shop_id__in=shop_ids)
        .filter(status__in=(Status.PENDING, Status.SENDING, Status.FAILED))
        .values("shop_id")
        .annotate(waiting=Count("id", filter=Q(status__in=(Status.PENDING, Status.SENDING))),
                  failed=Count("id", filter=Q(status=Status.FAILED)))
        .order_by()
    )
    return {r["shop_id"]: {"waiting": r["waiting"], "failed": r["failed"]} for r in rows}
