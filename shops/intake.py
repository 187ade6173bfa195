"""Order intake: the durable event of an order change, and the drain that applies its effects.

The write path (`shops.services`) records the commerce facts and, when an order starts or
stops counting or a counted order's value changes, one `IntakeEvent` row, in the same
transaction, and asks for a drain once that transaction commits (`record`). Nothing else
runs in the order's transaction, so nothing unrelated to the order (a broken message
template, a recalculation) can fail it or hold its locks.

The drain (`drain`) claims a batch of pending events and hands them to the handlers the
reacting apps registered with `shops.events.on_intake` (points, category recalculation and
segments in loyalty; messages in notifications), all in one transaction with the claim:
- claim: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED` of the oldest pending events, so
  concurrent drains take disjoint batches and never wait for each other's claims; on SQLite,
  which has one writer at a time, a conditional UPDATE (`WHERE status = 'pending'`) that a
  second drain only runs once the first has committed;
- the claimed events' customers are locked in id order (`FOR NO KEY UPDATE`, which the
  order writes' foreign-key checks do not wait for) and their `orders_changed_at` stamped,
  so two drains never work on one customer at once and cannot deadlock with each other;
- the whole batch is applied in a savepoint; if anything raises, the savepoint is rolled
  back and each event is applied alone in its own savepoint, so a failing event is marked
  `failed` with its error and attempt count and the others are applied;
- the events are marked `done` (or `failed`) in the same transaction as their effects: a
  crash anywhere before the commit rolls back effects and claim together, and the events
  are simply pending again. Handlers are idempotent besides (state-based points, unique
  keys on earned points and on messages), so applying an event twice changes nothing.

Failed events stay failed until staff retry them in the admin (`events_retry`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import events
from .models import Customer, IntakeEvent, IntakeStatus, Order

log = logging.getLogger(__name__)

BATCH_SIZE = 200
#: A drain run stops after this many full batches; beat's sweep takes the rest.
MAX_BATCHES = 50
#: Applied events are kept this long (for the admin and the drain lag), then deleted.
KEEP_DONE_DAYS = 7


# --- the write side ------------------------------------------------------------------------


def event_for(order: Order, kind: str) -> IntakeEvent:
    """The (unsaved) event of a change to `order`."""
    return IntakeEvent(
        shop_id=order.shop_id, customer_id=order.customer_id, order_id=order.pk, kind=kind
    )


def record(order: Order, kind: str) -> IntakeEvent:
    """Write the event of a change to `order` (inside the caller's transaction) and ask
    for a drain after commit."""
    event = event_for(order, kind)
    event.save(force_insert=True)
    schedule_drain()
    return event


class _Kick:
    """The after-commit callback of one transaction: asks for one drain."""

    def __init__(self) -> None:
        self.ran = False
        # Django names a robust callback that failed by its __qualname__, which instances
        # lack: without it the failure's log line itself raises and reaches the request.
        self.__qualname__ = "shops.intake.kick"

    def __call__(self) -> None:
        self.ran = True
        # Registered as robust: a failure is logged and never reaches the request, and
        # beat's sweep drains what a lost kick left.
        kick()


def _send_kick() -> None:
    from . import tasks

    tasks.drain_intake.delay(kicked_at=time.time())


class KickDebounce:
    """At most one kick per `window` seconds from this process, none ever dropped.

    A kick asked for less than `window` after the last one sent is not sent then: one
    trailing kick is sent at the window's end instead, and covers every kick asked for
    meanwhile. So every commit that wrote events is followed, within `window`, by a kick
    sent *after* it (the drain it starts sees the commit), and a process sends at most
    1 / `window` kicks per second however many orders it records. A process that dies
    with a trailing kick pending (a killed worker) leaves its events to beat's sweep.
    """

    def __init__(self, send: Callable[[], None] = _send_kick) -> None:
        self.send = send
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.lock = threading.Lock()
        self.last_sent = float("-inf")
        self.trailing: threading.Timer | None = None

    def __call__(self, window: float) -> None:
        with self.lock:
            if self.trailing is not None:  # a kick after this commit is already due
                return
            now = time.monotonic()
            wait = self.last_sent + window - now
            if wait > 0:
                self.trailing = threading.Timer(wait, self._fire)
                self.trailing.daemon = True
                self.trailing.start()
                return
            self.last_sent = now
        self.send()

    def _fire(self) -> None:
        with self.lock:
            self.trailing = None
            self.last_sent = time.monotonic()
        try:
            self.send()
        except Exception:  # the sweep drains what this kick would have
            log.exception("intake kick failed")


_debounce = KickDebounce()


def kick() -> None:
    """Ask for a drain. Without a broker (tasks run eagerly) this drains right here, after
    the caller's commit. With one it queues `drain_intake` for a worker, debounced
    (`INTAKE_KICK_WINDOW_MS`, see KickDebounce); a window of 0 sends every kick."""
    window = getattr(settings, "INTAKE_KICK_WINDOW_MS", 0) / 1000
    if settings.CELERY_TASK_ALWAYS_EAGER or window <= 0:
        _send_kick()
    else:
        _debounce(window)


def schedule_drain() -> None:
    """One kick per committed transaction, however many events it wrote."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(
        isinstance(item[1], _Kick) and not item[1].ran for item in conn.run_on_commit
    ):
        return
    transaction.on_commit(_Kick(), robust=True)


# --- the drain -----------------------------------------------------------------------------


