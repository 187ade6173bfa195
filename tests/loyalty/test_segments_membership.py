"""Segment membership against the database: the built-in segments at their boundaries, and
stored membership equal to a recomputation after orders change."""

import random
from decimal import Decimal

import pytest

from loyalty import figures as figures_db
from loyalty import segments
from loyalty.conditions import needs_of, rule_holds
from loyalty.models import Condition, Rule, Segment, SegmentMember
from shops import services as shop_services
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order
from tests.loyalty.test_prefilter import KINDS
from tests.loyalty.test_prefilter import random_condition as prefilter_random_condition
from tests.pricing.factories import CollectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="pl", timezone="Europe/Warsaw")


def in_segments(customer) -> set[str]:
    return set(
        SegmentMember.objects.filter(customer=customer).values_list("segment__code", flat=True)
    )


def add_segment(shop, code, *rules):
    segment = Segment.objects.create(shop=shop, code=code, name=code)
    for number, conditions in enumerate(rules):
        rule = Rule.objects.create(segment=segment, name=f"{code} {number}")
        for spec in conditions:
            Condition.objects.create(rule=rule, **spec)
    return segment


def test_built_in_segments_are_created_once_with_their_rules(shop):
    segments.segments_refresh(shop=shop)
    segments.segments_refresh(shop=shop)

    built_in = Segment.objects.filter(shop=shop).order_by("code")
    assert [s.built_in for s in built_in] == [
        "customers", "disabled", "first_order_recently", "loyal", "without_orders"]
    first = Segment.objects.get(shop=shop, built_in="first_order_recently")
    (rule,) = first.rules.all()
    assert sorted((c.kind, c.operator, c.count, c.days) for c in rule.conditions.all()) == [
        ("lifetime_orders", "gte", 1, None), ("lifetime_orders", "lt", 2, None),
        ("window_orders", "gte", 1, 30)]


def test_disabled_customers(shop):
    active = CustomerFactory(shop=shop)
    disabled = CustomerFactory(shop=shop, is_active=False)

    segments.segments_refresh(shop=shop)

    assert "disabled" not in in_segments(active)
    assert "disabled" in in_segments(disabled)


def test_without_orders_counts_only_counted_orders(shop):
    nothing = CustomerFactory(shop=shop)
    unpaid = CustomerFactory(shop=shop)
    order(unpaid, "100.00", paid=False)
    cancelled = CustomerFactory(shop=shop)
    order(cancelled, "100.00", status="cancelled")
    one = CustomerFactory(shop=shop)
    order(one, "100.00")

    segments.segments_refresh(shop=shop)

    assert in_segments(nothing) == {"without_orders"}
    assert in_segments(unpaid) == {"without_orders"}
    assert in_segments(cancelled) == {"without_orders"}
    assert "without_orders" not in in_segments(one)


@pytest.mark.parametrize(("days_ago", "member"), [(0, True), (30, True), (31, False)])
def test_first_order_recently_is_one_order_in_the_last_30_days(shop, days_ago, member):
    customer = CustomerFactory(shop=shop)
    order(customer, "100.00", days_ago=days_ago)

    segments.segments_refresh(shop=shop)

    assert ("first_order_recently" in in_segments(customer)) is member


def test_first_order_recently_excludes_a_second_order_even_an_old_one(shop):
    two = CustomerFactory(shop=shop)
    order(two, "100.00", days_ago=5)
    order(two, "100.00", days_ago=400)
    one_and_an_unpaid = CustomerFactory(shop=shop)
    order(one_and_an_unpaid, "100.00", days_ago=5)
    order(one_and_an_unpaid, "100.00", days_ago=6, paid=False)

    segments.segments_refresh(shop=shop)

    assert in_segments(two) == {"customers", "loyal"}
    assert in_segments(one_and_an_unpaid) == {"customers", "first_order_recently"}


@pytest.mark.parametrize(("orders", "expected"), [
    (0, {"without_orders"}),
    (1, {"customers"}),
    (2, {"customers", "loyal"}),
])
def test_customers_and_loyal_at_one_and_two_counted_orders(shop, orders, expected):
    customer = CustomerFactory(shop=shop)
    for _ in range(orders):
        order(customer, "10.00", days_ago=100)

    segments.segments_refresh(shop=shop)

    assert in_segments(customer) == expected


