"""Demo discount configurations for the demo shops (called by `manage.py demo`).

Idempotent: every row is written with update_or_create on its natural key (shop, client type,
name; a tier's configuration and threshold; a promo code's shop, client type and code; a
card's customer), so running it again changes nothing and keeps promo code use counters.
Amounts are written in PLN and converted with the shop's catalogue factor (as shops.demo
does), so every shop gets the same ladder in its own currency. Names are merchant content in
the shop's language, not UI text. Shops that do not exist yet are skipped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TextIO

from djmoney.money import Money

from shops.models import ClientType, Collection, Customer, Product, Shop

from . import demo_segments
from .models import (
    CategoryDiscount,
    CumulativeDiscount,
    CumulativeTier,
    LoyaltyCard,
    LoyaltyCardDiscount,
    PromoCode,
    QuantityDiscount,
    QuantityProfile,
    QuantityProfileProduct,
    QuantityTier,
    SegmentAdvantage,
    SegmentTier,
    SpecialOffer,
    ThresholdDiscount,
    ThresholdTier,
)

D = Decimal
#: PLN amounts are multiplied by this factor in each shop (as in shops.demo).
FACTORS = {"pl": D("1"), "ua": D("10"), "fr": D("0.25")}
NAMES = {
    "pl": {
        "threshold": "Rabat od wartości zamówienia", "cumulative": "Rabat za całość zakupów",
        "quantity": "Rabat ilościowy", "profile": "Podstawy w ilościach hurtowych",
        "offer": "Kup 3 koszulki, czwarta gratis", "category": "Rabat kategorii",
        "card": "Karta lojalnościowa", "code_retail": "Kod powitalny -10%",
        "code_wholesale": "Kod hurtowy", "segment": "Progi koszyka",
    },
    "ua": {
        "threshold": "Знижка від суми замовлення", "cumulative": "Накопичувальна знижка",
        "quantity": "Знижка за кількість", "profile": "Базові товари оптом",
        "offer": "3 футболки + 1 у подарунок", "category": "Знижка категорії",
        "card": "Картка лояльності", "code_retail": "Вітальний код -10%",
        "code_wholesale": "Оптовий код", "segment": "Пороги кошика",
    },
    "fr": {
        "threshold": "Remise selon le montant", "cumulative": "Remise fidélité cumulée",
        "quantity": "Remise quantité", "profile": "Basiques par lot",
        "offer": "3 t-shirts achetés, le 4e offert", "category": "Remise de catégorie",
        "card": "Carte de fidélité", "code_retail": "Code bienvenue -10 %",
        "code_wholesale": "Code professionnel", "segment": "Paliers panier",
    },
}
BULK_SKUS = ("SOCKS", "KEYRING", "TEE-BASIC-BLACK", "TEE-BASIC-WHITE", "TEE-BASIC-NAVY")
GIFT_SKUS = ("SOCKS", "KEYRING", "BOTTLE")
#: (external id, card percent): a few customers of each shop carry a loyalty card.
CARDS = (("C000004", D("7")), ("C000005", D("12")), ("C000010", D("15")))


def build(*, stdout: TextIO, scale: float = 1.0, seed: int = 42) -> None:
    """Create or refresh the demo configurations of every demo shop that exists."""
    for shop in Shop.objects.filter(code__in=FACTORS).order_by("code"):
        factor, names = FACTORS[shop.code], NAMES[shop.code]
        profile = _quantity_profile(shop, names, factor)
        for client_type in ClientType.values:
            _configurations(shop, client_type, names, factor)
        cards = _cards(shop)
        demo_segments.build(shop)
        stdout.write(
            f"  shop {shop.code}: discount configurations for {len(ClientType.values)} client "
            f"types, quantity profile on {profile.product_links.count()} products, "
            f"{cards} loyalty cards\n"
        )


def _money(shop: Shop, pln: str | Decimal, factor: Decimal) -> Money:
    return Money((D(pln) * factor).quantize(D("0.01")), shop.currency)


def _config(model, shop: Shop, client_type: str, name: str, **defaults):
    obj, _ = model.objects.update_or_create(
        shop=shop, client_type=client_type, name=name, defaults=defaults
    )
    return obj


def _configurations(shop: Shop, client_type: str, names: dict, factor: Decimal) -> None:
    wholesale = client_type == ClientType.WHOLESALE
    suffix = " (B2B)" if wholesale else ""

    # 1. Threshold: 5% from 500 PLN; 10% from 1500 PLN with 50 points and a gift to choose.
    threshold = _config(ThresholdDiscount, shop, client_type, names["threshold"] + suffix,
                        stacking="sum", position=20)
    gifts = list(Product.objects.filter(shop=shop, sku__in=GIFT_SKUS))
    tiers = ((("2000", "3", 0) if wholesale else ("500", "5", 0)),
             (("6000", "6", 100) if wholesale else ("1500", "10", 50)))
    for minimum, percent, points in tiers:
        tier, _ = ThresholdTier.objects.update_or_create(
            discount=threshold, min_goods_value=_money(shop, minimum, factor),
            defaults={"percent": D(percent), "bonus_points": points},
        )
        if points:
            tier.gifts.set(gifts)

    # 2. Cumulative: 3% from 2000 PLN of lifetime spend, 5% from 5000 PLN; applied first.
    cumulative = _config(CumulativeDiscount, shop, client_type, names["cumulative"] + suffix,
                         stacking="sequential" if wholesale else "sum", position=10)
    for minimum, percent in (("2000", "3"), ("5000", "5")):
        CumulativeTier.objects.update_or_create(
            discount=cumulative, min_lifetime_spend=_money(shop, minimum, factor),
            defaults={"percent": D(percent)},
        )

    # 3. The quantity profiles, 4. buy 3 T-shirts get 1 free, 6. category, 7. loyalty card.
    _config(QuantityDiscount, shop, client_type, names["quantity"] + suffix, position=30)
    tshirts = Collection.objects.filter(shop=shop, code="t-shirts").first()
    if tshirts is not None:
        _config(SpecialOffer, shop, client_type, names["offer"] + suffix, position=40,
                collection=tshirts, buy_quantity=3, free_quantity=1,
                stacking="exclusive_if_higher" if wholesale else "sum")
    _config(CategoryDiscount, shop, client_type, names["category"] + suffix, position=50)
    _config(LoyaltyCardDiscount, shop, client_type, names["card"] + suffix, position=60)

    # 5. Promo codes: WELCOME10 for retail, PRO50 (an amount, alone) for professionals.
    if wholesale:
        code, fields = "PRO50", {
            "name": names["code_wholesale"], "percent": None,
            "amount": _money(shop, "50", factor), "minimum_order_value":
            _money(shop, "500", factor), "combinable": False, "usage_limit": 500,
            "usage_limit_per_customer": 3,
        }
    else:
        code, fields = "WELCOME10", {
            "name": names["code_retail"], "percent": D("10"), "amount": None,
            "minimum_order_value": _money(shop, "100", factor), "combinable": True,
            "usage_limit": 1000, "usage_limit_per_customer": 1,
        }
    PromoCode.objects.update_or_create(
        shop=shop, client_type=client_type, code=code,
        defaults={**fields, "stacking": "sum", "position": 70, "enabled": True},
    )

    # 8. Segment advantage in fr: from 50 EUR 5 EUR off; from 150 EUR 10% and free shipping.
    if shop.code == "fr":
        advantage = _config(SegmentAdvantage, shop, client_type, names["segment"] + suffix,
                            position=80, segment=None, earns_points=True,
                            applies_with_promo_code=False)
        for minimum, amount, percent, free in (("50", "5", "0", False),
                                               ("150", "0", "10", True)):
            SegmentTier.objects.update_or_create(
                advantage=advantage, min_cart_total=Money(D(minimum), "EUR"),
                defaults={"amount_off": Money(D(amount), "EUR"), "percent_off": D(percent),
                          "free_shipping": free},
            )


def _quantity_profile(shop: Shop, names: dict, factor: Decimal) -> QuantityProfile:
    """Basics in bulk: 5% from 3 units of the product, 10% from 10 units."""
    profile, _ = QuantityProfile.objects.update_or_create(
        shop=shop, name=names["profile"], defaults={"basis": "quantity"}
    )
    for minimum, percent in (("3", "5"), ("10", "10")):
        QuantityTier.objects.update_or_create(
            profile=profile, min_value=D(minimum), defaults={"percent": D(percent)}
        )
    for product in Product.objects.filter(shop=shop, sku__in=BULK_SKUS):
        QuantityProfileProduct.objects.update_or_create(
            product=product, defaults={"profile": profile}
        )
    return profile


def _cards(shop: Shop) -> int:
    customers = Customer.objects.filter(shop=shop, external_id__in=[c for c, _ in CARDS])
    percents = dict(CARDS)
    for customer in customers:
        LoyaltyCard.objects.update_or_create(
            customer=customer,
            defaults={"number": f"{shop.code.upper()}-{customer.external_id}",
                      "percent": percents[customer.external_id]},
        )
    return len(customers)
