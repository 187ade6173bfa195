"""Changes to customers' categories: recalculation, manual moves, locks.

Every change writes one CategoryChange row. Recalculation is set-based: figures for a batch
of customers come from aggregate queries (loyalty.figures), decisions from the pure
loyalty.decide, and only customers whose category changes are written.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shops.lookups import array_literal, text_array_literal
from shops.models import Customer, Shop

from . import events, lifecycle, runs, selectors
from . import figures as figures_db
from .conditions import needs_of
from .decide import DOWN, GRACE, UP, WAITING, Decision, Ladder, decide
from .models import (
    Category,
    CategoryChange,
    ChangeReason,
    CustomerLifecycle,
    RecalculationRun,
    RunStatus,
)
from .validation import until_error

log = logging.getLogger(__name__)

BATCH_SIZE = 5000
RecalculationBusy = runs.RecalculationBusy


@dataclass
class Summary:
    examined: int = 0
    moved_up: int = 0
    moved_down: int = 0
    unchanged: int = 0
    skipped_locked: int = 0
    #: Of the unchanged: kept by a grace period, waiting for a re-evaluation date
    #: (loyalty.decide); and customers whose temporary hold ended (no longer locked).
    in_grace: int = 0
    waiting: int = 0
    returned: int = 0
    #: Dry runs: up to `sample_size` moves, as decisions.
    sample: list[Decision] = field(default_factory=list)

    def count(self, *, examined: int, locked: int, moved: list[Decision],
              decisions: list[Decision] = ()) -> None:
        self.examined += examined
        returned = sum(1 for d in decisions if d.returned)
        self.returned += returned
        self.skipped_locked += locked - returned
        ups = sum(1 for d in moved if d.direction == UP)
        self.moved_up += ups
        self.moved_down += len(moved) - ups
        self.in_grace += sum(1 for d in decisions if d.reason == GRACE)
        self.waiting += sum(1 for d in decisions if d.reason == WAITING)
        self.unchanged = self.examined - self.moved_up - self.moved_down - self.skipped_locked

    def as_dict(self) -> dict:
        return {
            "examined": self.examined, "moved_up": self.moved_up, "moved_down": self.moved_down,
            "unchanged": self.unchanged, "skipped_locked": self.skipped_locked,
        }


def _reason(decision: Decision) -> str:
    if decision.returned:
        return ChangeReason.TEMPORARY_ENDED
    if decision.grace_ended:
        return ChangeReason.GRACE_ENDED
    return ChangeReason.RULE if decision.rule is not None else ChangeReason.FALLBACK


def _write(
    shop: Shop, decisions: list[Decision], *, as_of: date, when, announce: bool = True
) -> list[Decision]:
    """Write what `decisions` ask: temporary holds that ended, the moves, grace periods."""
    unlocked = lifecycle.unlock_returned(shop, decisions, as_of=as_of, when=when)
    # A hold changed meanwhile (by staff) stands: its customer is left alone.
    decisions = [d for d in decisions if not d.returned or d.customer_id in unlocked]
    applied = _apply(shop, decisions, when=when, as_of=as_of, announce=announce)
    lifecycle.write_grace(decisions, moved={d.customer_id for d in applied}, as_of=as_of)
    return applied


def _apply(
    shop: Shop, decisions: list[Decision], *, when, as_of: date, announce: bool = True
) -> list[Decision]:
    """Write the moves among `decisions`. A customer changed meanwhile (by staff, a lock,
    or another run) is left alone: the write is conditional on the category and lock read."""
    moves = [d for d in decisions if d.moves]
    if not moves:
        return []
    if connection.vendor == "postgresql":
        return _apply_postgresql(shop, moves, when=when, as_of=as_of, announce=announce)
    state, language = {}, {}
    for pk, category_id, locked, lang in (
        Customer.objects.select_for_update().filter(pk__in=[d.customer_id for d in moves])
        .values_list("pk", "category_id", "category_locked", "language")
    ):
        state[pk], language[pk] = (category_id, locked), lang
    applied = [d for d in moves if state.get(d.customer_id) == (d.from_id, False)]
    by_target: dict[int | None, list[int]] = {}
    for d in applied:
        by_target.setdefault(d.to_id, []).append(d.customer_id)
    for to_id, ids in by_target.items():
        Customer.objects.filter(pk__in=ids).update(category_id=to_id)
    changes = CategoryChange.objects.bulk_create(
        CategoryChange(
            shop=shop, customer_id=d.customer_id, from_category_id=d.from_id,
            to_category_id=d.to_id, changed_at=when, as_of=as_of, reason=_reason(d),
            direction=d.direction,
            rule_id=d.rule.id if d.rule else None, figures=d.figures or {},
        )
        for d in applied
    )
    if announce:
        _announce(shop.pk, [c.pk for c in changes], [
            _move(c.pk, d, language[d.customer_id]) for c, d in zip(changes, applied, strict=True)
        ])
    return applied


def _move(change_id: int, d: Decision, language: str) -> events.Move:
    return events.Move(change_id, d.customer_id, d.from_id, d.to_id, d.direction, _reason(d),
                       language or "")


def _announce(shop_id: int, change_ids: list[int], moves=None) -> None:
    events.categories_changed(events.CategoriesChanged(
        shop_id, tuple(change_ids), None if moves is None else tuple(moves)))


_APPLY_SQL = """
WITH moves AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(froms)s::bigint[], %(tos)s::bigint[],
                         %(directions)s::smallint[], %(reasons)s::text[], %(rules)s::bigint[],
                         %(figures)s::text[])
        AS m(customer_id, from_id, to_id, direction, reason, rule_id, figures)
), moved AS (
    UPDATE {customer} c SET category_id = m.to_id
      FROM moves m
     WHERE c.id = m.customer_id AND c.category_id IS NOT DISTINCT FROM m.from_id
       AND NOT c.category_locked
 RETURNING c.id, c.language
), written AS (
    INSERT INTO {change} (shop_id, customer_id, from_category_id, to_category_id, changed_at,
                          as_of, reason, direction, rule_id, figures, note)
    SELECT %(shop)s, m.customer_id, m.from_id, m.to_id, %(when)s, %(as_of)s, m.reason,
           m.direction, m.rule_id, m.figures::jsonb, ''
      FROM moves m JOIN moved ON moved.id = m.customer_id
    RETURNING customer_id, id
)
SELECT w.customer_id, w.id, moved.language
  FROM written w JOIN moved ON moved.id = w.customer_id
 ORDER BY w.id
