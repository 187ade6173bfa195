"""Demo segments (called from loyalty.demo.build): the built-ins in every demo shop, plus the
SPEC section 5 examples in the French shop and a product buyers' segment in the Polish one.
Their advantages are pricing's (pricing.demo_segments). Re-runnable."""

from django.db import transaction

from shops.models import Product, Shop

from . import segments
from .models import Condition, Rule, Segment

# shop code -> [(code, name, rules: [[condition kwargs]])]; "product" names a SKU.
SEGMENTS = {
    "fr": [
        ("paris-pros", "Professionnels livrés à Paris", [[
            {"kind": "client_type", "client_type": "wholesale"},
            {"kind": "delivery_city", "text": "Paris"}]]),
        ("colissimo-regulars", "Fidèles Colissimo (5 commandes et plus)", [[
            {"kind": "shipping_method_used", "text": "colissimo", "count": 5}]]),
    ],
    "pl": [
        ("first-product-buyers", "Kupujący pierwszy produkt katalogu", [[
            {"kind": "bought_product", "product": None}]]),
    ],
}


def build(*, stdout, scale: float = 1.0, seed: int = 42) -> None:
    for shop in Shop.objects.filter(code__in=["pl", "ua", "fr"]).order_by("code"):
        with transaction.atomic():
            segments.segments_ensure_built_in(shop=shop)
            for code, name, rules in SEGMENTS.get(shop.code, []):
                _segment(shop, code, name, rules)
        summary = segments.segments_refresh(shop=shop)
        stdout.write(f"loyalty {shop.code}: segments {summary.as_dict()}\n")


def _segment(shop: Shop, code: str, name: str, rules) -> Segment:
    segment, created = Segment.objects.update_or_create(
        shop=shop, code=code, defaults={"name": name}
    )
    if not created:
        return segment
    first_product = Product.objects.filter(shop=shop).order_by("sku").first()
    for number, conditions in enumerate(rules, start=1):
        rule = Rule.objects.create(segment=segment, name=f"{name} ({number})")
        for spec in conditions:
            if spec["kind"] == "bought_product":
                spec = {**spec, "product": first_product}
            Condition.objects.create(rule=rule, **spec)
    return segment
