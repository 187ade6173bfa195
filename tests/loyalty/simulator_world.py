"""The small fixed history of docs/simulator.md (example S1), built relative to today."""

from datetime import timedelta
from decimal import Decimal

from djmoney.money import Money

from loyalty.models import BonusProgram, BonusTier
from pricing.models import CategoryDiscount
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order


def build():
    shop = ShopFactory(code="s1", timezone="Europe/Warsaw", currency="PLN")
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2, program="discount",
                             discount_percent=Decimal("5.00"))
    gold = CategoryFactory(shop=shop, name="Gold", rank=3, program="bonus")
    add_rule(silver, {"kind": "window_spend", "days": 14, "amount": Decimal(1000)})
    add_rule(gold, {"kind": "window_spend", "days": 14, "amount": Decimal(3000)})
    program = BonusProgram.objects.create(category=gold, name="Gold points")
    BonusTier.objects.create(program=program, min_lifetime_spend=Money(0, "PLN"),
                             percent=Decimal("2.00"))
    CategoryDiscount.objects.create(shop=shop, client_type="retail", name="Category")
    today = shop.today()
    last = today - timedelta(days=1)
    ends = [last - timedelta(days=7 * (3 - k)) for k in range(4)]  # E1..E4

    def on(day):
        return (today - day).days

    long_ago = shop.tz and (ends[0] - timedelta(days=400))
    people = {}
    for name, category, extra in (
        ("A", member, {}), ("B", member, {}),
        ("C", silver, {"category_locked": True}), ("D", member, {"email": ""}),
    ):
        people[name] = CustomerFactory(shop=shop, name=name, category=category, **extra)
    from django.utils import timezone

    from shops.models import Customer

    Customer.objects.filter(shop=shop).update(
        registered_at=timezone.make_aware(
            timezone.datetime.combine(long_ago, timezone.datetime.min.time()), shop.tz))
    people["E"] = CustomerFactory(shop=shop, name="E", category=None)
    Customer.objects.filter(pk=people["E"].pk).update(registered_at=timezone.make_aware(
        timezone.datetime.combine(ends[2] - timedelta(days=2), timezone.datetime.min.time())
        + timedelta(hours=9), shop.tz))
    e1, e2, e3, e4 = ends
    order(people["A"], "1200.00", days_ago=on(e1 - timedelta(days=2)))
    order(people["B"], "3500.00", days_ago=on(e1 - timedelta(days=1)))
    order(people["C"], "300.00", days_ago=on(e1 - timedelta(days=3)))
    order(people["A"], "200.00", days_ago=on(e2 - timedelta(days=3)))
    order(people["B"], "1000.50", days_ago=on(e2 - timedelta(days=1)))
    order(people["D"], "1000.00", days_ago=on(e2 - timedelta(days=2)))
    order(people["B"], "99.99", days_ago=on(e4 - timedelta(days=2)))
    return {"shop": shop, "member": member, "silver": silver, "gold": gold, "ends": ends,
            "last": last, **people}
