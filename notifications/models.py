"""Message templates, per-shop channel settings, consent, the outbox and bulk sends.

Nothing here decides anything: rendering is in `notifications.rendering`, SMS segments and
cost in `notifications.sms`, what gets recorded in `notifications.services`, delivery in
`notifications.delivery`.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from shops.models import MONEY

from . import sms

#: The price of one billed SMS unit when a shop has not set its own, per shop currency.
#: Only the price the SPEC and the merchant documents give (1.01 UAH); a shop in any other
#: currency must set its price before SMS can be sent (see docs/decisions.md).
DEFAULT_SMS_PRICES = {"UAH": Decimal("1.01")}


class SmsBilling(models.TextChoices):
    """How a shop's SMS provider bills (notifications.sms.Tariff)."""

    PER_CHARACTERS = sms.PER_CHARACTERS, _("Per N characters, whatever the alphabet")
    PER_SEGMENT = sms.PER_SEGMENT, _("Per SMS segment (GSM-7 160/153, UCS-2 70/67)")


class Event(models.TextChoices):
    CATEGORY_UP = "category_up", _("Category changed up")
    CATEGORY_DOWN = "category_down", _("Category changed down")
    REGISTERED = "registered", _("Customer registered (welcome)")
    ORDER_COMPLETED = "order_completed", _("Order completed")
    BULK = "bulk", _("Bulk send")
    CATEGORY_AT_RISK = "category_at_risk", _("Category at risk (keep it by buying)")
    CLOSE_TO_NEXT = "close_to_next", _("Close to the next category")


#: The events a template can be written for (a bulk send carries its own text).
TEMPLATE_EVENTS = [e for e in Event if e != Event.BULK]


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook (mobile app, chat-bot)")


class MessageTemplate(models.Model):
    """Subject and body for one event and channel, translated (see translation.py).

    A template without a shop is the project default, used by every shop that has no
    template of its own for that event and channel. A disabled shop template switches the
    message off for that shop.
    """

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="+", help_text=_("Empty: the default for every shop without its own."),
    )
    event = models.CharField(_("event"), max_length=24, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Disabled: this message is not sent.")
    )
    subject = models.CharField(
        _("subject"), max_length=200, blank=True,
        help_text=_("Email subject, or the title of a webhook message. Unused for SMS."),
    )
    body = models.TextField(_("body"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["shop", "event", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "event", "channel"], name="template_unique_per_shop",
            ),
            models.UniqueConstraint(
                fields=["event", "channel"], condition=Q(shop__isnull=True),
                name="template_one_default",
            ),
            models.CheckConstraint(
                condition=~Q(event="bulk"), name="template_event_not_bulk",
            ),
        ]

    def __str__(self) -> str:
        where = self.shop or _("default")
        return f"{self.get_event_display()} / {self.get_channel_display()} ({where})"