"""


def _apply_postgresql(
    shop: Shop, moves: list[Decision], *, when, as_of: date, announce: bool
) -> list[Decision]:
    """Lock, re-check, update and write history in one statement (the UPDATE re-evaluates
    its WHERE on rows another transaction changed while it waited for their lock)."""
    sql = _APPLY_SQL.format(
        customer=Customer._meta.db_table, change=CategoryChange._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {  # arrays in their text form: a batch's are dumped in one go
            "ids": array_literal(d.customer_id for d in moves),
            "froms": array_literal(d.from_id for d in moves),
            "tos": array_literal(d.to_id for d in moves),
            "directions": array_literal(d.direction for d in moves),
            "reasons": text_array_literal(_reason(d) for d in moves),
            "rules": array_literal(d.rule.id if d.rule else None for d in moves),
            "figures": text_array_literal(json.dumps(d.figures or {}) for d in moves),
            "shop": shop.pk, "when": when, "as_of": as_of,
        })
        rows = cursor.fetchall()
    by_customer = {d.customer_id: d for d in moves}
    if announce:
        _announce(shop.pk, [change_id for _customer_id, change_id, _lang in rows], [
            _move(change_id, by_customer[customer_id], language)
            for customer_id, change_id, language in rows
        ])
    applied = {customer_id for customer_id, _change_id, _lang in rows}
    return [d for d in moves if d.customer_id in applied]


def run_request(*, shop: Shop, triggered_by=None) -> RecalculationRun:
    """Create the running row up front (so the admin shows it at once); a task runs it.
    Raises RecalculationBusy (after recording a skipped row) while a live run holds the shop."""
    return runs.claim(shop=shop, as_of=shop.today(), triggered_by=triggered_by, queue=True)


def categories_recalculate(
    *,
    shop: Shop,
    as_of: date | None = None,
    dry_run: bool = False,
    ladder: Ladder | None = None,
    batch_size: int = BATCH_SIZE,
    sample_size: int = 20,
    triggered_by=None,
    run_id: int | None = None,
    prefilter: bool = True,
    announce: bool = True,
    id_range: tuple[int, int] | None = None,
) -> Summary:
    """Recalculate every customer of a shop, in batches, each batch atomic.

    With `id_range` (lo, hi] only the customers with ids in it: one key range of a full
    night spread over workers (loyalty.tasks). Such a run claims no RecalculationRun (the
    ranges of one shop run side by side); its writes stay conditional on the category read.

    The shop's figures are aggregated once into a snapshot table, and one pass over it
    lists the customers whose category the rules would change; a batch is `batch_size` of
    those, read again by id with their figures (without a pre-filter — `prefilter` off, or
    rules that cannot be compiled to SQL — a batch is the next `batch_size` customers, with
    figures read per batch); customers whose orders changed since the snapshot are read
    afresh, and decide() judges each. A dry run (optionally with a `ladder` of
    edited, unsaved rules) writes nothing and keeps a sample of the moves. A real run holds
    the shop's RecalculationRun lock (loyalty.runs: a dead run is recognised in seconds on
    PostgreSQL, 2 minutes without heartbeat elsewhere); a refused run is recorded as skipped.
    With `announce` off the moves are written to the history without telling anyone (no
    messages): for a backfill of past data.
    """
    as_of = as_of or shop.today()
    ladder = ladder or selectors.ladder(shop)
    needs = needs_of(ladder.categories)
    run = None if dry_run or id_range is not None else runs.claim(
        shop=shop, as_of=as_of, triggered_by=triggered_by, run_id=run_id
    )
    try:
        return _recalculate(shop, run, as_of=as_of, dry_run=dry_run, ladder=ladder,
                            needs=needs, batch_size=batch_size, sample_size=sample_size,
                            prefilter=prefilter, announce=announce, id_range=id_range)
    finally:
        if run is not None:
            runs.unlock(shop)


def _batches(shop, snapshot, after: int, upto: int | None, size: int):
    """The run's batches as (lo, hi, customers, locked ones, candidates): the customers
    with ids in (lo, hi] (hi None: to the last), and the ids among them whose category may
    change (None: examine them all). With a compiled ladder the candidates of the whole
    range are found in one pass and a batch holds `size` of them; otherwise a batch is the
    next `size` customers."""
    candidates = snapshot.candidates(after, upto)
    if candidates is None:
        while (batch := figures_db.next_batch(shop, after, size, upto)) is not None:
            last, examined, locked = batch
            yield after, last, examined, locked, None
            after = last
        return
    for start in range(0, max(len(candidates), 1), size):
        chunk = candidates[start:start + size]
        last = chunk[-1] if start + size < len(candidates) else upto
        yield after, last, *figures_db.count_range(shop, after, last), chunk
        after = last


def _recalculate(shop, run, *, as_of, dry_run, ladder, needs, batch_size, sample_size,
                 prefilter, announce, id_range=None) -> Summary:
    summary = Summary()
    after, upto = (0, None) if id_range is None else id_range
    try:
        with figures_db.Snapshot(
            shop, needs, as_of, ladder if prefilter else None, id_range=id_range
        ) as snapshot:
            if run is not None:
                runs.heartbeat(run)  # the snapshot may take a while on a large shop
            for lo, hi, examined, locked, candidates in _batches(
                shop, snapshot, after, upto, batch_size
            ):
                with transaction.atomic():
                    if candidates is None:
                        figures = figures_db.load(shop, needs, as_of, id_range=(lo, hi))
                    else:  # only the customers who may move; re-read those whose orders
                        figures, stale = snapshot.changing(candidates)  # changed since
                        if stale:  # the snapshot was taken
                            fresh = {f.customer_id: f for f in figures_db.load(
                                shop, needs, as_of, customer_ids=stale)}
                            figures = [fresh.get(f.customer_id, f) for f in figures]
                    decisions = [decide(f, ladder, as_of) for f in figures]
                    if dry_run:
                        moved = [d for d in decisions if d.moves]
                        room = sample_size - len(summary.sample)
                        summary.sample.extend(moved[:max(room, 0)])
                    else:
                        moved = _write(shop, decisions, as_of=as_of, when=timezone.now(),
                                       announce=announce)
                    summary.count(examined=examined, locked=locked, moved=moved,
                                  decisions=decisions)
                    if run is not None:
                        runs.heartbeat(run, **summary.as_dict())
    except Exception as exc:
        if run is not None:
            RecalculationRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, finished_at=timezone.now(), error=repr(exc)[:2000]
            )
        raise
    if run is not None:
        RecalculationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FINISHED, finished_at=timezone.now(), **summary.as_dict()
        )
    return summary


@transaction.atomic
def customer_recalculate(*, customer_id: int, as_of: date | None = None) -> Decision | None:
    """Recalculate one customer (after a counted order or a return)."""
    customer = Customer.objects.select_related("shop").filter(pk=customer_id).first()
    if customer is None:
        return None
    shop = customer.shop
    as_of = as_of or shop.today()
    ladder = selectors.ladder(shop)
    (figs,) = figures_db.load(shop, needs_of(ladder.categories), as_of, customer_ids=[customer_id])
    decision = decide(figs, ladder, as_of)
    applied = _write(shop, [decision], as_of=as_of, when=timezone.now())
    return applied[0] if applied else decision


def _direction(from_category: Category | None, to_category: Category | None) -> int:
    old = from_category.rank if from_category else -1
    new = to_category.rank if to_category else -1
    return UP if new > old else DOWN if new < old else 0


def _check_until(customer: Customer, until: date | None) -> None:
    if until is not None and (error := until_error(until, customer.shop.today())):
        raise ValidationError({"until": error})


@transaction.atomic
def customer_move(
    *, customer: Customer, category: Category | None, staff_user, note: str = "",
    lock: bool = False, until: date | None = None,
) -> CategoryChange | None:
    """Move a customer by hand. Recorded with the staff user; works on locked customers.

    With ``lock`` the customer is also locked (a second history row, "Automatic movement
    locked", by the same staff user), so that the next recalculation keeps them where staff
    put them. With ``until`` (a date after the shop's today; implies ``lock``) the move is
    temporary: the first recalculation dated on or after it unlocks the customer and applies
    the rules (loyalty.lifecycle); both history rows carry the date. A permanent lock
    replaces a temporary one. Returns the move's history row, or None when they already
    were there."""
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("category", "shop")
        .get(pk=customer.pk)
    )
    if category is not None and category.shop_id != customer.shop_id:
        raise ValidationError({"category": _("The category belongs to another shop.")})
    _check_until(customer, until)
    lock = lock or until is not None
    change = None
    if customer.category_id != (category.pk if category else None):
        old = customer.category
        customer.category = category
        customer.save(update_fields=["category"])
        change = CategoryChange.objects.create(
            shop_id=customer.shop_id, customer=customer, from_category=old,
            to_category=category, as_of=customer.shop.today(), reason=ChangeReason.MANUAL,
            direction=_direction(old, category), staff_user=staff_user, note=note,
            until=until,
        )
        lifecycle.forget_grace(customer.pk)
        _announce(customer.shop_id, [change.pk])
    if lock:
        _lock(customer, staff_user=staff_user, note=note, until=until)
    return change


def _lock(customer: Customer, *, staff_user, note: str = "", until: date | None):
    """Lock (until a date, or for good); a history row when anything changes."""
    held = CustomerLifecycle.objects.filter(customer_id=customer.pk).values_list(
        "manual_until", flat=True).first() if customer.category_locked else None
    if customer.category_locked and held == until:
        return None
    lifecycle.hold_until(customer.pk, until)
    if not customer.category_locked:
        customer.category_locked = True
        customer.save(update_fields=["category_locked"])
    return CategoryChange.objects.create(
        shop_id=customer.shop_id, customer=customer, from_category_id=customer.category_id,
        to_category_id=customer.category_id, as_of=customer.shop.today(),
        reason=ChangeReason.LOCKED, staff_user=staff_user, note=note, until=until,
    )


@transaction.atomic
def customer_lock(
    *, customer: Customer, locked: bool, staff_user, until: date | None = None
) -> CategoryChange | None:
    """Lock or unlock automatic movement; recorded in the history. With ``until`` (a date
    after the shop's today) the lock is temporary: the first recalculation dated on or after
    it unlocks the customer (loyalty.lifecycle)."""
    customer = Customer.objects.select_for_update(of=("self",)).select_related("shop").get(
        pk=customer.pk)
    if locked:
        _check_until(customer, until)
        return _lock(customer, staff_user=staff_user, until=until)
    if not customer.category_locked:
        return None
    customer.category_locked = False
    customer.save(update_fields=["category_locked"])
    lifecycle.hold_until(customer.pk, None)
    return CategoryChange.objects.create(
        shop_id=customer.shop_id, customer=customer, from_category_id=customer.category_id,
        to_category_id=customer.category_id, as_of=customer.shop.today(),
        reason=ChangeReason.UNLOCKED, staff_user=staff_user,
    )


def customer_place_in_default(*, customer_id: int) -> CategoryChange | None:
    """A newly registered customer lands in the shop's default category."""
    customer = (
        Customer.objects.select_for_update(of=("self",)).select_related("shop").get(pk=customer_id)
    )
    if customer.category_id is not None:
        return None
    default = Category.objects.filter(shop_id=customer.shop_id, is_default=True).first()
    if default is None:
        return None
    customer.category = default
    customer.save(update_fields=["category"])
    change = CategoryChange.objects.create(
        shop_id=customer.shop_id, customer=customer, to_category=default,
        as_of=customer.shop.today(), reason=ChangeReason.REGISTERED, direction=UP,
    )
    _announce(customer.shop_id, [change.pk])
    return change


def customers_recalculate(
    *, shop: Shop, customer_ids, as_of: date | None = None, announce: bool = True
) -> list[Decision]:
    """Recalculate exactly these customers of the shop, set-based: one figures query for
    all of them, decide(), and one conditional write of the moves (the intake drain's
    recalculation of a batch's customers). Returns the moves written. With `announce` off
    the moves are recorded without telling anyone (an imported history)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    as_of = as_of or shop.today()
    ladder = selectors.ladder(shop)
    figures = figures_db.load(shop, needs_of(ladder.categories), as_of, customer_ids=ids)
    decisions = [decide(f, ladder, as_of) for f in figures]
    return _write(shop, decisions, as_of=as_of, when=timezone.now(), announce=announce)
