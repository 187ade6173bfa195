"""Demo data for the shops app: three shops, their catalogues, customers and two years of orders.

Contract (called by `manage.py demo`, inside a transaction):

- Deterministic: the same seed and scale always describe the same data. Customers are named by
  external id (``C000001``...) and orders by number (``PL-0000001``...); the whole data set is
  generated from the seed first, then only the natural keys that are missing are inserted, so
  re-running adds nothing and a larger scale only adds the extra customers and orders.
- Fast: customers, orders, lines and returns are bulk-created. This bypasses
  `shops.services` (and so the events that trigger recalculation), which is acceptable for demo
  data only because the totals are computed here exactly as the services compute them:
  ``goods_total = Σ(unit_price × quantity − discount)`` and ``returned_total = Σ returns``, with
  every return partial (below the goods value). Apps that derive figures from orders (loyalty)
  recalculate in their own demo builders, which run after this one.
- Shop data (names, products, cities) is merchant content in the shop's own language, not UI
  text, so it is not marked for translation.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TextIO

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from . import demo_access
from .bulk import rows_insert
from .models import (
    ClientType,
    Collection,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Return,
    Shop,
)

CUSTOMERS_AT_SCALE_1 = 5_000
ORDERS_AT_SCALE_1 = 40_000
DAYS_OF_ORDERS = 730
BATCH = 2_000
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ShopSpec:
    code: str
    name: str
    currency: str
    language: str
    timezone: str
    share: float  # of customers and orders
    price_factor: Decimal  # catalogue prices are written in PLN and converted
    capital: str
    cities: tuple[tuple[str, int], ...]
    languages: tuple[tuple[str, int], ...]  # "" = the shop's default language
    shipping: tuple[tuple[str, int, Decimal], ...]  # method, weight, cost
    free_shipping_from: Decimal
    phone_format: str  # "#" is a random digit
    first_names: tuple[tuple[str, str], ...]  # (display, ascii for e-mail)
    last_names: tuple[tuple[str, str], ...]
    streets: tuple[str, ...]
    collections: dict[str, str]
    items: dict[str, str]
    colours: dict[str, str]


SHOPS = (
    ShopSpec(
        code="pl", name="Patron Demo Polska", currency="PLN", language="pl",
        timezone="Europe/Warsaw", share=0.40, price_factor=Decimal("1"), capital="Warszawa",
        cities=(("Warszawa", 30), ("Kraków", 14), ("Wrocław", 10), ("Poznań", 8), ("Gdańsk", 8),
                ("Łódź", 7), ("Katowice", 6), ("Lublin", 5), ("Szczecin", 4), ("Białystok", 3),
                ("Kyiv", 1), ("Paris", 1)),
        languages=(("", 50), ("pl", 30), ("en", 10), ("uk", 7), ("ru", 3)),
        shipping=(("inpost", 45, Decimal("12.99")), ("dpd", 22, Decimal("16.99")),
                  ("dhl", 13, Decimal("18.99")), ("pickup", 20, ZERO)),
        free_shipping_from=Decimal("300.00"), phone_format="+48 5## ### ###",
        first_names=(("Anna", "anna"), ("Maria", "maria"), ("Katarzyna", "katarzyna"),
                     ("Małgorzata", "malgorzata"), ("Agnieszka", "agnieszka"),
                     ("Zofia", "zofia"), ("Piotr", "piotr"), ("Krzysztof", "krzysztof"),
                     ("Andrzej", "andrzej"), ("Tomasz", "tomasz"), ("Paweł", "pawel"),
                     ("Michał", "michal"), ("Jakub", "jakub"), ("Kamil", "kamil")),
        last_names=(("Nowak", "nowak"), ("Kowalski", "kowalski"),
                    ("Wiśniewski", "wisniewski"), ("Wójcik", "wojcik"),
                    ("Kowalczyk", "kowalczyk"), ("Kamiński", "kaminski"),
                    ("Lewandowski", "lewandowski"), ("Zieliński", "zielinski"),
                    ("Szymański", "szymanski"), ("Woźniak", "wozniak"), ("Dąbrowski", "dabrowski")),
        streets=("ul. Marszałkowska", "ul. Długa", "ul. Polna", "ul. Lipowa", "al. Jerozolimskie",
                 "ul. Słoneczna", "ul. Ogrodowa"),
        collections={"t-shirts": "Koszulki", "shoes": "Buty", "accessories": "Akcesoria",
                     "new-arrivals": "Nowości"},
        items={"tee-basic": "Koszulka Basic", "tee-oversize": "Koszulka Oversize",
               "tee-polo": "Koszulka polo", "tee-long": "Longsleeve",
               "tee-graphic": "Koszulka z nadrukiem",
               "sneakers": "Sneakersy", "running": "Buty do biegania", "boots": "Trzewiki",
               "sandals": "Sandały", "cap": "Czapka z daszkiem", "beanie": "Czapka zimowa",
               "scarf": "Szalik", "socks": "Skarpetki 3-pak", "belt": "Pasek skórzany",
               "backpack": "Plecak", "tote": "Torba płócienna", "wallet": "Portfel",
               "sunglasses": "Okulary przeciwsłoneczne", "gloves": "Rękawiczki",
               "keyring": "Brelok", "bottle": "Bidon", "umbrella": "Parasol"},
        colours={"black": "czarny", "white": "biały", "navy": "granatowy"},
    ),
    ShopSpec(
        code="ua", name="Patron Demo Україна", currency="UAH", language="uk",
        timezone="Europe/Kyiv", share=0.35, price_factor=Decimal("10"), capital="Kyiv",
        cities=(("Kyiv", 35), ("Lviv", 15), ("Kharkiv", 10), ("Odesa", 10), ("Dnipro", 10),
                ("Vinnytsia", 5), ("Zaporizhzhia", 5), ("Ivano-Frankivsk", 5), ("Warszawa", 2)),
        languages=(("", 40), ("uk", 30), ("ru", 20), ("en", 10)),
        shipping=(("nova_poshta", 60, Decimal("80.00")), ("ukrposhta", 20, Decimal("55.00")),
                  ("pickup", 20, ZERO)),
        free_shipping_from=Decimal("3000.00"), phone_format="+380 67 ### ## ##",
        first_names=(("Олена", "olena"), ("Оксана", "oksana"), ("Наталія", "nataliia"),
                     ("Ірина", "iryna"), ("Тетяна", "tetiana"), ("Софія", "sofiia"),
                     ("Олександр", "oleksandr"), ("Андрій", "andrii"), ("Сергій", "serhii"),
                     ("Дмитро", "dmytro"), ("Максим", "maksym"), ("Тарас", "taras")),
        last_names=(("Шевченко", "shevchenko"), ("Коваленко", "kovalenko"),
                    ("Бондаренко", "bondarenko"), ("Ткаченко", "tkachenko"),
                    ("Кравченко", "kravchenko"), ("Олійник", "oliinyk"), ("Мельник", "melnyk"),
                    ("Бойко", "boiko"), ("Коваль", "koval"), ("Поліщук", "polishchuk")),
        streets=("вул. Хрещатик", "вул. Шевченка", "просп. Перемоги", "вул. Франка",
                 "вул. Садова", "вул. Лесі Українки"),
        collections={"t-shirts": "Футболки", "shoes": "Взуття", "accessories": "Аксесуари",
                     "new-arrivals": "Новинки"},
        items={"tee-basic": "Футболка Basic", "tee-oversize": "Футболка Oversize",
               "tee-polo": "Поло", "tee-long": "Лонгслів", "tee-graphic": "Футболка з принтом",
               "sneakers": "Кеди", "running": "Бігові кросівки", "boots": "Черевики",
               "sandals": "Сандалі", "cap": "Кепка", "beanie": "Шапка", "scarf": "Шарф",
               "socks": "Шкарпетки, 3 пари", "belt": "Шкіряний ремінь", "backpack": "Рюкзак",
               "tote": "Сумка-шопер", "wallet": "Гаманець", "sunglasses": "Сонцезахисні окуляри",
               "gloves": "Рукавички", "keyring": "Брелок", "bottle": "Пляшка для води",
               "umbrella": "Парасолька"},
        colours={"black": "чорний", "white": "білий", "navy": "темно-синій"},
    ),
    ShopSpec(
        code="fr", name="Patron Démo France", currency="EUR", language="fr",
        timezone="Europe/Paris", share=0.25, price_factor=Decimal("0.25"), capital="Paris",
        cities=(("Paris", 35), ("Lyon", 12), ("Marseille", 10), ("Toulouse", 8), ("Bordeaux", 8),
                ("Lille", 7), ("Nantes", 7), ("Nice", 6), ("Strasbourg", 5)),
        languages=(("", 55), ("fr", 30), ("en", 15)),
        shipping=(("colissimo", 50, Decimal("6.90")), ("dpd", 20, Decimal("7.90")),
                  ("chronopost", 15, Decimal("12.90")), ("pickup", 15, ZERO)),
        free_shipping_from=Decimal("80.00"), phone_format="+33 6 ## ## ## ##",
        first_names=(("Camille", "camille"), ("Léa", "lea"), ("Manon", "manon"),
                     ("Chloé", "chloe"), ("Inès", "ines"), ("Louise", "louise"),
                     ("Lucas", "lucas"), ("Hugo", "hugo"), ("Louis", "louis"),
                     ("Gabriel", "gabriel"), ("Arthur", "arthur"), ("Jules", "jules")),
        last_names=(("Martin", "martin"), ("Bernard", "bernard"), ("Dubois", "dubois"),
                    ("Thomas", "thomas"), ("Robert", "robert"), ("Richard", "richard"),
                    ("Petit", "petit"), ("Durand", "durand"), ("Leroy", "leroy"),
                    ("Moreau", "moreau"), ("Lefèvre", "lefevre")),
        streets=("rue de Rivoli", "rue de la Paix", "avenue Victor Hugo", "rue Nationale",
                 "boulevard Voltaire", "rue du Moulin"),
        collections={"t-shirts": "T-shirts", "shoes": "Chaussures", "accessories": "Accessoires",
                     "new-arrivals": "Nouveautés"},
        items={"tee-basic": "T-shirt Basic", "tee-oversize": "T-shirt Oversize",
               "tee-polo": "Polo", "tee-long": "T-shirt manches longues",
               "tee-graphic": "T-shirt imprimé", "sneakers": "Baskets",
               "running": "Chaussures de course", "boots": "Bottines", "sandals": "Sandales",
               "cap": "Casquette", "beanie": "Bonnet", "scarf": "Écharpe",
               "socks": "Chaussettes, lot de 3", "belt": "Ceinture en cuir",
               "backpack": "Sac à dos", "tote": "Tote bag", "wallet": "Portefeuille",
               "sunglasses": "Lunettes de soleil", "gloves": "Gants", "keyring": "Porte-clés",
               "bottle": "Gourde", "umbrella": "Parapluie"},
        colours={"black": "noir", "white": "blanc", "navy": "marine"},
    ),
)

# The catalogue: (item, collection, price in PLN, coloured?). Coloured items come in three
# colours, each its own SKU: 5×3 t-shirts + 4×3 shoes + 13 accessories = 40 products.
CATALOGUE = (
    ("tee-basic", "t-shirts", Decimal("49.99"), True),
    ("tee-oversize", "t-shirts", Decimal("79.99"), True),
    ("tee-polo", "t-shirts", Decimal("119.00"), True),
    ("tee-long", "t-shirts", Decimal("89.99"), True),
    ("tee-graphic", "t-shirts", Decimal("69.99"), True),
    ("sneakers", "shoes", Decimal("299.00"), True),
    ("running", "shoes", Decimal("429.00"), True),
    ("boots", "shoes", Decimal("499.00"), True),
    ("sandals", "shoes", Decimal("189.00"), True),
    ("cap", "accessories", Decimal("59.99"), False),
    ("beanie", "accessories", Decimal("49.99"), False),
    ("scarf", "accessories", Decimal("89.00"), False),
    ("socks", "accessories", Decimal("39.99"), False),
    ("belt", "accessories", Decimal("149.00"), False),
    ("backpack", "accessories", Decimal("249.00"), False),
    ("tote", "accessories", Decimal("35.00"), False),
    ("wallet", "accessories", Decimal("129.00"), False),
    ("sunglasses", "accessories", Decimal("199.00"), False),
    ("gloves", "accessories", Decimal("79.00"), False),
    ("keyring", "accessories", Decimal("19.99"), False),
    ("bottle", "accessories", Decimal("45.00"), False),
    ("umbrella", "accessories", Decimal("69.00"), False),
)
COLOURS = ("black", "white", "navy")
NEW_ARRIVALS = {"tee-graphic", "running", "sunglasses", "bottle"}
MIN_PRICE_FACTORS = (Decimal("0"), Decimal("0.5"), Decimal("0.7"), Decimal("0.8"), Decimal("0.9"))

# Order mix (fractions of all orders).
CANCELLED, UNPAID, NEW = 0.08, 0.05, 0.03
RETURNED = 0.06
LINE_COUNTS = ((1, 55), (2, 25), (3, 12), (4, 8))
RETAIL_QUANTITIES = ((1, 75), (2, 17), (3, 6), (4, 2))
WHOLESALE_SHARE, DISABLED_SHARE, BIG_SPENDER_SHARE, NO_ORDERS_SHARE = 0.15, 0.04, 0.01, 0.12


def build(*, stdout: TextIO, scale: float = 1.0, seed: int = 42) -> None:
    """Create (or complete) the demo shops, catalogues, customers and orders."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    n_customers = _scaled(CUSTOMERS_AT_SCALE_1, scale, minimum=30)
    n_orders = _scaled(ORDERS_AT_SCALE_1, scale, minimum=200)
    with transaction.atomic():
        for spec in SHOPS:
            rng = random.Random(f"{seed}:{spec.code}")
            shop = _shop(spec)
            products = _catalogue(shop, spec, rng)
            customers = _customers(spec, rng, round(n_customers * spec.share), now)
            orders = _orders(spec, rng, customers, products, round(n_orders * spec.share), now)
            created = _save(shop, customers, orders)
            stdout.write(
                f"  shop {spec.code}: {len(products)} products, "
                f"+{created[0]} customers, +{created[1]} orders, +{created[2]} lines, "
                f"+{created[3]} returns\n"
            )
        demo_access.build(stdout=stdout)


