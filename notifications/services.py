"""Recording messages in the outbox, bulk sends, resending.

Category-change messages of a batch are written set-based (`notifications.change_messages`),
the others rendered one by one here. Messages are recorded inside the caller's transaction
(the category change, registration, or the intake drain applying a counted order), so a
rolled back change leaves no message. One batch of
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
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money
from modeltranslation.utils import get_translation_fields

from loyalty.models import Category, CategoryChange, ChangeReason
from shops.languages import languages, translated
from shops.models import Customer, Order, Shop

from . import selectors, sms
from .models import (
    BulkSend,
    BulkSendStatus,
    Channel,
    Event,
    Message,
    MessageTemplate,
    Status,
)
from .points import order_points_for, points_for
from .rendering import TemplateRenderError, Variables, category_name, check_text, render

#: Causes of category-change messages; lock/unlock rows are not moves and "registered"
#: placement is covered by the welcome message.
MOVE_REASONS = (ChangeReason.RULE, ChangeReason.FALLBACK, ChangeReason.MANUAL)
BULK_BATCH = 1000


#: Cause.switch_category's default: the customer's category at the time of recording.
CURRENT = object()


@dataclass(frozen=True)
class Cause:
    """Why one customer gets a message (before channels are chosen)."""

    customer: Customer
    event: str
    variables: Variables
    key: str  # e.g. "change:12"; with the channel it makes the message's dedup_key
    category_change_id: int | None = None
    order_id: int | None = None
    #: The category whose SMS switches apply: the customer's current one (CURRENT), or for
    #: an order the category the customer was in when it counted (None: no category).
    switch_category: Category | None | object = CURRENT


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body: str
    segments: int | None
    cost: Money | None
    error: str = ""  # why the text could not be rendered (then subject and body are empty)


def render_for(
    *, source: MessageTemplate | BulkSend, customer: Customer, channel: str,
    variables: Variables, tariff: sms.Tariff | None = None,
) -> Rendered:
    """One message's text in the customer's language, with its SMS segments and cost
    (under `tariff`, by default the shop's; no cost when the shop's SMS have no price)."""
    shop = customer.shop
    langs = languages(customer=customer, shop=shop)
    lang = langs[0]
    try:
        subject = render(translated(source, "subject", langs), variables)
        body = render(translated(source, "body", langs), variables)
    except TemplateRenderError as exc:
        # Saved before the sandbox, or a value past the limits: this message fails, the
        # change that causes it does not.
        error = _("Template error: %(error)s") % {"error": exc}
        return Rendered(lang, "", "", None, None, error=error[:300])
    segments = cost = None
    if channel == Channel.SMS:
        tariff = tariff or selectors.sms_tariff(selectors.channel_settings(shop.pk), shop.currency)
        segments = sms.segments(body)
        if tariff is not None:
            segments, _units, amount = sms.tariff_cost(body, tariff)
            cost = Money(amount, shop.currency)
    return Rendered(lang, subject if channel != Channel.SMS else "", body, segments, cost)


def _variables(customer: Customer, **values) -> Variables:
    shop = customer.shop
    return Variables(
        customer_name=customer.name, shop_name=shop.name,
        new_category=category_name(customer.category, languages(customer=customer, shop=shop)),
        **values,
    )


def _record(shop: Shop, causes: list[Cause], channels: set[str] | None = None) -> int:
    """Write the messages for `causes` on every channel the shop uses (of `channels`, when
    given), to customers who consented and have an address. Returns how many were written."""
    if not causes:
        return 0
    cfg = selectors.channel_settings(shop.pk)
    channels = [c for c in selectors.channels_on(cfg, shop.currency)
                if channels is None or c in channels]
    if not channels:
        return 0
    tariff = selectors.sms_tariff(cfg, shop.currency)
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
            if (channel == Channel.SMS and cause.event in selectors.SMS_SWITCHES
                    and not selectors.sms_switched_on(
                        customer.category if cause.switch_category is CURRENT
                        else cause.switch_category, cause.event)):
                continue  # the customer's category does not send this SMS
            text = render_for(
                source=template, customer=customer, channel=channel,
                variables=cause.variables, tariff=tariff,
            )
            if not text.body and not text.error:
                continue
            messages.append(Message(
                shop=shop, customer=customer, event=cause.event, channel=channel,
                language=text.language, recipient=recipient, subject=text.subject[:300],
                body=text.body, segments=text.segments, cost=text.cost, created_at=now,
                next_attempt_at=now, dedup_key=f"{cause.key}:{channel}",
                category_change_id=cause.category_change_id, order_id=cause.order_id,
                **_failed(text),
            ))
    if messages:
        Message.objects.bulk_create(messages, ignore_conflicts=True)
        kick_delivery()
    return len(messages)


def _failed(text: Rendered) -> dict:
    """The fields of a message whose text could not be rendered: failed at once, with the
    reason shown in the admin. It has no text, so it is never resent (`messages_resend`)."""
    return {"status": Status.FAILED, "last_error": text.error} if text.error else {}


def kick_delivery() -> None:
    """Deliver soon after commit, when a worker is running. Without a broker (tasks run
    in-process) nothing is kicked: a web request or a recalculation must not wait on SMTP
    or an SMS provider; beat's every-minute delivery sends them."""
    from config.celery import app

    from . import tasks

    if not app.conf.task_always_eager:
        transaction.on_commit(lambda: tasks.deliver_due.delay(), robust=True)


