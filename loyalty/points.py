"""Bonus points: earning on counted orders, reversal on returns, spending, staff adjustments,
expiry; the balance and an order's points.

Every write goes through `_post`, which inserts ledger entries and moves the same customers'
`PointsAccount.balance` by the same amounts in the same transaction, so the balance always
equals the sum of the ledger (tested with random sequences of operations). Rules and
amounts come from the pure loyalty.programs.

Earning is driven by the intake drain (`shops.events.on_intake`, see loyalty.hooks), after
the order's transaction, under the order's row lock taken here:
- an order that becomes counted earns once: the database allows one `earned` entry per
  order, so a duplicated event writes nothing more;
- afterwards the order's points follow its state: a return (or any drop in value) writes a
  `reversed` entry tied to the return, an order that stops counting (cancelled after
  completion, payment withdrawn) has all its points reversed, and one that counts again, or
  whose value rises, gets them back as a `corrected` entry, at the percent it first earned.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from shops.counting import COUNTED_ORDER
from shops.models import Customer, Order, Return, Shop

from . import programs
from .models import (
    BonusTier,
    OrderPointsTerms,
    PointsAccount,
    PointsEntry,
    PointsKind,
    PointsPolicy,
    Program,
)

AMOUNT = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")
#: Entries that make up what an order earned (spending is not earning).
ORDER_EARNING = (PointsKind.EARNED, PointsKind.CORRECTED, PointsKind.REVERSED)
BATCH_SIZE = 5000


class PointsUnavailable(ValidationError):
    """The customer's balance cannot cover the points to spend (nothing was recorded)."""


# --- reading ---------------------------------------------------------------------------------


def balance(customer_id: int) -> int:
    """The customer's current points balance (0 without any entry)."""
    value = (
        PointsAccount.objects.filter(customer_id=customer_id)
        .values_list("balance", flat=True).first()
    )
    return value or 0


def balances(customer_ids: Iterable[int]) -> dict[int, int]:
    """{customer id: balance} for many customers in one query (missing: no entry yet, 0)."""
    return dict(
        PointsAccount.objects.filter(customer_id__in=list(customer_ids))
        .values_list("customer_id", "balance")
    )


def order_points(order_id: int) -> int:
    """Net points earned for an order so far (earned, corrected and reversed; not spent)."""
    total = PointsEntry.objects.filter(order_id=order_id, kind__in=ORDER_EARNING).aggregate(
        s=Sum("points")
    )["s"]
    return total or 0


def orders_points(order_ids: Iterable[int]) -> dict[int, int]:
    """{order id: net points earned so far} for many orders in one grouped query."""
    return dict(
        PointsEntry.objects.filter(order_id__in=list(order_ids), kind__in=ORDER_EARNING)
        .order_by().values("order_id").annotate(s=Sum("points")).values_list("order_id", "s")
    )


def ledger_sum(customer_id: int) -> int:
    total = PointsEntry.objects.filter(customer_id=customer_id).aggregate(s=Sum("points"))["s"]
    return total or 0


def point_value(shop: Shop) -> Decimal:
    value = (
        PointsPolicy.objects.filter(shop=shop).values_list("point_value", flat=True).first()
    )
    return value if value is not None else Decimal(0)


def lifetime_spend_before(order: Order) -> Decimal:
    """Counted value, net of returns, of the customer's other counted orders placed before
    this one (same instant: the earlier id first)."""
    net = ExpressionWrapper(F("goods_total") - F("returned_total"), output_field=AMOUNT)
    total = (
        Order.objects.filter(COUNTED_ORDER, customer_id=order.customer_id)
        .filter(Q(placed_at__lt=order.placed_at) | Q(placed_at=order.placed_at, pk__lt=order.pk))
        .aggregate(s=Sum(net))["s"]
    )
    return Decimal(0) if total is None else Decimal(total).quantize(CENT)


def bonus_tiers(category_id: int | None) -> tuple[list[programs.Tier], str]:
    """The tiers of the category's bonus program (none unless the category runs one), with
    the program's tier boundary."""
    if category_id is None:
        return [], programs.INCLUSIVE
    rows = BonusTier.objects.filter(
        program__category_id=category_id, program__category__program=Program.BONUS
    ).values_list("min_lifetime_spend", "percent", "program__boundary")
    tiers = [programs.Tier(start, percent) for start, percent, _ in rows]
    return tiers, (rows[0][2] if rows else programs.INCLUSIVE)


# --- the one writer ----------------------------------------------------------------------------


def _post(entries: Sequence[PointsEntry]) -> list[PointsEntry]:
    """Insert `entries` and move their customers' balances by the same amounts."""
    entries = [e for e in entries if e.points or e.kind == PointsKind.EARNED]
    if not entries:
        return []
    created = PointsEntry.objects.bulk_create(entries)
    deltas: dict[int, int] = {}
    shops: dict[int, int] = {}
    for e in entries:
        deltas[e.customer_id] = deltas.get(e.customer_id, 0) + e.points
        shops[e.customer_id] = e.shop_id
    _ensure_accounts(shops)
    _move(deltas)
    return created


