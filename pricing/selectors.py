"""Loading everything a quote needs, as ``pricing.engine`` dataclasses.

One query, whatever the number of cart lines and configurations: a ``UNION ALL`` with one
branch per table, returning

- the customer's category percent, loyalty card percent and lifetime counted spend net of
  returns (one aggregate compiled from shops.counting's definitions), when there is a customer,
  with the tiers of their category's bonus or discount program (loyalty.programs picks the
  tier), their points balance and the shop's value per point, and the segments they are in
  (stored membership);
- the shop's enabled configurations for the client type, every kind, with their tiers (and the
  threshold tiers' gifts);
- the promo code entered, whatever its client type or state (so that the quote can say why it
  does not apply), with its uses so far and the customer's;
- the products' collections and quantity profile tiers.

It is plain SQL, portable across PostgreSQL and SQLite, because building a dozen ORM querysets
per quote cost more than the database and the engine together (bench/bench_pricing.py). Rows
are converted here: SQLite hands back floats, ints and strings for decimals, booleans and
dates. The service tests price the SPEC examples through it on both databases.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.db.models import DecimalField, Sum

from loyalty import programs
from loyalty.models import Program
from shops.counting import COUNTED_ORDER, ORDER_NET_VALUE
from shops.models import Order, Product, Shop

from . import engine
from .models import EVERY_CUSTOMER, DiscountConfiguration, DiscountKind

AMOUNT = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def engine_id(kind: str, pk: int) -> str:
    """The id a configuration has in the engine: unique across kinds."""
    return f"{kind}:{pk}"


def parse_engine_id(discount_id: int | str) -> tuple[str, int]:
    kind, pk = str(discount_id).split(":")
    return kind, int(pk)


# --- the customer -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CustomerFacts:
    lifetime_spend: Decimal
    category_percent: Decimal | None
    loyalty_card_percent: Decimal | None
    #: The segments the customer is in (loyalty.SegmentMember, stored by loyalty.segments).
    segment_ids: frozenset[int]
    #: The bonus % of the category's bonus program tier reached by the lifetime spend.
    bonus_percent: Decimal | None = None
    points_balance: int = 0
    point_value: Decimal = ZERO


_SENTINEL = -4_242_424_242


@functools.cache
def _lifetime_spend_sql(vendor: str) -> tuple[str, list, int]:
    """The lifetime counted spend of one customer, net of returns, as shops.counting defines
    it: compiled from the ORM once per database vendor, to embed in the one query (SQL,
    params, and where the customer id goes in the params)."""
    spend = (
        Order.objects.filter(COUNTED_ORDER, customer_id=_SENTINEL)
        .order_by()
        .values("customer")
        .annotate(total=Sum(ORDER_NET_VALUE, output_field=AMOUNT))
        .values("total")
    )
    sql, params = spend.query.get_compiler(connection=connection).as_sql()
    params = list(params)
    if params.count(_SENTINEL) != 1:  # pragma: no cover - a change in shops.counting
        raise RuntimeError("cannot place the customer in the lifetime spend query")
    return sql, params, params.index(_SENTINEL)


# --- configurations, promo code and products: one query ---------------------------------------

# Every branch has the columns of _TYPES; what ref, n*, d*, f*, t1 and dt* hold depends on
# the branch (``grp``), see each branch and _build.
(_CUSTOMER, _CUMULATIVE, _THRESHOLD, _GIFT, _QUANTITY, _OFFER, _CATEGORY, _CARD, _SEGMENT,
 _CODE, _COLLECTION, _PROFILE, _PROGRAM_TIER, _POINTS, _MEMBER) = range(1, 16)

# PostgreSQL types a UNION pairwise from the left: this empty first branch types every column.
_TYPES = """
SELECT 0 AS grp, CAST(NULL AS BIGINT) AS id, CAST(NULL AS VARCHAR(200)) AS name,
       CAST(NULL AS VARCHAR(16)) AS client_type, CAST(NULL AS BOOLEAN) AS enabled,
       CAST(NULL AS VARCHAR(24)) AS stacking, CAST(NULL AS INTEGER) AS position,
       CAST(NULL AS BIGINT) AS ref, CAST(NULL AS BIGINT) AS n1, CAST(NULL AS BIGINT) AS n2,
       CAST(NULL AS BIGINT) AS n3, CAST(NULL AS BIGINT) AS n4,
       CAST(NULL AS NUMERIC(14, 2)) AS d1, CAST(NULL AS NUMERIC(14, 2)) AS d2,
       CAST(NULL AS NUMERIC(14, 2)) AS d3, CAST(NULL AS BOOLEAN) AS f1,
       CAST(NULL AS BOOLEAN) AS f2, CAST(NULL AS VARCHAR(64)) AS t1,
       CAST(NULL AS DATE) AS dt1, CAST(NULL AS DATE) AS dt2
 WHERE 1 = 0
