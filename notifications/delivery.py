"""Delivering the outbox: claim due messages with a lease, send, mark sent or retry.

- **Claiming** is exclusive. On PostgreSQL the due rows are locked with
  ``FOR UPDATE SKIP LOCKED`` (a second worker takes the next rows instead of waiting) and
  marked *sending* with a fresh claim token and a lease in the same transaction. SQLite
  has no row locks but serializes writes: the claim is a conditional ``UPDATE ... WHERE``
  due, so of two workers reading the same ids only the first one's update matches them.
  A worker only marks messages that still carry its token.
- **Leases**: a worker that dies leaves its messages *sending*; when the lease runs out
  they are due again and are sent again **with the same idempotency key**, which the
  receiver uses to drop the repeat (see `notifications.channels`). The lease (10 minutes)
  is far above a claim's worst case (`CLAIM_BATCH` x the HTTP timeout).
- **Retries**: a failed attempt is retried after 1, 2, 4, ... minutes (capped at 6 hours)
  until `max_attempts()`; then, or at once for a permanent error, the message is *failed*
  with the last error, and staff may resend it from the admin.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import channels, selectors
from .models import ChannelSettings, Message, Status

LEASE = timedelta(minutes=10)
CLAIM_BATCH = 50
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


def max_attempts() -> int:
    return getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 6)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, ... minutes, capped."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _due(now: datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, leased_until__lt=now
    )


def claim(*, limit: int = CLAIM_BATCH, now: datetime | None = None) -> list[Message]:
    """Take up to `limit` due messages for this worker (see the module docstring)."""
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        # Two index-backed reads (message_leased_idx, message_due_idx) instead of one OR,
        # which no single index can order: expired leases first, they waited longest.
        locked = Message.objects.select_for_update(skip_locked=True)
        ids = list(locked.filter(status=Status.SENDING, leased_until__lt=now)
                   .order_by("leased_until", "pk").values_list("pk", flat=True)[:limit])
        if len(ids) < limit:
            ids += locked.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by(
                "next_attempt_at", "pk").values_list("pk", flat=True)[:limit - len(ids)]
        if not ids:
            return []
        Message.objects.filter(_due(now), pk__in=ids).update(
            status=Status.SENDING, claim=token, leased_until=now + LEASE,
            attempts=F("attempts") + 1,
        )
    # By primary key: `claim` has no index (the outbox grows with every message ever sent).
    return list(
        Message.objects.filter(pk__in=ids, claim=token).select_related("shop", "customer")
    )


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _attempt(message: Message, cfg: ChannelSettings, report: Report) -> None:
    mine = Message.objects.filter(pk=message.pk, claim=message.claim, status=Status.SENDING)
    try:
        channels.send(message, cfg)
    except channels.DeliveryError as exc:
        now = timezone.now()
        error = str(exc)[:2000]
        report.errors.append(error)
        if exc.permanent or message.attempts >= max_attempts():
            report.failed += mine.update(
                status=Status.FAILED, last_error=error, leased_until=None
            )
        else:
            report.retried += mine.update(
                status=Status.PENDING, last_error=error, leased_until=None,
                next_attempt_at=now + backoff(message.attempts),
            )
        return
    report.sent += mine.update(status=Status.SENT, sent_at=timezone.now(), leased_until=None)


def deliver_due(*, max_seconds: float = 50.0, limit: int = CLAIM_BATCH) -> Report:
    """Claim and send due messages until none is due or `max_seconds` have passed (beat
    starts this every minute; an unfinished run leaves the rest to the next)."""
    report = Report()
    started = time.monotonic()
    settings_by_shop: dict[int, ChannelSettings] = {}
    while time.monotonic() - started < max_seconds:
        batch = claim(limit=limit)
        if not batch:
            break
        for message in batch:
            cfg = settings_by_shop.get(message.shop_id)
            if cfg is None:
                cfg = settings_by_shop[message.shop_id] = selectors.channel_settings(
                    message.shop_id
                )
            _attempt(message, cfg, report)
    return report