def _ensure_accounts(shop_of: dict[int, int]) -> None:
    PointsAccount.objects.bulk_create(
        [PointsAccount(customer_id=c, shop_id=s) for c, s in shop_of.items()],
        ignore_conflicts=True,
    )


def _move(deltas: dict[int, int]) -> None:
    """balance += delta for each customer, in one UPDATE."""
    deltas = {c: d for c, d in deltas.items() if d}
    if not deltas:
        return
    if len(deltas) == 1:
        ((customer_id, delta),) = deltas.items()
        PointsAccount.objects.filter(customer_id=customer_id).update(
            balance=F("balance") + delta
        )
        return
    PointsAccount.objects.filter(customer_id__in=list(deltas)).update(
        balance=F("balance") + Case(
            *[When(customer_id=c, then=Value(d)) for c, d in deltas.items()], default=Value(0)
        )
    )


# --- earning and reversal ----------------------------------------------------------------------


def _terms(order_id: int) -> tuple[int, bool]:
    terms = OrderPointsTerms.objects.filter(order_id=order_id).first()
    return (terms.granted_points, terms.earns_percent) if terms else (0, True)


def _earn(order: Order) -> list[PointsEntry]:
    category_id = Customer.objects.filter(pk=order.customer_id).values_list(
        "category_id", flat=True).get()
    tiers, boundary = bonus_tiers(category_id)
    granted, earns_percent = _terms(order.pk)
    if not tiers and not granted:
        return []  # no bonus program and nothing granted: nothing to record
    percent = (programs.tier_percent(tiers, lifetime_spend_before(order), boundary)
               if tiers else None)
    if percent is None and not granted:
        return []
    points = programs.order_points(
        counted=True, net_value=order.net_value.amount, percent=percent, granted=granted,
        earns_percent=earns_percent,
    )
    entry = PointsEntry(
        shop_id=order.shop_id, customer_id=order.customer_id, kind=PointsKind.EARNED,
        points=points, order=order, percent=percent,
    )
    try:
        with transaction.atomic():
            return _post([entry])
    except IntegrityError:
        if PointsEntry.objects.filter(order=order, kind=PointsKind.EARNED).exists():
            return []  # earned already: the same event delivered twice
        raise