def _scaled(base: int, scale: float, *, minimum: int) -> int:
    if scale <= 0:
        return 0
    return max(minimum, round(base * scale))


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _pick(rng: random.Random, weighted: Iterable[tuple]):
    options = list(weighted)
    return rng.choices(options, weights=[o[1] for o in options])[0]


# --- shops and catalogue (few rows: plain get_or_create) -----------------------------------


def _shop(spec: ShopSpec) -> Shop:
    shop, _ = Shop.objects.update_or_create(
        code=spec.code,
        defaults={"name": spec.name, "currency": spec.currency,
                  "default_language": spec.language, "timezone": spec.timezone},
    )
    return shop


@dataclass(frozen=True)
class ProductRow:
    pk: int
    price: Decimal
    min_price: Decimal
    popularity: float


def _price(pln: Decimal, factor: Decimal) -> Decimal:
    """Convert a PLN catalogue price into a shop price with a shop-like ending."""
    if factor == 1:
        return pln
    raw = pln * factor
    if factor >= 10:  # UAH: whole hryvnias ending in 9
        return Decimal(int(raw.quantize(Decimal(10), rounding=ROUND_HALF_UP)) - 1).quantize(CENT)
    return (raw.quantize(Decimal(1), rounding=ROUND_HALF_UP) - Decimal("0.10")).quantize(CENT)