"""
# The branches, numbered by ``grp`` (the constants above). Configurations: the enabled ones
# of the shop and client type (params: shop, client type, True), each with its tiers.
_OWN = "WHERE d.shop_id = %s AND d.client_type = %s AND d.enabled = %s"
_BRANCHES = (
    # cumulative: ref = tier, d1 = from lifetime spend, d2 = percent
    """
SELECT 2, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       t.id, NULL, NULL, NULL, NULL, t.min_lifetime_spend, t.percent, NULL,
       NULL, NULL, NULL, NULL, NULL
  FROM pricing_cumulativediscount d
  LEFT JOIN pricing_cumulativetier t ON t.discount_id = d.id """,
    # threshold: ref = tier, n1 = bonus points, d1 = from goods value, d2 = percent
    """
SELECT 3, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       t.id, t.bonus_points, NULL, NULL, NULL, t.min_goods_value, t.percent, NULL,
       NULL, NULL, NULL, NULL, NULL
  FROM pricing_thresholddiscount d
  LEFT JOIN pricing_thresholdtier t ON t.discount_id = d.id """,
    # threshold tier gifts: ref = tier, n1 = product; only the shop's active products (an
    # inactive one is out of stock: not on offer)
    """
SELECT 4, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       t.id, g.product_id, NULL, NULL, NULL, t.min_goods_value, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL
  FROM pricing_thresholddiscount d
  JOIN pricing_thresholdtier t ON t.discount_id = d.id
  JOIN pricing_thresholdtier_gifts g ON g.thresholdtier_id = t.id
  JOIN shops_product gp ON gp.id = g.product_id AND gp.shop_id = d.shop_id
       AND gp.is_active = TRUE """,
    # quantity
    """
SELECT 5, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM pricing_quantitydiscount d """,
    # special offer: ref = collection, n1 = buy, n2 = get free
    """
SELECT 6, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       d.collection_id, d.buy_quantity, d.free_quantity, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL
  FROM pricing_specialoffer d """,
    # category
    """
SELECT 7, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM pricing_categorydiscount d """,
    # loyalty card
    """
SELECT 8, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM pricing_loyaltycarddiscount d """,
    # segment: ref = tier, n1 = segment (NULL: every customer), n2 = applies with a code,
    # n3 = gives its special discount, d1 = from cart total, d2 = percent off,
    # d3 = amount off, f1 = free shipping, f2 = earns points
    """