@transaction.atomic
def order_points_sync(*, order_id: int, what: str = "") -> list[PointsEntry]:
    """Bring an order's points in line with its state (see the module docstring); `what` is
    the shops event ("counted", "uncounted", "value"). Idempotent."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        return []
    earned = PointsEntry.objects.filter(order=order, kind=PointsKind.EARNED).first()
    if earned is None:
        return _earn(order) if order.is_counted else []
    granted, earns_percent = _terms(order.pk)
    target = programs.order_points(
        counted=order.is_counted, net_value=order.net_value.amount, percent=earned.percent,
        granted=granted, earns_percent=earns_percent,
    )
    delta = target - order_points(order.pk)
    if not delta:
        return []
    entry = PointsEntry(
        shop_id=order.shop_id, customer_id=order.customer_id, points=delta, order=order,
        kind=PointsKind.CORRECTED if delta > 0 else PointsKind.REVERSED,
    )
    if delta < 0 and order.is_counted:  # value dropped: the latest return caused it
        entry.return_record = Return.objects.filter(order=order).order_by("-pk").first()
    return _post([entry])


def _lifetime_spend_before_many(orders: Sequence[Order]) -> dict[int, Decimal]:
    """lifetime_spend_before() of several orders in one query (a correlated subquery)."""
    net = ExpressionWrapper(F("goods_total") - F("returned_total"), output_field=AMOUNT)
    before = (
        Order.objects.filter(COUNTED_ORDER, customer_id=OuterRef("customer_id"))
        .filter(Q(placed_at__lt=OuterRef("placed_at"))
                | Q(placed_at=OuterRef("placed_at"), pk__lt=OuterRef("pk")))
        .order_by().values("customer_id").annotate(s=Sum(net)).values("s")
    )
    rows = Order.objects.filter(pk__in=[o.pk for o in orders]).annotate(
        spent=Subquery(before, output_field=AMOUNT)
    ).values_list("pk", "spent")
    return {pk: Decimal(0) if v is None else Decimal(v).quantize(CENT) for pk, v in rows}


def _tiers_by_category(
    category_ids: set[int],
) -> tuple[dict[int, list[programs.Tier]], dict[int, str]]:
    """Each category's bonus tiers and its program's tier boundary (one query)."""
    tiers: dict[int, list[programs.Tier]] = {}
    boundaries: dict[int, str] = {}
    for category_id, start, percent, boundary in BonusTier.objects.filter(
        program__category_id__in=category_ids, program__category__program=Program.BONUS
    ).values_list("program__category_id", "min_lifetime_spend", "percent", "program__boundary"):
        tiers.setdefault(category_id, []).append(programs.Tier(start, percent))
        boundaries[category_id] = boundary
    return tiers, boundaries


def orders_points_sync(*, order_ids: Iterable[int]) -> list[PointsEntry]:
    """order_points_sync() for a batch of orders with a fixed number of queries: the orders
    are locked in id order, their entries, terms, the customers' categories and bonus tiers
    and the lifetime spend before each order to earn are read in one query each, and all
    entries are written by one _post. Idempotent (state-based, and the database allows one
    `earned` entry per order)."""
    ids = sorted(set(order_ids))
    if not ids:
        return []
    with transaction.atomic():
        orders = list(
            Order.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
        )
        earned = {
            e.order_id: e
            for e in PointsEntry.objects.filter(order_id__in=ids, kind=PointsKind.EARNED)
        }
        terms = {
            order_id: (granted, earns)
            for order_id, granted, earns in OrderPointsTerms.objects.filter(
                order_id__in=ids).values_list("order_id", "granted_points", "earns_percent")
        }
        entries: list[PointsEntry] = []
        to_earn = [o for o in orders if o.pk not in earned and o.is_counted]
        if to_earn:
            category_of = dict(
                Customer.objects.filter(pk__in={o.customer_id for o in to_earn})
                .values_list("pk", "category_id")
            )
            tiers_of, boundary_of = _tiers_by_category(
                {c for c in category_of.values() if c is not None})
            spent = _lifetime_spend_before_many(to_earn) if tiers_of else {}
            for order in to_earn:
                tiers = tiers_of.get(category_of.get(order.customer_id), [])
                granted, earns_percent = terms.get(order.pk, (0, True))
                if not tiers and not granted:
                    continue
                percent = programs.tier_percent(
                    tiers, spent[order.pk], boundary_of.get(category_of.get(order.customer_id))
                ) if tiers else None
                if percent is None and not granted:
                    continue
                entries.append(PointsEntry(
                    shop_id=order.shop_id, customer_id=order.customer_id,
                    kind=PointsKind.EARNED, order=order, percent=percent,
                    points=programs.order_points(
                        counted=True, net_value=order.net_value.amount, percent=percent,
                        granted=granted, earns_percent=earns_percent,
                    ),
                ))
        following = [o for o in orders if o.pk in earned]
        current = dict(
            PointsEntry.objects.filter(
                order_id__in=[o.pk for o in following], kind__in=ORDER_EARNING
            ).order_by().values("order_id").annotate(s=Sum("points"))
            .values_list("order_id", "s")
        ) if following else {}
        reversing: list[PointsEntry] = []
        for order in following:
            granted, earns_percent = terms.get(order.pk, (0, True))
            target = programs.order_points(
                counted=order.is_counted, net_value=order.net_value.amount,
                percent=earned[order.pk].percent, granted=granted, earns_percent=earns_percent,
            )
            delta = target - (current.get(order.pk) or 0)
            if not delta:
                continue
            entry = PointsEntry(
                shop_id=order.shop_id, customer_id=order.customer_id, points=delta,
                order=order, kind=PointsKind.CORRECTED if delta > 0 else PointsKind.REVERSED,
            )
            if delta < 0 and order.is_counted:  # value dropped: the latest return caused it
                reversing.append(entry)
            entries.append(entry)
        if reversing:
            latest = dict(
                Return.objects.filter(order_id__in=[e.order_id for e in reversing])
                .order_by().values("order_id").annotate(m=Max("pk")).values_list("order_id", "m")
            )
            for entry in reversing:
                entry.return_record_id = latest.get(entry.order_id)
        return _post(entries)


def figures_changed(event) -> None:
    """Bring one changed order's points in line (an intake event on its own)."""
    if event.order_id is not None and event.what in ("counted", "uncounted", "value"):
        order_points_sync(order_id=event.order_id, what=event.what)


@transaction.atomic
def order_terms_record(*, order: Order, granted_points: int, earns_percent: bool) -> None:
    """Keep what a confirmed quote promised (threshold tier points, whether the bonus %
    is earned). An order already counted is brought in line at once."""
    if granted_points == 0 and earns_percent:
        return  # the default: nothing to keep
    OrderPointsTerms.objects.update_or_create(
        order=order, defaults={"granted_points": granted_points, "earns_percent": earns_percent}
    )
    order_points_sync(order_id=order.pk)


# --- spending --------------------------------------------------------------------------------