class ChannelSettings(models.Model):
    """A shop's channels: which are on, the SMS sender and price, the webhook endpoint."""

    shop = models.OneToOneField(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
        related_name="notification_settings",
    )
    email_enabled = models.BooleanField(_("send emails"), default=True)
    sms_enabled = models.BooleanField(_("send SMS"), default=False)
    sms_sender = models.CharField(
        _("SMS sender name"), max_length=11, blank=True,
        help_text=_("Up to 11 characters, as registered with the SMS provider."),
    )
    sms_billing = models.CharField(
        _("SMS billed"), max_length=16, choices=SmsBilling.choices,
        default=SmsBilling.PER_CHARACTERS,
        help_text=_("As your SMS provider bills: per N characters (e.g. 1.01 per 70 "
                    "characters) or per SMS segment."),
    )
    sms_billing_characters = models.PositiveSmallIntegerField(
        _("characters per billed unit"), default=sms.DEFAULT_CHARACTERS,
        validators=[MinValueValidator(1)], help_text=_("N, for billing per N characters."),
    )
    sms_price = models.DecimalField(
        _("price per billed SMS unit"), max_digits=8, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("In the shop's currency, per N characters or per segment. Empty: the "
                    "default for the shop's currency (1.01 UAH); a shop in another currency "
                    "must set it to send SMS."),
    )
    webhook_url = models.URLField(
        _("webhook URL"), blank=True,
        help_text=_("Messages are posted here as JSON (mobile app, chat-bot). Empty: off."),
    )
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=200, blank=True,
        help_text=_("Signs each post: header X-Patron-Signature = sha256=HMAC-SHA256(body)."),
    )

    class Meta:
        verbose_name = _("channel settings")
        verbose_name_plural = _("channel settings")
        constraints = [
            models.CheckConstraint(condition=Q(sms_price__gte=0), name="sms_price_not_negative"),
            models.CheckConstraint(
                condition=Q(sms_billing__in=SmsBilling.values), name="sms_billing_valid"
            ),
            models.CheckConstraint(
                condition=Q(sms_billing_characters__gte=1), name="sms_billing_characters_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self.shop)


class Consent(models.Model):
    """A customer's per-channel consent. A customer without a row has not opted out."""

    customer = models.OneToOneField(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="notification_consent",
    )
    email = models.BooleanField(_("email"), default=True)
    sms = models.BooleanField(_("SMS"), default=True)
    webhook = models.BooleanField(_("mobile app / chat-bot"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification consent")
        verbose_name_plural = _("notification consent")

    def __str__(self) -> str:
        return str(self.customer_id)


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class BulkSendStatus(models.TextChoices):
    DRAFT = "draft", _("Draft: not sent")
    QUEUING = "queuing", _("Confirmed: queuing messages")
    QUEUED = "queued", _("Queued")


class BulkSend(models.Model):
    """A message to every consenting customer of a category or of a segment (exactly one
    of the two), confirmed by staff.

    `recipients` and `total_cost` are counted when the draft is saved and shown before
    it is confirmed; `queued` grows while the messages are written. A segment's members
    are its stored membership (as of its last refresh).

    Both targets are PROTECTed: a bulk send records whom it went to, and the check below
    would not allow SET_NULL to empty the target anyway.
    """

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "loyalty.Category", verbose_name=_("category"), on_delete=models.PROTECT,
        related_name="+", null=True, blank=True,
    )
    segment = models.ForeignKey(
        "loyalty.Segment", verbose_name=_("segment"), on_delete=models.PROTECT,
        related_name="+", null=True, blank=True,
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=16, choices=BulkSendStatus.choices, default=BulkSendStatus.DRAFT
    )
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    total_cost = MoneyField(_("total SMS cost"), **MONEY, default=0)
    # The SMS tariff the total was counted with, kept so that what is queued is billed as
    # shown (a later change of the shop's settings applies to the next draft).
    sms_billing = models.CharField(
        _("SMS billed"), max_length=16, choices=SmsBilling.choices, blank=True, editable=False
    )
    sms_billing_characters = models.PositiveSmallIntegerField(
        _("characters per billed unit"), null=True, blank=True, editable=False
    )
    sms_price = models.DecimalField(
        _("price per billed SMS unit"), max_digits=8, decimal_places=4, null=True, blank=True,
        editable=False,
    )
    queued = models.PositiveIntegerField(_("messages queued"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("confirmed by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )

    class Meta:
        verbose_name = _("bulk send")
        verbose_name_plural = _("bulk sends")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(category__isnull=False, segment__isnull=True)
                    | Q(category__isnull=True, segment__isnull=False)
                ),
                name="bulk_send_one_target",
                violation_error_message=_("Choose either a category or a segment."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} / {self.get_channel_display()} ({self.created_at:%Y-%m-%d})"

    @property
    def target(self):
        """The category or the segment the bulk send goes to."""
        return self.category if self.category_id else self.segment

    @property
    def tariff(self) -> "sms.Tariff | None":
        """The SMS tariff its cost was counted with (None before counting, or not SMS)."""
        if not self.sms_billing or self.sms_price is None:
            return None
        return sms.Tariff(self.sms_billing, self.sms_price,
                          self.sms_billing_characters or sms.DEFAULT_CHARACTERS)


class Message(models.Model):
    """The outbox: one message to one recipient, rendered when it was recorded.

    Recorded in the transaction of the change that causes it; delivered by
    `notifications.delivery` with retries. `idempotency_key` goes to the provider with every
    attempt (SMS and webhook header, email Message-ID), so a repeat after a lost
    acknowledgement is recognised there. `dedup_key` stops the same cause from recording
    the same message twice.
    """

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="notification_messages",
    )
    event = models.CharField(_("event"), max_length=24, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    recipient = models.CharField(_("recipient"), max_length=300)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"))
    segments = models.PositiveSmallIntegerField(_("SMS segments"), null=True, blank=True)
    cost = MoneyField(_("cost"), **MONEY, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    claim = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    idempotency_key = models.UUIDField(
        _("idempotency key"), default=uuid.uuid4, unique=True, editable=False
    )
    dedup_key = models.CharField(_("cause"), max_length=100, unique=True, editable=False)
    category_change = models.ForeignKey(
        "loyalty.CategoryChange", verbose_name=_("category change"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    order = models.ForeignKey(
        "shops.Order", verbose_name=_("order"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    bulk_send = models.ForeignKey(
        BulkSend, verbose_name=_("bulk send"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="messages",
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        permissions = [("resend_message", _("Can resend failed messages"))]
        indexes = [
            # The worker's claim: due pending messages, and expired leases.
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"),
                name="message_due_idx",
            ),
            models.Index(
                fields=["leased_until"], condition=Q(status="sending"),
                name="message_leased_idx",
            ),
            # Statistics: messages sent in a date range, per shop (the date first).
            models.Index(fields=["sent_at", "shop"], name="message_sent_shop_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="message_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}"


class NoticeEpisode(models.Model):
    """One episode of a notice (notifications.notices): a customer at risk of losing their
    category, or close to the next one. Its message is sent once, when it opens; it stays
    open while the situation lasts and is closed (`ended_on`) when it resets, so a later
    episode may send again. At most one open episode per customer and kind."""

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="notice_episodes",
    )
    event = models.CharField(_("event"), max_length=24, choices=[
        (Event.CATEGORY_AT_RISK.value, Event.CATEGORY_AT_RISK.label),
        (Event.CLOSE_TO_NEXT.value, Event.CLOSE_TO_NEXT.label),
    ])
    #: At risk: the category the customer may lose; close: the category within reach.
    category = models.ForeignKey(
        "loyalty.Category", verbose_name=_("category"), on_delete=models.CASCADE,
        related_name="+",
    )
    keeps_until = models.DateField(_("qualifies until"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("notice episode")
        verbose_name_plural = _("notice episodes")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "event"], condition=Q(ended_on__isnull=True),
                name="notice_episode_one_open",
            ),
        ]
        indexes = [models.Index(fields=["shop", "event", "customer"], name="notice_episode_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.event} {self.opened_on}"