def _catalogue(shop: Shop, spec: ShopSpec, rng: random.Random) -> list[ProductRow]:
    collections = {
        code: Collection.objects.get_or_create(shop=shop, code=code, defaults={"name": name})[0]
        for code, name in spec.collections.items()
    }
    rows: list[ProductRow] = []
    through = Product.collections.through
    links = []
    for item, collection, pln, coloured in CATALOGUE:
        for colour in COLOURS if coloured else (None,):
            sku = f"{item}-{colour}".upper() if colour else item.upper()
            name = f"{spec.items[item]} ({spec.colours[colour]})" if colour else spec.items[item]
            price = _price(pln, spec.price_factor)
            floor = (price * rng.choice(MIN_PRICE_FACTORS)).quantize(CENT, rounding=ROUND_DOWN)
            product, _ = Product.objects.get_or_create(
                shop=shop, sku=sku,
                defaults={"name": name, "price": Money(price, spec.currency),
                          "min_price": Money(floor, spec.currency)},
            )
            popularity = 1 / (len(rows) + 1) ** 0.7 * rng.uniform(0.5, 1.5)
            rows.append(ProductRow(product.pk, product.price.amount, product.min_price.amount,
                                   popularity))
            links.append(through(product_id=product.pk, collection_id=collections[collection].pk))
            if item in NEW_ARRIVALS:
                links.append(through(product_id=product.pk,
                                     collection_id=collections["new-arrivals"].pk))
    through.objects.bulk_create(links, ignore_conflicts=True)
    return rows