@dataclass
class DrainSummary:
    claimed: int = 0
    applied: int = 0
    failed: int = 0

    def add(self, other: DrainSummary) -> None:
        self.claimed += other.claimed
        self.applied += other.applied
        self.failed += other.failed

    def as_dict(self) -> dict:
        return {"claimed": self.claimed, "applied": self.applied, "failed": self.failed}


def _claim(batch_size: int) -> list[IntakeEvent]:
    token = uuid.uuid4().hex
    pending = IntakeEvent.objects.filter(status=IntakeStatus.PENDING).order_by("pk")
    if connection.vendor == "postgresql":
        ids = list(
            pending.select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return []
        IntakeEvent.objects.filter(pk__in=ids).update(claim=token, attempts=F("attempts") + 1)
    else:
        ids = list(pending.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return []
        # The conditional write is the claim: a concurrent drain that read the same ids
        # writes only once this transaction has committed, and then matches nothing.
        IntakeEvent.objects.filter(pk__in=ids, status=IntakeStatus.PENDING).update(
            claim=token, attempts=F("attempts") + 1
        )
    return list(
        IntakeEvent.objects.filter(claim=token, status=IntakeStatus.PENDING).order_by("pk")
    )


def _lock_customers(customer_ids: set[int]) -> dict[int, int | None]:
    """Lock the batch's customers in id order and stamp when their orders changed; returns
    each one's category before the batch's effects."""
    ids = sorted(customer_ids)
    categories = dict(
        Customer.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=ids).order_by("pk").values_list("pk", "category_id")
    )
    Customer.objects.filter(pk__in=ids).update(orders_changed_at=timezone.now())
    return categories


def _as_change(event: IntakeEvent, categories: dict[int, int | None]) -> events.FiguresChanged:
    return events.FiguresChanged(
        shop_id=event.shop_id, customer_id=event.customer_id, order_id=event.order_id,
        what=event.kind, category_id=categories.get(event.customer_id),
    )


def _error_text(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return text[-4000:]


def drain_batch(*, batch_size: int = BATCH_SIZE) -> DrainSummary:
    """Claim and apply one batch of pending events (see the module docstring)."""
    summary = DrainSummary()
    with transaction.atomic():
        claimed = _claim(batch_size)
        if not claimed:
            return summary
        summary.claimed = len(claimed)
        categories = _lock_customers({e.customer_id for e in claimed})
        failed: list[tuple[IntakeEvent, BaseException]] = []
        try:
            with transaction.atomic():
                events.intake_apply([_as_change(e, categories) for e in claimed])
        except Exception:  # find the failing events: each one alone
            log.warning("intake batch of %d failed; applying one by one", len(claimed),
                        exc_info=True)
            for event in claimed:
                try:
                    with transaction.atomic():
                        events.intake_apply([_as_change(event, categories)])
                except Exception as exc:
                    log.exception("intake event %s failed", event.pk)
                    failed.append((event, exc))
        now = timezone.now()
        failed_ids = {e.pk for e, _exc in failed}
        done_ids = [e.pk for e in claimed if e.pk not in failed_ids]
        IntakeEvent.objects.filter(pk__in=done_ids).update(
            status=IntakeStatus.DONE, processed_at=now, error=""
        )
        for event, exc in failed:
            IntakeEvent.objects.filter(pk=event.pk).update(
                status=IntakeStatus.FAILED, processed_at=now, error=_error_text(exc)
            )
        summary.applied, summary.failed = len(done_ids), len(failed)
    return summary


def drain(*, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> DrainSummary:
    """Apply pending events batch after batch until none is left (or `max_batches`)."""
    summary = DrainSummary()
    for _ in range(max_batches):
        batch = drain_batch(batch_size=batch_size)
        summary.add(batch)
        if batch.claimed < batch_size:
            break
    return summary


#: When this process last started the claim of a batch that was not full (time.time()):
#: every event committed before then was claimed by that batch or by a concurrent drain.
_last_emptying_claim = float("-inf")


def drain_kicked(*, kicked_at: float | None = None) -> DrainSummary:
    """The worker's side of a kick: drain as `drain` does, unless a batch of this process
    whose claim started after the kick was sent came back less than full (it saw every
    event committed before the kick): under load, the kicks that queued behind a long drain
    are then answered without a query. Assumes the web and worker clocks agree (NTP);
    beat's sweep covers the rest."""
    global _last_emptying_claim
    if kicked_at is not None and kicked_at < _last_emptying_claim:
        return DrainSummary()
    summary = DrainSummary()
    for _ in range(MAX_BATCHES):
        claim_started = time.time()
        batch = drain_batch()
        summary.add(batch)
        if batch.claimed < BATCH_SIZE:
            _last_emptying_claim = max(_last_emptying_claim, claim_started)
            break
    return summary


def sweep(*, now=None) -> DrainSummary:
    """Beat's every-minute pass: drain what is left and forget old applied events."""
    summary = drain()
    now = now or timezone.now()
    IntakeEvent.objects.filter(
        status=IntakeStatus.DONE, processed_at__lt=now - timedelta(days=KEEP_DONE_DAYS)
    ).delete()
    return summary


@transaction.atomic
def events_retry(*, event_ids) -> int:
    """Put failed events back in the queue (admin action); they are drained after commit."""
    count = IntakeEvent.objects.filter(
        Q(pk__in=list(event_ids)), status=IntakeStatus.FAILED
    ).update(status=IntakeStatus.PENDING, claim="")
    if count:
        schedule_drain()
    return count