SELECT 9, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       t.id, d.segment_id, CASE WHEN d.applies_with_promo_code THEN 1 ELSE 0 END,
       CASE WHEN d.special_discount THEN 1 ELSE 0 END, NULL,
       t.min_cart_total, t.percent_off, t.amount_off, t.free_shipping, d.earns_points,
       NULL, NULL, NULL
  FROM pricing_segmentadvantage d
  LEFT JOIN pricing_segmenttier t ON t.advantage_id = d.id """,
)
# The promo code entered, any client type and state: the engine says why it does not apply.
# n1, n2 = total and per-customer limits, n3 = uses so far, n4 = this customer's uses,
# d1 = minimum order value, d2 = percent, d3 = amount, f1 = other discounts still apply;
# the maximum discount: ref = its value in hundredths (both fields have 2 decimal places),
# f2 = it is a percent (else an amount; ref NULL: no cap).
_CODE_BRANCH = """
SELECT 10, d.id, d.name, d.client_type, d.enabled, d.stacking, d.position,
       CAST(ROUND(COALESCE(d.max_discount_percent, d.max_discount_amount) * 100) AS BIGINT),
       d.usage_limit, d.usage_limit_per_customer, d.times_used,
       (SELECT COUNT(*) FROM pricing_promocodeuse u
         WHERE u.code_id = d.id AND u.customer_id = %s),
       d.minimum_order_value, d.percent, d.amount, d.combinable,
       d.max_discount_percent IS NOT NULL, d.code,
       d.valid_from, d.valid_until
  FROM pricing_promocode d WHERE d.shop_id = %s AND UPPER(d.code) = UPPER(%s)"""
# d1 = category percent (t1 its program), d2 = loyalty card percent, d3 = lifetime spend
# ({spend}: the compiled aggregate).
_CUSTOMER_BRANCH = """
SELECT 1, c.id, NULL, c.client_type, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       k.discount_percent, card.percent, COALESCE(({spend}), 0), NULL, NULL, k.program,
       NULL, NULL
  FROM shops_customer c
  LEFT JOIN loyalty_category k ON k.id = c.category_id
  LEFT JOIN pricing_loyaltycard card ON card.customer_id = c.id
 WHERE c.id = %s"""
# The tiers of the customer's category program, when the category runs that program:
# d1 = from lifetime spend, d2 = percent, t1 = the program, name = its tier boundary.
_PROGRAM_TIER_BRANCH = """
SELECT 13, t.id, p.boundary, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       t.min_lifetime_spend, t.percent, NULL, NULL, NULL, k.program, NULL, NULL
  FROM shops_customer c
  JOIN loyalty_category k ON k.id = c.category_id
  JOIN loyalty_{program}program p ON p.category_id = k.id
  JOIN loyalty_{program}tier t ON t.program_id = p.id
 WHERE c.id = %s AND k.program = %s"""
# The customer's points: n1 = balance, d1 = the shop's value per point.
_POINTS_BRANCH = """
SELECT 14, c.id, NULL, NULL, NULL, NULL, NULL, NULL, a.balance, NULL, NULL, NULL,
       pp.point_value, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM shops_customer c
  LEFT JOIN loyalty_pointsaccount a ON a.customer_id = c.id
  LEFT JOIN loyalty_pointspolicy pp ON pp.shop_id = c.shop_id
 WHERE c.id = %s"""
# The segments the customer is in (ref), as stored by loyalty.segments.
_MEMBER_BRANCH = """
SELECT 15, m.customer_id, NULL, NULL, NULL, NULL, NULL, m.segment_id,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM loyalty_segmentmember m WHERE m.customer_id = %s"""
# The products' collections (ref) and quantity profile tiers (t1 = basis, d1 = from, d2 = %).
_COLLECTION_BRANCH = """
SELECT 11, pc.product_id, NULL, NULL, NULL, NULL, NULL, pc.collection_id,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM shops_product_collections pc WHERE pc.product_id IN ({ids})"""
_PROFILE_BRANCH = """
SELECT 12, pp.product_id, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, t.min_value, t.percent, NULL, NULL, NULL, p.basis, NULL, NULL
  FROM pricing_quantityprofileproduct pp
  JOIN pricing_quantityprofile p ON p.id = pp.profile_id
  JOIN pricing_quantitytier t ON t.profile_id = p.id
 WHERE pp.product_id IN ({ids})"""


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(CENT)


def _date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass
class PricingData:
    """Everything a quote reads, as engine inputs (``customer`` is None without one)."""

    discounts: list[engine.Discount] = field(default_factory=list)
    collections: dict[int, frozenset[int]] = field(default_factory=dict)
    profiles: dict[int, engine.QuantityProfile] = field(default_factory=dict)
    promo_code: engine.PromoCode | None = None
    promo_code_uses_total: int = 0
    promo_code_uses_by_customer: int = 0
    customer: CustomerFacts | None = None


def pricing_data(
    *,
    shop: Shop,
    client_type: str,
    product_ids: Iterable[int] = (),
    promo_code: str | None = None,
    customer_id: int | None = None,
) -> PricingData:
    """One query: the customer's figures (when ``customer_id`` is given), the shop's enabled
    configurations for ``client_type`` (every kind, tiers in order), the promo code entered
    (matched in any case; the client type's own first) and the products' collections and
    quantity profiles."""
    ids = sorted(set(product_ids))
    parts, params = [_TYPES], []
    if customer_id is not None:
        spend_sql, spend_params, at = _lifetime_spend_sql(connection.vendor)
        spend_params = list(spend_params)
        spend_params[at] = customer_id
        parts.append(_CUSTOMER_BRANCH.format(spend=spend_sql))
        params += [*spend_params, customer_id]
        for program in (Program.BONUS, Program.DISCOUNT):  # table names from our constants
            parts.append(_PROGRAM_TIER_BRANCH.format(program=program))
            params += [customer_id, program]
        parts.append(_POINTS_BRANCH)
        params += [customer_id]
        parts.append(_MEMBER_BRANCH)
        params.append(customer_id)
    for sql in _BRANCHES:
        parts.append(sql + _OWN)
        params += [shop.pk, client_type, True]
    entered = (promo_code or "").strip()
    if entered:
        parts.append(_CODE_BRANCH)
        params += [customer_id, shop.pk, entered]
    if ids:
        placeholders = ", ".join(["%s"] * len(ids))  # placeholders only: values are params
        parts.append(_COLLECTION_BRANCH.format(ids=placeholders))
        parts.append(_PROFILE_BRANCH.format(ids=placeholders))
        params += ids + ids
    sql = "\nUNION ALL".join(parts) + "\nORDER BY grp, position, id, d1, ref, n1"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _build(rows, client_type)


def _build(rows: list[tuple], client_type: str) -> PricingData:
    data = PricingData()
    heads: dict[tuple[int, int], dict] = {}
    tiers: dict[tuple[int, int], list] = defaultdict(list)
    gifts: dict[int, list[int]] = defaultdict(list)
    collections: dict[int, set[int]] = defaultdict(set)
    profile_basis: dict[int, str] = {}
    profile_tiers: dict[int, list[engine.QuantityTier]] = defaultdict(list)
    codes = []
    customer: dict | None = None
    points_row: tuple[int, Decimal] = (0, ZERO)
    program_tiers: dict[str, list[programs.Tier]] = defaultdict(list)
    boundaries: dict[str, str] = {}  # program -> its tier boundary
    segment_ids: set[int] = set()
    for row in rows:
        (grp, pk, name, row_client_type, enabled, stacking, position, ref, n1, n2, n3, n4,
         d1, d2, d3, f1, f2, t1, dt1, dt2) = row
        if grp == _CUSTOMER:
            customer = {
                "pk": pk, "lifetime_spend": _decimal(d3), "loyalty_card_percent": _decimal(d2),
                "category_percent": _decimal(d1) if t1 == Program.DISCOUNT else None,
            }
            continue
        if grp == _PROGRAM_TIER:
            program_tiers[t1].append(programs.Tier(_decimal(d1), _decimal(d2)))
            boundaries[t1] = name
            continue
        if grp == _POINTS:
            points_row = (n1 or 0, _decimal(d1) or ZERO)
            continue
        if grp == _MEMBER:
            segment_ids.add(ref)
            continue
        if grp == _COLLECTION:
            collections[pk].add(ref)
            continue
        if grp == _PROFILE:
            profile_basis[pk] = t1
            profile_tiers[pk].append(engine.QuantityTier(_decimal(d1), _decimal(d2)))
            continue
        if grp == _GIFT:
            gifts[ref].append(n1)
            continue
        common = {"name": name, "client_type": row_client_type, "enabled": bool(enabled),
                  "stacking": stacking, "position": position}
        if grp == _CODE:
            codes.append((row_client_type != client_type, pk, common, row))
            continue
        key = (grp, pk)
        if key not in heads:
            heads[key] = {"common": common, "ref": ref, "n1": n1, "n2": n2, "n3": n3, "f2": f2,
                          "t1": t1}
        if grp in (_CUMULATIVE, _THRESHOLD, _SEGMENT) and ref is not None:
            tiers[key].append((ref, n1, _decimal(d1), _decimal(d2), _decimal(d3), f1))

    for (grp, pk), head in heads.items():
        data.discounts.append(_discount(grp, pk, head, tiers[(grp, pk)], gifts))
    if codes:
        _, pk, common, row = min(codes, key=lambda c: (c[0], c[1]))
        (*_, ref, n1, n2, n3, n4, d1, d2, d3, f1, f2, t1, dt1, dt2) = row
        cap = None if ref is None else Decimal(ref).scaleb(-2)
        data.promo_code = engine.PromoCode(
            id=engine_id(DiscountKind.PROMO_CODE, pk), **common, code=t1,
            percent=_decimal(d2), amount=_decimal(d3), valid_from=_date(dt1),
            valid_until=_date(dt2), usage_limit=n1, usage_limit_per_customer=n2,
            minimum_order_value=_decimal(d1), combinable=bool(f1),
            max_discount_percent=cap if f2 else None,
            max_discount_amount=None if f2 else cap,
        )
        data.promo_code_uses_total, data.promo_code_uses_by_customer = n3, n4
    if customer is not None:
        data.customer = _customer_facts(
            customer, program_tiers, boundaries, points_row, frozenset(segment_ids)
        )
    data.collections = {pk: frozenset(c) for pk, c in collections.items()}
    data.profiles = {
        pk: engine.QuantityProfile(engine.QuantityBasis(basis), tuple(profile_tiers[pk]))
        for pk, basis in profile_basis.items()
    }
    return data


def _customer_facts(
    customer: dict, program_tiers: dict[str, list[programs.Tier]], boundaries: dict[str, str],
    points_row: tuple, segment_ids: frozenset[int],
) -> CustomerFacts:
    """A discount program's tier replaces the category percent (below its first tier the
    category's own percent stays); a bonus program's tier gives the bonus percent. Each
    program reads its tiers with its own boundary (loyalty.programs.reaches)."""
    lifetime = customer["lifetime_spend"]
    category_percent = customer["category_percent"]
    if program_tiers.get(Program.DISCOUNT):
        reached = programs.tier_percent(
            program_tiers[Program.DISCOUNT], lifetime,
            boundaries.get(Program.DISCOUNT, programs.INCLUSIVE),
        )
        if reached is not None:
            category_percent = reached
    balance, value = points_row
    return CustomerFacts(
        lifetime_spend=lifetime,
        category_percent=category_percent,
        loyalty_card_percent=customer["loyalty_card_percent"],
        segment_ids=segment_ids,
        bonus_percent=programs.tier_percent(
            program_tiers.get(Program.BONUS, ()), lifetime,
            boundaries.get(Program.BONUS, programs.INCLUSIVE),
        ),
        points_balance=balance,
        point_value=value,
    )


def _discount(grp: int, pk: int, head: dict, tiers: list, gifts: dict) -> engine.Discount:
    common = head["common"]
    if grp == _CUMULATIVE:
        return engine.CumulativeDiscount(
            id=engine_id(DiscountKind.CUMULATIVE, pk), **common,
            tiers=tuple(engine.CumulativeTier(d1, d2) for _, _, d1, d2, _, _ in tiers),
        )
    if grp == _THRESHOLD:
        return engine.ThresholdDiscount(
            id=engine_id(DiscountKind.THRESHOLD, pk), **common,
            tiers=tuple(
                engine.ThresholdTier(d1, d2, n1, tuple(gifts.get(tier_id, ())))
                for tier_id, n1, d1, d2, _, _ in tiers
            ),
        )
    if grp == _SEGMENT:
        return engine.SegmentAdvantage(
            id=engine_id(DiscountKind.SEGMENT, pk), **common,
            segment_id=head["n1"] or EVERY_CUSTOMER, earns_points=bool(head["f2"]),
            applies_with_promo_code=bool(head["n2"]), special_discount=bool(head["n3"]),
            tiers=tuple(engine.SegmentTier(d1, d3, d2, bool(f1))
                        for _, _, d1, d2, d3, f1 in tiers),
        )
    if grp == _OFFER:
        return engine.SpecialOffer(
            id=engine_id(DiscountKind.SPECIAL_OFFER, pk), **common,
            collection=head["ref"], buy_quantity=head["n1"], free_quantity=head["n2"],
        )
    kinds = {
        _QUANTITY: (DiscountKind.QUANTITY, engine.QuantityDiscount),
        _CATEGORY: (DiscountKind.CATEGORY, engine.CategoryDiscount),
        _CARD: (DiscountKind.LOYALTY_CARD, engine.LoyaltyCardDiscount),
    }
    kind, dataclass_ = kinds[grp]
    return dataclass_(id=engine_id(kind, pk), **common)


def shop_has_discounts(shop_id: int) -> bool:
    """Whether the shop has any discount configuration (of any kind): amounts in its
    currency, so it keeps the currency (shops.services.shop_update)."""
    return any(
        model.objects.filter(shop_id=shop_id).exists()
        for model in apps.get_app_config("pricing").get_models()
        if issubclass(model, DiscountConfiguration)
    )


def gift_available(*, shop_id: int, product_id: int) -> Product | None:
    """The product, when it is one of the shop's active products (a gift can be given)."""
    return Product.objects.filter(pk=product_id, shop_id=shop_id, is_active=True).first()


def category_discount_client_types(shop) -> set[str]:
    """The client types for which the shop gives the category discount (an enabled
    category discount configuration): for loyalty's what-if simulator."""
    from .models import CategoryDiscount

    return set(CategoryDiscount.objects.filter(shop=shop, enabled=True)
               .values_list("client_type", flat=True))