# --- customers ----------------------------------------------------------------------------


@dataclass
class CustomerRow:
    external_id: str
    fields: dict
    weight: float  # how many orders, relatively
    big_spender: bool
    first_order_at: datetime


def _customers(spec: ShopSpec, rng: random.Random, count: int, now: datetime) -> list[CustomerRow]:
    rows = []
    cities = [c for c, _ in spec.cities]
    city_weights = [w for _, w in spec.cities]
    for i in range(1, max(count, 10 if count else 0) + 1):
        first, first_ascii = rng.choice(spec.first_names)
        last, last_ascii = rng.choice(spec.last_names)
        # Customers 1-3 of each shop are retail, wholesale and disabled, so that even a tiny
        # demo shows each kind; the rest are drawn.
        wholesale = i == 2 or (i > 2 and rng.random() < WHOLESALE_SHARE)
        registered = now - timedelta(days=rng.uniform(1, 1000))
        city = rng.choices(cities, weights=city_weights)[0] if rng.random() > 0.04 else ""
        phone = ""
        if rng.random() > 0.1:
            phone = "".join(rng.choice("0123456789") if ch == "#" else ch
                            for ch in spec.phone_format)
        name = f"{first} {last}"
        if wholesale and rng.random() < 0.6:
            name = f"{last} & {rng.choice(spec.last_names)[0]}"
        no_orders = i > 2 and rng.random() < NO_ORDERS_SHARE
        weight = 0.0 if no_orders else min(60.0, rng.random() ** (-1 / 1.2)) - 0.7
        # Recent customers have had less time to buy.
        weight *= min(1.0, (now - registered) / timedelta(days=DAYS_OF_ORDERS))
        rows.append(CustomerRow(
            external_id=f"C{i:06d}",
            fields={
                "name": name,
                "email": f"{first_ascii}.{last_ascii}.{i}@example.{spec.code}"
                if rng.random() > 0.03 else "",
                "phone": phone,
                "language": _pick(rng, spec.languages)[0],
                "client_type": ClientType.WHOLESALE if wholesale else ClientType.RETAIL,
                "city": city,
                "address": f"{rng.choice(spec.streets)} {rng.randint(1, 180)}" if city else "",
                "is_active": i != 3 and (i < 3 or rng.random() >= DISABLED_SHARE),
                "registered_at": registered,
            },
            weight=weight,
            big_spender=i > 2 and rng.random() < BIG_SPENDER_SHARE,
            first_order_at=max(registered, now - timedelta(days=DAYS_OF_ORDERS)),
        ))
    return rows