@transaction.atomic
def points_spend(*, order: Order, points: int) -> PointsEntry | None:
    """Spend `points` of the order's customer on the order. The conditional UPDATE
    (balance >= points) is the guard: of two concurrent spends, the second waits for the
    first to commit, then matches no row if the balance no longer covers it. Raises
    PointsUnavailable (and records nothing) when it does not."""
    if points < 0:
        raise ValidationError({"points": _("Points to spend cannot be negative.")})
    if points == 0:
        return None
    entry = PointsEntry(
        shop_id=order.shop_id, customer_id=order.customer_id, kind=PointsKind.SPENT,
        points=-points, order=order,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError as exc:
        raise ValidationError(
            {"points": _("Points were already spent on this order.")}
        ) from exc
    taken = PointsAccount.objects.filter(
        customer_id=order.customer_id, balance__gte=points
    ).update(balance=F("balance") - points)
    if not taken:
        raise PointsUnavailable(
            {"points": _("The balance of %(balance)d points does not cover %(points)d.")
             % {"balance": balance(order.customer_id), "points": points}}
        )
    return entry


# --- staff adjustments ---------------------------------------------------------------------------


@transaction.atomic
def points_adjust(
    *, customer_ids: Sequence[int], points: int, reason: str, staff_user
) -> list[PointsEntry]:
    """Add (or take, when negative) `points` to each customer, recorded with the staff
    user and the reason. A deduction may not take any balance below zero: then nothing is
    recorded for anyone."""
    reason = (reason or "").strip()
    if not points:
        raise ValidationError({"points": _("Enter a number of points other than zero.")})
    if not reason:
        raise ValidationError({"reason": _("Say why the points are adjusted.")})
    shop_of = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "shop_id"))
    if not shop_of:
        return []
    _ensure_accounts(shop_of)
    accounts = PointsAccount.objects.filter(customer_id__in=list(shop_of))
    if points < 0:
        # One conditional UPDATE for everyone: all or nothing.
        moved = accounts.filter(balance__gte=-points).update(balance=F("balance") + points)
        if moved != len(shop_of):
            raise ValidationError({"points": _(
                "%(n)d of the customers do not have %(points)d points: nothing was changed."
            ) % {"n": len(shop_of) - moved, "points": -points}})
    else:
        accounts.update(balance=F("balance") + points)
    return PointsEntry.objects.bulk_create(
        PointsEntry(
            shop_id=shop_id, customer_id=customer_id, kind=PointsKind.ADJUSTED, points=points,
            staff_user=staff_user, reason=reason,
        )
        for customer_id, shop_id in shop_of.items()
    )


# --- expiry ------------------------------------------------------------------------------------


def points_expire(
    *, shop: Shop, now: datetime | None = None, batch_size: int = BATCH_SIZE,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Expire the points older than the shop's policy allows (first in, first out), in
    keyset batches of accounts, each batch atomic: lock the batch's accounts, one grouped
    query over their entries, one INSERT, one UPDATE. Returns the points expired.
    `customer_ids` limits it to these customers' accounts (an incremental night's
    candidates, loyalty.incremental.expiry_candidates)."""
    months = (
        PointsPolicy.objects.filter(shop=shop).values_list("expiry_months", flat=True).first()
    )
    if not months:
        return 0
    now = now or timezone.now()
    cutoff = programs.months_before(now, months)
    expired, after = 0, 0
    only = None if customer_ids is None else sorted(set(customer_ids))
    while True:
        with transaction.atomic():
            chosen = PointsAccount.objects.filter(shop=shop, balance__gt=0, customer_id__gt=after)
            if only is not None:  # the next slice of the ids, so each query stays bounded
                start = bisect.bisect_right(only, after)
                piece = only[start:start + batch_size]
                if not piece:
                    return expired
                chosen = chosen.filter(customer_id__in=piece)
            accounts = dict(
                chosen.select_for_update()
                .order_by("customer_id").values_list("customer_id", "balance")[:batch_size]
            )
            if only is not None:
                after = piece[-1]
            elif not accounts:
                return expired
            else:
                after = max(accounts)
            figures = (
                PointsEntry.objects.filter(customer_id__in=list(accounts))
                .values("customer_id")
                .annotate(
                    credited=Sum("points", filter=Q(points__gt=0, created_at__lt=cutoff)),
                    used=Sum("points", filter=Q(points__lt=0)),
                )
                .order_by()
            )
            entries = []
            for row in figures:
                points = programs.expiring(
                    credited_before_cutoff=row["credited"] or 0, used=-(row["used"] or 0),
                    balance=accounts[row["customer_id"]],
                )
                if points:
                    entries.append(PointsEntry(
                        shop=shop, customer_id=row["customer_id"], kind=PointsKind.EXPIRED,
                        points=-points, created_at=now,
                    ))
            PointsEntry.objects.bulk_create(entries)
            _move({e.customer_id: e.points for e in entries})
            expired += sum(-e.points for e in entries)
