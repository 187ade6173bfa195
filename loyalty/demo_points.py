"""Demo bonus points (called from loyalty.demo.build, after the categories exist).

- Shop `ua`: Member, Silver and Gold run bonus programs on lifetime-spend tiers (Member has
  the SPEC's E11 tiers: 2% under 1000 UAH, 3% up to 3000, 5% from 3000); points are worth
  0.50 UAH and expire after 12 months.
- Shop `pl`: the "-20% group" gets a discount program (20 / 25 / 30% by lifetime spend).
- Ledger history for `ua` customers, written once per shop: the demo orders were bulk
  created without events, so their points are computed here the way loyalty.points does
  (percent of the customer's lifetime spend before each order, reversals for returns),
  with redemptions on some orders and a few staff adjustments, then the real expiry runs.
  Rows are bulk-inserted with the balances they add up to; a shop that already has ledger
  entries is left alone, so re-running adds nothing.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from djmoney.money import Money

from shops.bulk import rows_insert
from shops.counting import COUNTED_ORDER
from shops.models import Order, Return, Shop

from . import points, programs
from .models import (
    BonusProgram,
    BonusTier,
    Category,
    DiscountProgram,
    DiscountTier,
    PointsAccount,
    PointsEntry,
    PointsKind,
    PointsPolicy,
    Program,
)

D = Decimal
#: rank -> (program name, tiers of (from lifetime spend, percent)) in shop `ua`.
UA_BONUS = {
    1: ("Member points", (("0", "2"), ("1000", "3"), ("3000", "5"))),
    2: ("Silver points", (("0", "3"), ("3000", "5"), ("10000", "6"))),
    3: ("Gold points", (("0", "5"), ("10000", "7"), ("30000", "10"))),
}
PL_DISCOUNT = ("-20% group by spend", 4, (("0", "20"), ("3000", "25"), ("6000", "30")))


def build(*, stdout, scale: float = 1.0, seed: int = 42) -> None:
    ua = Shop.objects.filter(code="ua").first()
    if ua is not None:
        _ua_programs(ua)
        written = _ua_history(ua, random.Random(f"{seed}:points"))
        expired = points.points_expire(shop=ua)
        stdout.write(f"loyalty ua: bonus programs; +{written} ledger entries, "
                     f"{expired} points expired")
    pl = Shop.objects.filter(code="pl").first()
    if pl is not None:
        _pl_discount_program(pl)


def _tiers(model, program, shop: Shop, tiers) -> None:
    for start, percent in tiers:
        model.objects.update_or_create(
            program=program, min_lifetime_spend=Money(D(start), shop.currency),
            defaults={"percent": D(percent)},
        )


def _ua_programs(shop: Shop) -> None:
    for rank, (name, tiers) in UA_BONUS.items():
        category = Category.objects.filter(shop=shop, rank=rank).first()
        if category is None:
            continue
        if category.program != Program.BONUS:
            category.program = Program.BONUS
            category.save(update_fields=["program"])
        program, _ = BonusProgram.objects.update_or_create(
            category=category, defaults={"name": name}
        )
        _tiers(BonusTier, program, shop, tiers)
    PointsPolicy.objects.update_or_create(
        shop=shop, defaults={"point_value": Money(D("0.50"), shop.currency), "expiry_months": 12}
    )


def _pl_discount_program(shop: Shop) -> None:
    name, rank, tiers = PL_DISCOUNT
    category = Category.objects.filter(shop=shop, rank=rank, program=Program.DISCOUNT).first()
    if category is None:
        return
    program, _ = DiscountProgram.objects.update_or_create(
        category=category, defaults={"name": name}
    )
    _tiers(DiscountTier, program, shop, tiers)


def _ua_history(shop: Shop, rng: random.Random) -> int:
    if PointsEntry.objects.filter(shop=shop).exists():
        return 0
    by_category = _tiers_by_category(shop)
    tiers = {
        category_id: [programs.Tier(start, percent) for start, percent, _ in rows]
        for category_id, rows in by_category.items()
    }
    boundaries = {category_id: rows[0][2] for category_id, rows in by_category.items()}
    last_return = dict(
        Return.objects.filter(order__shop=shop).order_by("order_id", "pk")
        .values_list("order_id", "pk")
    )
    orders = (
        Order.objects.filter(COUNTED_ORDER, shop=shop)
        .order_by("customer_id", "placed_at", "pk")
        .values_list("pk", "customer_id", "customer__category_id", "placed_at", "goods_total",
                     "returned_total")
    )
    entries: list[dict] = []
    balances: dict[int, int] = {}
    lifetime: dict[int, Decimal] = {}
    for pk, customer_id, category_id, placed_at, goods, returned in orders.iterator():
        before = lifetime.get(customer_id, D(0))
        lifetime[customer_id] = before + goods - returned
        percent = programs.tier_percent(
            tiers.get(category_id, ()), before, boundaries.get(category_id, programs.INCLUSIVE)
        )
        if percent is None:
            continue
        held = balances.get(customer_id, 0)
        if held >= 100 and rng.random() < 0.2:  # redeemed at checkout
            spent = rng.randint(50, held)
            entries.append(dict(shop_id=shop.pk, customer_id=customer_id, order_id=pk,
                                kind=PointsKind.SPENT, points=-spent, created_at=placed_at))
            held -= spent
        earned = programs.percent_points(goods, percent)
        entries.append(dict(shop_id=shop.pk, customer_id=customer_id, order_id=pk,
                            kind=PointsKind.EARNED, points=earned, percent=percent,
                            created_at=placed_at + timedelta(hours=1)))
        kept = programs.percent_points(goods - returned, percent)
        if kept < earned:
            entries.append(dict(
                shop_id=shop.pk, customer_id=customer_id, order_id=pk,
                return_record_id=last_return[pk],
                kind=PointsKind.REVERSED, points=kept - earned,
                created_at=placed_at + timedelta(days=10),
            ))
        balances[customer_id] = held + kept
    staff = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    for customer_id in sorted(balances)[::25]:  # every 25th customer: a goodwill gesture
        entries.append(dict(shop_id=shop.pk, customer_id=customer_id, kind=PointsKind.ADJUSTED,
                            points=100, staff_user_id=staff.pk if staff else None,
                            reason="Goodwill: apology for a late delivery"))
        balances[customer_id] += 100
    rows_insert(PointsEntry, entries)
    rows_insert(PointsAccount, (
        {"customer_id": c, "shop_id": shop.pk, "balance": b} for c, b in balances.items()
    ))
    return len(entries)


def _tiers_by_category(shop: Shop) -> dict[int, list[tuple[Decimal, Decimal, str]]]:
    """Bonus tiers per category: (start, percent, the program's boundary)."""
    result: dict[int, list[tuple[Decimal, Decimal, str]]] = {}
    rows = BonusTier.objects.filter(
        program__category__shop=shop, program__category__program=Program.BONUS
    ).values_list("program__category_id", "min_lifetime_spend", "percent", "program__boundary")
    for category_id, start, percent, boundary in rows:
        result.setdefault(category_id, []).append((start, percent, boundary))
    return result