def messages_for_category_changes(*, shop_id: int, change_ids: Iterable[int],
                                  moves=None) -> int:
    """Category up/down messages for a batch of CategoryChange rows, set-based
    (`notifications.change_messages`; `moves`: the changes as loyalty.events.Move, if the
    writer has them).

    No message when either category is hidden from customers or the customer has none."""
    from .change_messages import messages_for_category_changes as set_based

    return set_based(shop_id=shop_id, change_ids=change_ids, moves=moves)


def messages_rendered_each(
    *, shop: Shop, changes, only: dict[str, set[tuple]] | None = None
) -> int:
    """Category up/down messages rendered one by one for `changes` (a queryset of
    qualifying CategoryChange rows). `only` restricts them to {channel: group keys
    (direction, old category id, new category id, customer's language)}; None: every
    channel for every change. The set-based path hands this the groups it cannot mark."""
    changes = list(changes.select_related("customer__shop", "from_category", "to_category"))
    if not changes:
        return 0
    points = points_for({c.customer_id for c in changes})
    causes: list[tuple[tuple, Cause]] = []
    for change in changes:
        customer = change.customer
        langs = languages(customer=customer, shop=shop)
        pts = points.get(customer.pk)
        key = (change.direction, change.from_category_id, change.to_category_id,
               customer.language)
        causes.append((key, Cause(
            customer=customer,
            event=Event.CATEGORY_UP if change.direction > 0 else Event.CATEGORY_DOWN,
            variables=Variables(
                customer_name=customer.name, shop_name=shop.name,
                old_category=category_name(change.from_category, langs),
                new_category=category_name(change.to_category, langs),
                balance=pts.balance if pts else 0,
            ),
            key=f"change:{change.pk}", category_change_id=change.pk,
        )))
    if only is None:
        return _record(shop, [cause for _, cause in causes])
    return sum(
        _record(shop, [cause for key, cause in causes if key in keys], channels={channel})
        for channel, keys in only.items()
    )


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


def messages_for_orders(
    *, order_ids: Iterable[int], categories_at_event: dict[int, int | None] | None = None
) -> int:
    """The "order completed" messages of a batch of orders (the intake drain), once per
    order: one query for the orders, one for their points, one set per shop to record.
    `categories_at_event` (order id -> category id) is the customer's category when the
    order counted, before the recalculation it caused: its SMS switch decides the SMS."""
    orders = list(
        Order.objects.filter(pk__in=list(order_ids))
        .select_related("customer__shop", "customer__category").order_by("pk")
    )
    if not orders:
        return 0
    balances = points_for({o.customer_id for o in orders})
    earned = order_points_for(o.pk for o in orders)
    at_event = categories_at_event or {}
    categories = Category.objects.in_bulk({c for c in at_event.values() if c is not None})
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
            switch_category=(categories.get(at_event[order.pk]) if order.pk in at_event
                             else CURRENT),
        ))
    shops = {o.customer.shop_id: o.customer.shop for o in orders}
    return sum(_record(shops[shop_id], causes) for shop_id, causes in by_shop.items())