def test_counts_and_computed_at_are_stored(shop):
    for n in range(3):
        customer = CustomerFactory(shop=shop)
        for _ in range(n):
            order(customer, "10.00", days_ago=100)

    summary = segments.segments_refresh(shop=shop)

    counts = dict(Segment.objects.filter(shop=shop).values_list("code", "member_count"))
    assert counts == {"disabled": 0, "without_orders": 1, "first_order_recently": 0,
                      "loyal": 1, "customers": 2}
    assert summary.as_dict() == {"examined": 3, "joined": 4, "left": 0}
    assert all(s.computed_at is not None for s in Segment.objects.filter(shop=shop))
    again = segments.segments_refresh(shop=shop)
    assert again.as_dict() == {"examined": 3, "joined": 0, "left": 0}


def test_a_counted_order_refreshes_the_customers_segments_on_commit(
    shop, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(shop=shop)
    order(customer, "10.00", days_ago=100)
    segments.segments_refresh(shop=shop)
    assert in_segments(customer) == {"customers"}
    loyal = Segment.objects.get(shop=shop, built_in="loyal")
    assert loyal.member_count == 0

    with django_capture_on_commit_callbacks(execute=True):
        second = order(customer, "10.00", days_ago=1)

    assert in_segments(customer) == {"customers", "loyal"}
    loyal.refresh_from_db()
    assert loyal.member_count == 1

    with django_capture_on_commit_callbacks(execute=True):
        shop_services.order_update(order=second, status="cancelled")

    assert in_segments(customer) == {"customers"}
    loyal.refresh_from_db()
    assert loyal.member_count == 0


def test_a_new_customer_joins_without_orders_at_registration(shop):
    segments.segments_refresh(shop=shop)

    newcomer = CustomerFactory(shop=shop)

    assert in_segments(newcomer) == {"without_orders"}
    assert Segment.objects.get(shop=shop, built_in="without_orders").member_count == 1


def reference_membership(shop, as_of) -> set[tuple[int, int]]:
    """Every segment evaluated with the uncompiled reference functions on fresh figures."""
    specs = segments.shop_segments(shop)
    ids = list(shop.customers.order_by("pk").values_list("pk", flat=True))
    figures = figures_db.load(shop, needs_of(specs), as_of, customer_ids=ids)
    return {
        (s.id, f.customer_id)
        for s in specs for f in figures
        if any(rule_holds(rule, f, as_of) for rule in s.rules)
    }


def stored(shop) -> set[tuple[int, int]]:
    return set(
        SegmentMember.objects.filter(segment__shop=shop).values_list("segment_id", "customer_id")
    )


def test_stored_membership_equals_a_recomputation_after_orders_change(
    shop, django_capture_on_commit_callbacks
):
    rnd = random.Random(7)
    shirt = ProductFactory(shop=shop, sku="SHIRT")
    cap = ProductFactory(shop=shop, sku="CAP")
    add_segment(shop, "shirt-buyers", [{"kind": "bought_product", "product": shirt}])
    add_segment(shop, "dpd-regulars",
                [{"kind": "shipping_method_used", "text": "dpd", "count": 3}])
    add_segment(shop, "warsaw-or-big", [{"kind": "delivery_city", "text": "Warszawa"}],
                [{"kind": "window_spend", "days": 60, "amount": Decimal("500")},
                 {"kind": "client_type", "client_type": "retail"}])
    customers = [
        CustomerFactory(shop=shop, city=rnd.choice(["Warszawa", "Kraków", " warszawa "]),
                        client_type=rnd.choice(["retail", "wholesale"]),
                        is_active=rnd.random() > 0.1)
        for _ in range(40)
    ]
    orders = []
    for customer in customers:
        for _ in range(rnd.choice([0, 0, 1, 2, 3, 5])):
            orders.append(order(
                customer, f"{rnd.randint(10, 400)}.00", days_ago=rnd.randint(0, 120),
                paid=rnd.random() > 0.1, product=rnd.choice([shirt, cap]),
                shipping_method=rnd.choice(["dpd", "inpost"]),
            ))
    segments.segments_refresh(shop=shop)
    as_of = shop.today()
    assert stored(shop) == reference_membership(shop, as_of)

    # Orders change: the per-customer refresh keeps membership exact.
    with django_capture_on_commit_callbacks(execute=True):
        for placed in rnd.sample(orders, 15):
            choice = rnd.random()
            if choice < 0.4:
                shop_services.order_update(order=placed, status="cancelled")
            elif choice < 0.7:
                shop_services.order_update(order=placed, paid_in_full=True)
            else:
                shop_services.return_record(order=placed, value=Decimal("5.00"))
        for customer in rnd.sample(customers, 10):
            order(customer, "450.00", days_ago=2, product=shirt, shipping_method="dpd")
    assert stored(shop) == reference_membership(shop, as_of)

    # A full refresh from nothing agrees, whatever the batch size.
    SegmentMember.objects.filter(segment__shop=shop).delete()
    segments.segments_refresh(shop=shop)
    assert stored(shop) == reference_membership(shop, as_of)
    counts = dict(Segment.objects.filter(shop=shop).values_list("pk", "member_count"))
    members = stored(shop)
    assert counts == {pk: sum(1 for s, _ in members if s == pk) for pk in counts}


def random_condition(rnd, products, collections):
    kind = rnd.choice(ALL_KINDS)
    if kind in ("bought_product", "bought_collection", "shipping_method_used",
                "delivery_city", "lifetime_orders", "disabled"):
        return {
            "bought_product": lambda: {"kind": kind, "product": rnd.choice(products)},
            "bought_collection": lambda: {"kind": kind, "collection": rnd.choice(collections)},
            "shipping_method_used": lambda: {"kind": kind, "text": rnd.choice(["dpd", "inpost"]),
                                             "count": rnd.choice([1, 2, 3])},
            "delivery_city": lambda: {"kind": kind,
                                      "text": rnd.choice(["Kraków", "KRAKÓW ", "Łódź"])},
            "lifetime_orders": lambda: {"kind": kind, "count": rnd.choice([0, 1, 2, 3]),
                                        "operator": rnd.choice(["gte", "lt"])},
            "disabled": lambda: {"kind": kind},
        }[kind]()
    return prefilter_random_condition(rnd)


ALL_KINDS = [*KINDS, "bought_product", "bought_collection", "shipping_method_used",
             "delivery_city", "lifetime_orders", "disabled"]


@pytest.mark.parametrize("seed", range(4))
def test_sql_refresh_equals_the_python_reference_for_every_condition_kind(seed):
    rnd = random.Random(seed)
    shop = ShopFactory(code=f"r{seed}", timezone=rnd.choice(["Europe/Warsaw", "America/Lima"]))
    shoes, hats = CollectionFactory(shop=shop), CollectionFactory(shop=shop)
    products = [ProductFactory(shop=shop) for _ in range(3)]
    products[0].collections.add(shoes)
    products[1].collections.add(shoes, hats)
    for n in range(8):
        add_segment(shop, f"random-{n}", *[
            [random_condition(rnd, products, [shoes, hats])
             for _ in range(rnd.choice([0, 1, 2, 3]))]
            for _ in range(rnd.choice([1, 2]))
        ])
    for _ in range(40):
        customer = CustomerFactory(
            shop=shop, client_type=rnd.choice(["retail", "wholesale"]),
            is_active=rnd.random() < 0.8, city=rnd.choice(["Kraków", "kraków ", "Łódź", ""]))
        for _ in range(rnd.choice([0, 0, 1, 2, 3])):
            order(customer, rnd.choice(["50.00", "99.99", "100.00", "100.01", "300"]),
                  days_ago=rnd.choice([0, 6, 7, 8, 29, 30, 31, 90]), paid=rnd.random() < 0.9,
                  product=rnd.choice(products), shipping_method=rnd.choice(["dpd", "inpost"]))

    segments.segments_refresh(shop=shop)

    members = stored(shop)
    assert len(members) > 40 and members == reference_membership(shop, shop.today())
