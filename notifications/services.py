"""Recording messages in the outbox, bulk sends, resending.

Messages are recorded inside the caller's transaction (the category change, registration, or
the intake drain applying a counted order), so a rolled back change leaves no message. One batch of
causes costs a fixed number of queries: the shop's settings and templates, the consent of
the batch's customers, the points, and one bulk INSERT. Each message is rendered when it is
recorded, in the customer's language (else the shop's), so its text and SMS cost are fixed
from then on. Delivery is `notifications.delivery`; after commit a delivery task is kicked
(`kick_delivery`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from loyalty.models import CategoryChange, ChangeReason
from shops.models import Customer, Order, Shop

from . import selectors, sms
from .models import (
    BulkSend,
    BulkSendStatus,
    Channel,
    ChannelSettings,
    Event,
    Message,
    MessageTemplate,
    Status,
)
from .points import order_points_for, points_for
from .rendering import Variables, category_name, language_for, render, translated

#: Causes of category-change messages; lock/unlock rows are not moves and "registered"
#: placement is covered by the welcome message.
MOVE_REASONS = (ChangeReason.RULE, ChangeReason.FALLBACK, ChangeReason.MANUAL)
BULK_BATCH = 1000


@dataclass(frozen=True)
class Cause:
    """Why one customer gets a message (before channels are chosen)."""

    customer: Customer
    event: str
    variables: Variables
    key: str  # e.g. "change:12"; with the channel it makes the message's dedup_key
    category_change_id: int | None = None
    order_id: int | None = None


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body: str
    segments: int | None
    cost: Money | None


def render_for(
    *, source: MessageTemplate | BulkSend, customer: Customer, channel: str,
    variables: Variables, price: ChannelSettings | None = None,
) -> Rendered:
    """One message's text in the customer's language, with its SMS segments and cost."""
    shop = customer.shop
    lang = language_for(customer.language, shop.default_language)
    subject = render(translated(source, "subject", lang, shop.default_language), variables)
    body = render(translated(source, "body", lang, shop.default_language), variables)
    segments = cost = None
    if channel == Channel.SMS:
        price = price or selectors.channel_settings(shop.pk)
        segments, amount = sms.message_cost(body, price.sms_price)
        cost = Money(amount, shop.currency)
    return Rendered(lang, subject if channel != Channel.SMS else "", body, segments, cost)


def _variables(customer: Customer, **values) -> Variables:
    shop = customer.shop
    lang = language_for(customer.language, shop.default_language)
    return Variables(
        customer_name=customer.name, shop_name=shop.name,
        new_category=category_name(customer.category, lang, shop.default_language),
        **values,
    )


def _record(shop: Shop, causes: list[Cause]) -> int:
    """Write the messages for `causes` on every channel the shop uses, to customers who
    consented and have an address. Returns how many were written."""
    if not causes:
        return 0
    cfg = selectors.channel_settings(shop.pk)
    channels = selectors.channels_on(cfg)
    if not channels:
        return 0
    chosen = selectors.templates(shop.pk)
    consent = selectors.consents(c.customer.pk for c in causes)
    now = timezone.now()
    messages = []
    for cause in causes:
        customer = cause.customer
        for channel in channels:
            template = chosen.get((cause.event, channel))
            recipient = selectors.address(customer, channel, cfg)
            if template is None or not recipient or not selectors.consented(
                consent.get(customer.pk), channel
            ):
                continue
            text = render_for(
                source=template, customer=customer, channel=channel,
                variables=cause.variables, price=cfg,
            )
            if not text.body:
                continue
            messages.append(Message(
                shop=shop, customer=customer, event=cause.event, channel=channel,
                language=text.language, recipient=recipient, subject=text.subject[:300],
                body=text.body, segments=text.segments, cost=text.cost, created_at=now,
                next_attempt_at=now, dedup_key=f"{cause.key}:{channel}",
                category_change_id=cause.category_change_id, order_id=cause.order_id,
            ))
    if messages:
        Message.objects.bulk_create(messages, ignore_conflicts=True)
        kick_delivery()
    return len(messages)


def kick_delivery() -> None:
    """Deliver soon after commit, when a worker is running. Without a broker (tasks run
    in-process) nothing is kicked: a web request or a recalculation must not wait on SMTP
    or an SMS provider; beat's every-minute delivery sends them."""
    from config.celery import app

    from . import tasks

    if not app.conf.task_always_eager:
        transaction.on_commit(lambda: tasks.deliver_due.delay(), robust=True)