# --- bulk sends -------------------------------------------------------------------------


def check_texts(obj: MessageTemplate | BulkSend) -> None:
    """Refuse a template or bulk send text (any language) the sandbox would not render,
    with the reason on its field."""
    errors = {}
    for name in ("subject", "body"):
        for field in get_translation_fields(name):
            error = check_text(getattr(obj, field, "") or "")
            if error:
                errors[field] = _("Template error: %(error)s") % {"error": error}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def template_save(*, template: MessageTemplate, staff_user=None) -> MessageTemplate:
    """Save a message template once every text renders in the sandbox."""
    check_texts(template)
    template.save()
    return template


def _check_bulk(bulk: BulkSend) -> None:
    check_texts(bulk)
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
    if bulk.channel == Channel.SMS and _shop_tariff(bulk.shop) is None:
        raise ValidationError({"channel": sms_price_missing(bulk.shop.currency)})


def sms_price_missing(currency: str) -> str:
    return _("This shop's SMS have no price: set the price per billed unit in its channel "
             "settings (there is no default price in %(currency)s).") % {"currency": currency}


def _shop_tariff(shop: Shop) -> sms.Tariff | None:
    return selectors.sms_tariff(selectors.channel_settings(shop.pk), shop.currency)


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
    tariff = _shop_tariff(bulk.shop) if bulk.channel == Channel.SMS else None
    recipients, total = 0, Money(0, bulk.shop.currency)
    for batch in _bulk_batches(bulk):
        for customer, variables in batch:
            text = render_for(source=bulk, customer=customer, channel=bulk.channel,
                              variables=variables, tariff=tariff)
            if text.body:
                recipients += 1
                total += text.cost or Money(0, bulk.shop.currency)
    bulk.recipients, bulk.total_cost = recipients, total
    bulk.sms_billing = tariff.rule if tariff else ""
    bulk.sms_billing_characters = tariff.characters if tariff else None
    bulk.sms_price = tariff.price if tariff else None
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
    # Billed as counted on the draft (its total was shown before confirming).
    tariff = bulk.tariff or selectors.sms_tariff(cfg, bulk.shop.currency)
    for batch in _bulk_batches(bulk):
        now = timezone.now()
        with transaction.atomic():
            messages = []
            for customer, variables in batch:
                text = render_for(source=bulk, customer=customer, channel=bulk.channel,
                                  variables=variables, tariff=tariff)
                if not text.body and not text.error:
                    continue
                messages.append(Message(
                    shop=bulk.shop, customer=customer, event=Event.BULK, channel=bulk.channel,
                    language=text.language,
                    recipient=selectors.address(customer, bulk.channel, cfg),
                    subject=text.subject[:300], body=text.body, segments=text.segments,
                    cost=text.cost, created_at=now, next_attempt_at=now,
                    dedup_key=f"bulk:{bulk.pk}:{customer.pk}", bulk_send=bulk,
                    **_failed(text),
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
    key is kept: if a provider did take one of them after all, it will not deliver it twice.
    A message whose template could not be rendered has no text and is left failed."""
    count = Message.objects.filter(
        pk__in=list(message_ids), status=Status.FAILED
    ).exclude(body="").update(
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
    last = (CategoryChange.objects.filter(customer=customer, reason__in=MOVE_REASONS)
            .select_related("from_category").first())
    pts = points_for([customer.pk]).get(customer.pk)
    variables = replace(
        _variables(customer, balance=pts.balance if pts else 0),
        old_category=category_name(last.from_category if last else None,
                                   languages(customer=customer)),
        order_number="12345" if template.event == Event.ORDER_COMPLETED else "",
    )
    return render_for(source=template, customer=customer, channel=template.channel,
                      variables=variables)
