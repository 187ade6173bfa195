"""Delivery channels: email, SMS provider over HTTP, signed webhook. The outside world.

Every send carries the message's idempotency key, the same on every attempt, so a repeat
after a lost acknowledgement (a worker that died after sending) is recognised by the
receiver:

- **Email** through Django's email backend (SMTP from the environment, console by
  default) with ``Message-ID: <key@patron>``; mail systems and clients drop a second
  message with the same Message-ID.
- **SMS**: ``POST SMS_PROVIDER_URL`` with JSON ``{"to", "from", "text", "reference"}``,
  headers ``Authorization: Bearer SMS_PROVIDER_TOKEN`` and ``Idempotency-Key: <key>``
  (``reference`` is the key too). Any 2xx is accepted.
- **Webhook**: ``POST`` the shop's URL with JSON ``{"id", "event", "shop", "customer",
  "language", "title", "text", "created_at"}`` (``id`` is the key), headers
  ``Idempotency-Key`` and ``X-Patron-Signature: sha256=<hex HMAC-SHA256 of the raw body
  with the shop's secret>``. Receivers check it with a constant-time compare.

A `DeliveryError` is retried with backoff, unless it is `permanent` (a refused recipient,
a 4xx answer other than 408/429, a channel that is not configured): those fail at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .models import Channel, ChannelSettings, Message

TRANSIENT_HTTP = {408, 429}


class DeliveryError(Exception):
    def __init__(self, text: str, *, permanent: bool = False):
        super().__init__(text)
        self.permanent = permanent


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(  # noqa: S310 - URLs come from settings / staff
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers},
    )
    timeout = getattr(settings, "NOTIFICATIONS_HTTP_TIMEOUT", 10)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        permanent = 400 <= exc.code < 500 and exc.code not in TRANSIENT_HTTP
        raise DeliveryError(f"HTTP {exc.code}: {detail}", permanent=permanent) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def send_email(message: Message, cfg: ChannelSettings) -> None:
    email = EmailMessage(
        subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": f"<{message.idempotency_key}@patron>"},
    )
    try:
        get_connection(fail_silently=False).send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"Recipient refused: {exc.recipients}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def send_sms(message: Message, cfg: ChannelSettings) -> None:
    url = getattr(settings, "SMS_PROVIDER_URL", "")
    if not url:
        raise DeliveryError("The SMS provider is not configured (SMS_PROVIDER_URL).",
                            permanent=True)
    key = str(message.idempotency_key)
    body = json.dumps({
        "to": message.recipient, "from": cfg.sms_sender, "text": message.body, "reference": key,
    }).encode()
    _post(url, body, {
        "Authorization": f"Bearer {getattr(settings, 'SMS_PROVIDER_TOKEN', '')}",
        "Idempotency-Key": key,
    })


def webhook_body(message: Message) -> bytes:
    return json.dumps({
        "id": str(message.idempotency_key), "event": message.event,
        "shop": message.shop.code,
        "customer": {"external_id": message.customer.external_id, "name": message.customer.name},
        "language": message.language, "title": message.subject, "text": message.body,
        "created_at": message.created_at.isoformat(),
    }, ensure_ascii=False).encode()


def send_webhook(message: Message, cfg: ChannelSettings) -> None:
    if not cfg.webhook_url:
        raise DeliveryError("The shop has no webhook URL.", permanent=True)
    body = webhook_body(message)
    # The shop's current URL: an endpoint moved since the message was recorded still gets it.
    _post(cfg.webhook_url, body, {
        "Idempotency-Key": str(message.idempotency_key),
        "X-Patron-Signature": sign(body, cfg.webhook_secret),
    })


SENDERS = {Channel.EMAIL: send_email, Channel.SMS: send_sms, Channel.WEBHOOK: send_webhook}


def send(message: Message, cfg: ChannelSettings) -> None:
    SENDERS[message.channel](message, cfg)