def messages_for_category_changes(*, shop_id: int, change_ids: Iterable[int]) -> int:
    """Category up/down messages for a batch of CategoryChange rows (one set of queries).

    No message when either category is hidden from customers or the customer has none."""
    changes = list(
        CategoryChange.objects.filter(
            pk__in=list(change_ids), shop_id=shop_id, reason__in=MOVE_REASONS,
            direction__in=(1, -1), to_category__visible_to_customer=True,
        ).filter(Q(from_category__isnull=True) | Q(from_category__visible_to_customer=True))
        .select_related("customer__shop", "from_category", "to_category")
    )
    if not changes:
        return 0
    shop = changes[0].customer.shop
    points = points_for({c.customer_id for c in changes})
    causes = []
    for change in changes:
        customer = change.customer
        lang = language_for(customer.language, shop.default_language)
        pts = points.get(customer.pk)
        causes.append(Cause(
            customer=customer,
            event=Event.CATEGORY_UP if change.direction > 0 else Event.CATEGORY_DOWN,
            variables=Variables(
                customer_name=customer.name, shop_name=shop.name,
                old_category=category_name(change.from_category, lang, shop.default_language),
                new_category=category_name(change.to_category, lang, shop.default_language),
                balance=pts.balance if pts else 0,
            ),
            key=f"change:{change.pk}", category_change_id=change.pk,
        ))
    return _record(shop, causes)


def message_for_registration(*, customer_id: int) -> int:
    """The welcome message of a newly registered customer."""
    customer = Customer.objects.select_related("shop", "category").get(pk=customer_id)
    return _record(customer.shop, [Cause(
        customer=customer, event=Event.REGISTERED, variables=_variables(customer),
        key=f"registered:{customer.pk}",
    )])


def message_for_order(*, order_id: int) -> int:
    """The "order completed" message, once per order (counting it again sends nothing)."""
    return messages_for_orders(order_ids=[order_id])


def messages_for_orders(*, order_ids: Iterable[int]) -> int:
    """The "order completed" messages of a batch of orders (the intake drain), once per
    order: one query for the orders, one for their points, one set per shop to record."""
    orders = list(
        Order.objects.filter(pk__in=list(order_ids))
        .select_related("customer__shop", "customer__category").order_by("pk")
    )
    if not orders:
        return 0
    balances = points_for({o.customer_id for o in orders})
    earned = order_points_for(o.pk for o in orders)
    by_shop: dict[int, list[Cause]] = {}
    for order in orders:
        customer = order.customer
        pts = balances.get(customer.pk)
        by_shop.setdefault(customer.shop_id, []).append(Cause(
            customer=customer, event=Event.ORDER_COMPLETED,
            variables=_variables(
                customer, order_number=order.number, points_earned=earned.get(order.pk) or 0,
                balance=pts.balance if pts else 0,
            ),
            key=f"order:{order.pk}", order_id=order.pk,
        ))
    shops = {o.customer.shop_id: o.customer.shop for o in orders}
    return sum(_record(shops[shop_id], causes) for shop_id, causes in by_shop.items())


# --- bulk sends -------------------------------------------------------------------------


def _check_bulk(bulk: BulkSend) -> None:
    if (bulk.category_id is None) == (bulk.segment_id is None):
        raise ValidationError(_("Choose either a category or a segment."))
    if bulk.category_id is not None:
        if bulk.category.shop_id != bulk.shop_id:
            raise ValidationError({"category": _("The category belongs to another shop.")})
        if not bulk.category.visible_to_customer:
            raise ValidationError({"category": _(
                "This category is hidden from customers: they are never messaged about it."
            )})
    elif bulk.segment.shop_id != bulk.shop_id:
        raise ValidationError({"segment": _("The segment belongs to another shop.")})
    if bulk.channel == Channel.WEBHOOK and not selectors.channel_settings(bulk.shop_id).webhook_url:
        raise ValidationError({"channel": _("This shop has no webhook URL.")})


def _bulk_batches(bulk: BulkSend, batch: int = BULK_BATCH):
    """The recipients in keyset batches, with their variables."""
    recipients = selectors.bulk_recipients(
        shop=bulk.shop, channel=bulk.channel, category_id=bulk.category_id,
        segment_id=bulk.segment_id,
    )
    after = 0
    while True:
        customers = list(recipients.filter(pk__gt=after)[:batch])
        if not customers:
            return
        points = points_for(c.pk for c in customers)
        yield [
            (c, _variables(c, balance=points[c.pk].balance if c.pk in points else 0))
            for c in customers
        ]
        after = customers[-1].pk