# --- orders -------------------------------------------------------------------------------


@dataclass
class OrderRow:
    customer: CustomerRow
    placed_at: datetime
    status: str
    paid_in_full: bool
    shipping_method: str
    shipping_cost: Decimal
    delivery_city: str
    lines: list[tuple[int, int, Decimal, Decimal]]  # product pk, quantity, unit price, discount
    goods: Decimal
    returns: list[tuple[Decimal, datetime]]
    number: str = ""


def _orders(
    spec: ShopSpec, rng: random.Random, customers: list[CustomerRow],
    products: list[ProductRow], count: int, now: datetime,
) -> list[OrderRow]:
    if not customers or not count:
        return []
    buyers = rng.choices(customers, weights=[c.weight for c in customers], k=count)
    popularity = [p.popularity for p in products]
    orders = []
    for customer in buyers:
        roll = rng.random()
        if roll < CANCELLED:
            status, paid = OrderStatus.CANCELLED, rng.random() < 0.25  # some refunded
        elif roll < CANCELLED + UNPAID:
            status, paid = OrderStatus.COMPLETED, False
        elif roll < CANCELLED + UNPAID + NEW:
            status, paid = OrderStatus.NEW, rng.random() < 0.3
        else:
            status, paid = OrderStatus.COMPLETED, True
        start = customer.first_order_at
        if status == OrderStatus.NEW:  # still being handled: placed in the last week
            start = max(start, now - timedelta(days=7))
        placed_at = start + (now - start) * rng.random()

        lines = []
        wholesale = customer.fields["client_type"] == ClientType.WHOLESALE
        chosen: set[int] = set()
        for _ in range(_pick(rng, LINE_COUNTS)[0]):
            product = rng.choices(products, weights=popularity)[0]
            if product.pk in chosen:
                continue
            chosen.add(product.pk)
            quantity = rng.randint(3, 25) if wholesale else _pick(rng, RETAIL_QUANTITIES)[0]
            if customer.big_spender:
                quantity *= rng.randint(3, 10)
            discount = ZERO
            if rng.random() < 0.18:
                percent = Decimal(rng.choice((5, 10, 15, 20, 25)))
                discount = min(
                    _money(product.price * quantity * percent / 100),
                    (product.price - product.min_price) * quantity,
                )
            lines.append((product.pk, quantity, product.price, discount))
        goods = sum((price * qty - disc for _, qty, price, disc in lines), ZERO)

        method, _, cost = _pick(rng, spec.shipping)
        if goods >= spec.free_shipping_from:
            cost = ZERO
        if method == "pickup":
            city = spec.capital
        elif customer.fields["city"] and rng.random() < 0.9:
            city = customer.fields["city"]
        else:
            city = _pick(rng, spec.cities)[0]

        returns = []
        counted = status == OrderStatus.COMPLETED and paid
        if counted and goods > CENT and rng.random() < RETURNED / (1 - CANCELLED - UNPAID - NEW):
            # Partial: between 10% and 60% of the goods, sometimes in two parcels.
            total = max(CENT, _money(goods * Decimal(str(round(rng.uniform(0.1, 0.6), 3)))))
            parts = [total]
            if total >= Decimal("0.10") and rng.random() < 0.15:
                first = _money(total * Decimal("0.6"))
                parts = [first, total - first]
            for part in parts:
                returned_at = min(now, placed_at + timedelta(days=rng.uniform(2, 30)))
                returns.append((part, returned_at))

        orders.append(OrderRow(
            customer=customer, placed_at=placed_at, status=status, paid_in_full=paid,
            shipping_method=method, shipping_cost=cost, delivery_city=city, lines=lines,
            goods=goods, returns=returns,
        ))
    # Numbers follow time, as a storefront's would.
    orders.sort(key=lambda o: o.placed_at)
    for i, order in enumerate(orders, start=1):
        order.number = f"{spec.code.upper()}-{i:07d}"
    return orders


