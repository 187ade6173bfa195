"""Who may run a shop's full recalculation now, and how a dead run is recognised.

A `RecalculationRun` row in status *running* is the shop's lock (a partial unique
constraint allows one). A process that is killed (``kill -9`` of the command or of a Celery
worker) leaves that row behind; the next run must tell a dead run from a live one:

- **PostgreSQL**: the process executing a run holds a session-level advisory lock on the
  shop for as long as it runs. PostgreSQL releases it when the session ends, and a killed
  process's session ends with it, so a *running* row whose shop lock the next run can take
  is dead, at once, whatever its heartbeat says.
- **Everywhere** (SQLite, and a row that is queued for a worker but not yet executed: the
  admin creates the row up front): the run updates ``heartbeat_at`` after taking the
  snapshot and after every batch; a row without heartbeat for `STALE_AFTER` (2 minutes) is
  dead.

A dead run is marked *failed* with the reason, and the new run starts. A run refused
because another one is alive is recorded as a *skipped* row with its reason (shown in the
admin's recalculation runs), never silently. A redelivered task for the same run (the
broker's visibility timeout, see config/settings.py) takes its own row over when its first
executor is dead and leaves it alone when it is alive.
"""

from __future__ import annotations

import os
import socket
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shops.models import Customer, Shop

from .models import RecalculationRun, RunStatus

#: A run without heartbeat for this long is taken as dead.
STALE_AFTER = timedelta(minutes=2)
#: The first key of the shops' advisory locks (the second is the shop's id).
ADVISORY_NAMESPACE = 0x50415452  # "PATR"


class RecalculationBusy(Exception):
    """Another recalculation of the same shop is running; ``run`` is the skipped row
    recorded for this request (None for a duplicate delivery of the running run)."""

    def __init__(self, message: str, run: RecalculationRun | None = None):
        super().__init__(message)
        self.run = run


def worker_name() -> str:
    """Where a run executes: shown in the admin, and tells a claimed row from a queued one."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


# --- the PostgreSQL session lock -------------------------------------------------------------


def _key(shop: Shop) -> tuple[int, int]:
    return ADVISORY_NAMESPACE, shop.pk % 2**31


def _try_lock(shop: Shop) -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _key(shop))
        return bool(cursor.fetchone()[0])


def unlock(shop: Shop) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", _key(shop))


# --- claiming ----------------------------------------------------------------------------------


def _why_dead(run: RecalculationRun, now: datetime, *, lock_is_ours: bool) -> str | None:
    """Why `run` is dead, or None while it may be alive."""
    if connection.vendor == "postgresql" and run.worker:
        # Executed by a process: alive exactly while that process's session holds the lock.
        if not lock_is_ours:
            return None
        return _("Its process (%(worker)s) ended without finishing: its database session, "
                 "and the shop's lock with it, is gone.") % {"worker": run.worker}
    if run.heartbeat_at < now - STALE_AFTER:
        return _("No heartbeat for %(minutes)d minutes: taken as dead.") % {
            "minutes": STALE_AFTER.total_seconds() // 60}
    return None


def _busy_reason(shop: Shop, live: RecalculationRun | None, now: datetime) -> str:
    if live is None:
        return _("Skipped: another recalculation of %(shop)s is starting.") % {"shop": shop}
    return _("Skipped: run #%(run)d of %(shop)s is still running (last heartbeat %(seconds)d "
             "seconds ago).") % {
        "run": live.pk, "shop": shop,
        "seconds": max(int((now - live.heartbeat_at).total_seconds()), 0)}


def _skip(shop: Shop, *, as_of: date, triggered_by, reason: str) -> RecalculationRun:
    now = timezone.now()
    return RecalculationRun.objects.create(
        shop=shop, as_of=as_of, triggered_by=triggered_by, status=RunStatus.SKIPPED,
        started_at=now, heartbeat_at=now, finished_at=now, error=reason,
    )


def claim(
    *, shop: Shop, as_of: date, triggered_by=None, run_id: int | None = None,
    queue: bool = False,
) -> RecalculationRun:
    """The running row this process may execute (or, with `queue`, a row for a worker to
    execute later, not claimed by this process). Marks dead runs failed; raises
    RecalculationBusy, after recording a skipped row, when a live run holds the shop.

    On success (not `queue`) the caller holds the shop's PostgreSQL lock and must call
    `unlock(shop)` when the run ends."""
    locked = _try_lock(shop)
    try:
        run = _claim_locked(shop, as_of=as_of, triggered_by=triggered_by, run_id=run_id,
                            queue=queue, locked=locked)
    except BaseException:
        if locked:
            unlock(shop)
        raise
    if queue and locked:
        unlock(shop)
    return run


def _claim_locked(shop, *, as_of, triggered_by, run_id, queue, locked) -> RecalculationRun:
    now = timezone.now()
    me = "" if queue else worker_name()
    total = Customer.objects.filter(shop=shop).count()
    live, mine = None, None
    with transaction.atomic():
        running = RecalculationRun.objects.select_for_update().filter(
            shop=shop, status=RunStatus.RUNNING, dry_run=False)
        for run in running:
            why = _why_dead(run, now, lock_is_ours=locked)
            if run.pk == run_id and (why is not None or not run.worker):
                mine = run  # queued for us, or ours from a delivery whose executor died
            elif why is not None:
                RecalculationRun.objects.filter(pk=run.pk).update(
                    status=RunStatus.FAILED, finished_at=now, error=why)
            else:
                live = run
        if locked and live is None and mine is not None:
            RecalculationRun.objects.filter(pk=mine.pk).update(
                worker=me, heartbeat_at=now, total=total, error="", examined=0, moved_up=0,
                moved_down=0, unchanged=0, skipped_locked=0)
            mine.refresh_from_db()
            return mine
        if locked and live is None:
            try:
                with transaction.atomic():
                    return RecalculationRun.objects.create(
                        shop=shop, as_of=as_of, triggered_by=triggered_by, total=total,
                        worker=me, started_at=now, heartbeat_at=now,
                    )
            except IntegrityError:
                pass  # another run was created meanwhile (SQLite: no lock to wait on)
    if run_id is not None and live is not None and live.pk == run_id:
        # The broker delivered our own run again while its executor is alive: not a request.
        raise RecalculationBusy(_busy_reason(shop, live, now))
    if live is None:
        live = RecalculationRun.objects.filter(
            shop=shop, status=RunStatus.RUNNING, dry_run=False).first()
    reason = _busy_reason(shop, live, now)
    raise RecalculationBusy(reason, _skip(shop, as_of=as_of, triggered_by=triggered_by,
                                          reason=reason))


def heartbeat(run: RecalculationRun, **progress) -> None:
    RecalculationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now(), **progress)