@transaction.atomic
def bulk_send_prepare(*, bulk: BulkSend, staff_user=None) -> BulkSend:
    """Save a draft with its recipients and total SMS cost, counted exactly as it would be
    billed (each message rendered, its cost rounded, the costs added up). Sends nothing."""
    _check_bulk(bulk)
    if bulk.pk and bulk.status != BulkSendStatus.DRAFT:
        raise ValidationError(_("This bulk send is confirmed: it can no longer change."))
    cfg = selectors.channel_settings(bulk.shop_id)
    recipients, total = 0, Money(0, bulk.shop.currency)
    for batch in _bulk_batches(bulk):
        for customer, variables in batch:
            text = render_for(source=bulk, customer=customer, channel=bulk.channel,
                              variables=variables, price=cfg)
            if text.body:
                recipients += 1
                total += text.cost or Money(0, bulk.shop.currency)
    bulk.recipients, bulk.total_cost = recipients, total
    if staff_user is not None and bulk.created_by_id is None:
        bulk.created_by = staff_user
    bulk.save()
    return bulk


@transaction.atomic
def bulk_send_confirm(*, bulk: BulkSend, staff_user) -> bool:
    """Confirm a draft: its messages are queued by a task after commit. Only once."""
    confirmed = BulkSend.objects.filter(pk=bulk.pk, status=BulkSendStatus.DRAFT).update(
        status=BulkSendStatus.QUEUING, confirmed_at=timezone.now(), confirmed_by=staff_user,
    )
    if confirmed:
        from . import tasks

        transaction.on_commit(lambda: tasks.queue_bulk_send.delay(bulk.pk))
    return bool(confirmed)


def bulk_send_queue(*, bulk_id: int) -> int:
    """Write a confirmed bulk send's messages, one transaction per batch; safe to run again
    (a message already written for a customer is not written twice)."""
    bulk = BulkSend.objects.select_related("shop", "category", "segment").get(pk=bulk_id)
    if bulk.status == BulkSendStatus.DRAFT:
        return 0
    cfg = selectors.channel_settings(bulk.shop_id)
    for batch in _bulk_batches(bulk):
        now = timezone.now()
        with transaction.atomic():
            messages = []
            for customer, variables in batch:
                text = render_for(source=bulk, customer=customer, channel=bulk.channel,
                                  variables=variables, price=cfg)
                if not text.body:
                    continue
                messages.append(Message(
                    shop=bulk.shop, customer=customer, event=Event.BULK, channel=bulk.channel,
                    language=text.language,
                    recipient=selectors.address(customer, bulk.channel, cfg),
                    subject=text.subject[:300], body=text.body, segments=text.segments,
                    cost=text.cost, created_at=now, next_attempt_at=now,
                    dedup_key=f"bulk:{bulk.pk}:{customer.pk}", bulk_send=bulk,
                ))
            Message.objects.bulk_create(messages, ignore_conflicts=True)
            BulkSend.objects.filter(pk=bulk.pk).update(
                queued=Message.objects.filter(bulk_send=bulk).count()
            )
            kick_delivery()
    BulkSend.objects.filter(pk=bulk.pk).update(status=BulkSendStatus.QUEUED)
    return Message.objects.filter(bulk_send=bulk).count()


# --- staff ------------------------------------------------------------------------------


@transaction.atomic
def messages_resend(*, message_ids: Iterable[int], staff_user=None) -> int:
    """Put failed messages back in the queue for a fresh round of attempts. The idempotency
    key is kept: if a provider did take one of them after all, it will not deliver it twice."""
    count = Message.objects.filter(pk__in=list(message_ids), status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), leased_until=None,
        claim=None,
    )
    if count:
        kick_delivery()
    return count


def preview(*, template: MessageTemplate, customer: Customer) -> Rendered:
    """A template rendered for a customer as the next event would render it (the customer's
    current category as the new one, their previous category from the history as the old)."""
    customer = Customer.objects.select_related("shop", "category").get(pk=customer.pk)
    shop = customer.shop
    lang = language_for(customer.language, shop.default_language)
    last = (CategoryChange.objects.filter(customer=customer, reason__in=MOVE_REASONS)
            .select_related("from_category").first())
    pts = points_for([customer.pk]).get(customer.pk)
    variables = replace(
        _variables(customer, balance=pts.balance if pts else 0),
        old_category=category_name(last.from_category if last else None, lang,
                                   shop.default_language),
        order_number="12345" if template.event == Event.ORDER_COMPLETED else "",
    )
    return render_for(source=template, customer=customer, channel=template.channel,
                      variables=variables)
