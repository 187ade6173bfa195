"""Demo segment advantages (called from pricing.demo.build) for loyalty.demo_segments'
segments: free shipping for professionals delivering to Paris, 10% for Colissimo regulars,
5% for the buyers of a product. Re-runnable; a missing segment is skipped."""

from decimal import Decimal

from djmoney.money import Money

from loyalty.models import Segment
from shops.models import Shop

from .models import SegmentAdvantage, SegmentTier

# (shop, segment code, client type, name, tiers: (from, amount off, % off, free shipping))
ADVANTAGES = [
    ("fr", "paris-pros", "wholesale", "Livraison offerte Paris (pros)", [("0", "0", "0", True)]),
    ("fr", "colissimo-regulars", "retail", "-10 % fidèles Colissimo", [("0", "0", "10", False)]),
    ("pl", "first-product-buyers", "retail", "-5% dla kupujących", [("0", "0", "5", False)]),
]


def build(shop: Shop) -> int:
    made = 0
    for code, segment_code, client_type, name, tiers in ADVANTAGES:
        if code != shop.code:
            continue
        segment = Segment.objects.filter(shop=shop, code=segment_code).first()
        if segment is None:
            continue
        advantage, _ = SegmentAdvantage.objects.update_or_create(
            shop=shop, client_type=client_type, name=name,
            defaults={"segment": segment, "position": 90, "enabled": True},
        )
        for minimum, amount, percent, free in tiers:
            SegmentTier.objects.update_or_create(
                advantage=advantage, min_cart_total=Money(Decimal(minimum), shop.currency),
                defaults={"amount_off": Money(Decimal(amount), shop.currency),
                          "percent_off": Decimal(percent), "free_shipping": free},
            )
        made += 1
    return made
