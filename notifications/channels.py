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

A webhook posts only to public addresses (`notifications.addresses`): the URL is checked
again before every send and the connection goes to the address that was checked (no second
DNS lookup a rebinding name could answer differently); redirects are not followed. Errors
name the status code and its standard reason only, never the receiver's answer (it could
be a page of an internal service).

A `DeliveryError` is retried with backoff, unless it is `permanent` (a refused recipient,
a 4xx answer other than 408/429, a redirect, a refused webhook address, a channel that is
not configured): those fail at once.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from http import HTTPStatus

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from . import addresses
from .models import Channel, ChannelSettings, Message

TRANSIENT_HTTP = {408, 429}


class DeliveryError(Exception):
    def __init__(self, text: str, *, permanent: bool = False):
        super().__init__(text)
        self.permanent = permanent


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _timeout() -> float:
    return getattr(settings, "NOTIFICATIONS_HTTP_TIMEOUT", 10)


def _status_error(code: int) -> DeliveryError:
    """The code and its standard reason: never the answer's body or reason phrase."""
    try:
        reason = HTTPStatus(code).phrase
    except ValueError:
        reason = "Unknown status"
    if 300 <= code < 400:
        return DeliveryError(f"HTTP {code} {reason}: redirects are not followed",
                             permanent=True)
    permanent = 400 <= code < 500 and code not in TRANSIENT_HTTP
    return DeliveryError(f"HTTP {code} {reason}", permanent=permanent)


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST to the SMS provider (a server setting, not staff input)."""
    request = urllib.request.Request(  # noqa: S310 - the URL is a server setting
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=_timeout()) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise _status_error(exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address; the URL's host still goes in the Host header."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the URL's host name (SNI too)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post_webhook(url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        target = addresses.check_url(url)
    except addresses.UnsafeURL as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    pinned = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = pinned(target.host, target.port, address=target.address, timeout=_timeout())
    try:
        connection.request("POST", target.path, body=body,
                           headers={"Content-Type": "application/json", **headers})
        status = connection.getresponse().status
    except (http.client.HTTPException, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from None
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise _status_error(status)


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
    _post_webhook(cfg.webhook_url, body, {
        "Idempotency-Key": str(message.idempotency_key),
        "X-Patron-Signature": sign(body, cfg.webhook_secret),
    })


SENDERS = {Channel.EMAIL: send_email, Channel.SMS: send_sms, Channel.WEBHOOK: send_webhook}


def send(message: Message, cfg: ChannelSettings) -> None:
    SENDERS[message.channel](message, cfg)
