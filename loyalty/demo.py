"""Demo categories and rules for the demo shops (called by `manage.py demo`).

The demo orders are two years of history, so the first placement of every customer is a
backfill: it is recalculated as of two weeks ago without messages, then as of today with
them, so the outbox holds what a live shop's last two weeks would have sent (a few hundred
category messages), not a message to every customer at once.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shops.models import Shop

from . import demo_points, demo_segments, services
from .models import Category, CategoryChange, ChangeReason, Condition, Rule

D = Decimal
BACKFILL_DAYS = 14

# (rank, names en/pl/uk/ru/fr, flags, rules: {rule name: [condition kwargs]})
LADDERS = {
    "pl": [
        (1, ("Member", "Klient", "Клієнт", "Клиент", "Membre"), {"is_default": True}, {}),
        (2, ("Silver", "Srebrny", "Срібний", "Серебряный", "Argent"), {}, {
            "Spent 1500 PLN in a year": [
                {"kind": "window_spend", "days": 365, "amount": D(1500)}],
        }),
        (3, ("Gold", "Złoty", "Золотий", "Золотой", "Or"), {}, {
            "Spent 5000 PLN in a year over 3+ orders": [
                {"kind": "window_spend", "days": 365, "amount": D(5000)},
                {"kind": "window_orders", "days": 365, "count": 3}],
        }),
        (4, ("-20% group", "Grupa -20%", "Група -20%", "Группа -20%", "Groupe -20 %"),
         {"program": "discount", "discount_percent": D(20)}, {
            "Retail, 1000 PLN and 2 orders in 60 days": [
                {"kind": "client_type", "client_type": "retail"},
                {"kind": "window_spend", "days": 60, "amount": D(1000)},
                {"kind": "window_orders", "days": 60, "count": 2}],
        }),
        (5, ("VIP", "VIP", "VIP", "VIP", "VIP"), {"auto_enter": False, "auto_leave": False}, {}),
        (6, ("Blacklist", "Czarna lista", "Чорний список", "Чёрный список", "Liste noire"),
         {"auto_enter": False, "auto_leave": False, "visible_to_customer": False}, {}),
    ],
    "ua": [
        (1, ("Member", "Klient", "Клієнт", "Клиент", "Membre"), {"is_default": True}, {}),
        (2, ("Silver", "Srebrny", "Срібний", "Серебряный", "Argent"), {}, {
            "A single order over 5000 UAH": [{"kind": "largest_order", "amount": D("5000.01")}],
        }),
        (3, ("Gold", "Złoty", "Золотий", "Золотой", "Or"), {}, {
            "A single order over 10000 UAH": [{"kind": "largest_order", "amount": D("10000.01")}],
        }),
        (4, ("VIP", "VIP", "VIP", "VIP", "VIP"), {"auto_enter": False, "auto_leave": False}, {
            "Lifetime spend over 20000 UAH (granted by hand)": [
                {"kind": "lifetime_spend", "amount": D("20000.01")}],
        }),
    ],
    "fr": [
        (1, ("Member", "Klient", "Клієнт", "Клиент", "Membre"), {"is_default": True}, {}),
        (2, ("Regular", "Stały klient", "Постійний", "Постоянный", "Habitué"), {}, {
            "Ordered in the last 90 days": [{"kind": "window_orders", "days": 90, "count": 1}],
        }),
        (3, ("Gold", "Złoty", "Золотий", "Золотой", "Or"), {}, {
            "Spent 500 EUR in 180 days": [{"kind": "window_spend", "days": 180, "amount": D(500)}],
            "Professional delivering to Paris": [
                {"kind": "client_type", "client_type": "wholesale"},
                {"kind": "delivery_city", "text": "Paris"}],
        }),
    ],
}
LANGS = ("en", "pl", "uk", "ru", "fr")


def build(*, stdout, scale: float = 1.0, seed: int = 42) -> None:
    for code, ladder in LADDERS.items():
        shop = Shop.objects.filter(code=code).first()
        if shop is None:
            continue
        with transaction.atomic():
            for rank, names, flags, rules in ladder:
                defaults = {f"name_{lang}": name for lang, name in zip(LANGS, names, strict=True)}
                defaults["name"] = names[0]
                defaults.update(flags)
                category, _ = Category.objects.update_or_create(
                    shop=shop, rank=rank, defaults=defaults
                )
                for rule_name, conditions in rules.items():
                    rule, created = Rule.objects.get_or_create(category=category, name=rule_name)
                    if created:
                        Condition.objects.bulk_create(Condition(rule=rule, **c) for c in conditions)
        backfill = shop.today() - timedelta(days=BACKFILL_DAYS)
        started = timezone.now()
        services.categories_recalculate(shop=shop, as_of=backfill, announce=False)
        # The backfill's history rows are dated on the day they were decided for, so "moves
        # in the last 7 days" counts only the live run below.
        CategoryChange.objects.filter(shop=shop, changed_at__gte=started).exclude(
            reason=ChangeReason.REGISTERED
        ).update(changed_at=datetime.combine(backfill, time(3), tzinfo=shop.tz))
        summary = services.categories_recalculate(shop=shop)
        stdout.write(f"loyalty {code}: {len(ladder)} categories; recalculation {summary.as_dict()}")
    demo_points.build(stdout=stdout, scale=scale, seed=seed)
    demo_segments.build(stdout=stdout, scale=scale, seed=seed)