# --- saving: insert only what is missing ---------------------------------------------------


def _save(shop: Shop, customers: list[CustomerRow], orders: list[OrderRow]) -> tuple[int, ...]:
    """Insert the missing customers, orders, lines and returns as plain rows (`shops.bulk`):
    building 100,000 model instances cost more than writing them."""
    currency = shop.currency
    existing = set(shop.customers.values_list("external_id", flat=True))
    new_customers = [
        Customer(shop=shop, external_id=c.external_id, **c.fields)
        for c in customers if c.external_id not in existing
    ]
    Customer.objects.bulk_create(new_customers, batch_size=BATCH)
    customer_ids = dict(shop.customers.values_list("external_id", "pk"))

    existing = set(shop.orders.values_list("number", flat=True))
    missing = [o for o in orders if o.number not in existing]
    rows_insert(Order, (
        {
            "shop_id": shop.pk, "number": o.number,
            "customer_id": customer_ids[o.customer.external_id], "placed_at": o.placed_at,
            "status": o.status, "paid_in_full": o.paid_in_full,
            "shipping_method": o.shipping_method, "delivery_city": o.delivery_city,
            "shipping_cost": o.shipping_cost, "shipping_cost_currency": currency,
            "goods_total": o.goods, "goods_total_currency": currency,
            "returned_total": sum((v for v, _ in o.returns), ZERO),
            "returned_total_currency": currency,
        }
        for o in missing
    ), batch_size=BATCH)
    order_ids = dict(shop.orders.values_list("number", "pk"))
    n_lines = rows_insert(OrderLine, (
        {"order_id": order_ids[o.number], "product_id": product_id, "quantity": quantity,
         "unit_price": price, "unit_price_currency": currency,
         "discount": discount, "discount_currency": currency}
        for o in missing
        for product_id, quantity, price, discount in o.lines
    ), batch_size=BATCH)
    n_returns = rows_insert(Return, (
        {"order_id": order_ids[o.number], "value": value, "value_currency": currency,
         "returned_at": returned_at, "reference": f"{o.number}-R{k}"}
        for o in missing
        for k, (value, returned_at) in enumerate(o.returns, start=1)
    ), batch_size=BATCH)
    return len(new_customers), len(missing), n_lines, n_returns
