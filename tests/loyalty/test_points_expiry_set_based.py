"""The set-based expiry gives what the per-account expiry gave (credited before the cutoff
less everything used, at most the balance), night after night, on a fixed history: only the
customers whose credits crossed the cutoff since the last night, or whose credits were entered
since, are looked at, and nobody is missed or expired twice."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from loyalty import points, programs
from loyalty.models import PointsAccount, PointsEntry, PointsPolicy
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db

NIGHT = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def at(y, m, d, h=12):
    return datetime(y, m, d, h, 0, tzinfo=UTC)


def post(customer, *moves):
    """Ledger entries (points, when) for a customer, the balance moved by the same sum."""
    PointsEntry.objects.bulk_create(
        PointsEntry(shop_id=customer.shop_id, customer=customer, kind="adjusted", points=p,
                    created_at=when, reason="history")
        for p, when in moves
    )
    account, _ = PointsAccount.objects.get_or_create(customer=customer,
                                                     defaults={"shop_id": customer.shop_id})
    PointsAccount.objects.filter(pk=account.pk).update(
        balance=PointsEntry.objects.filter(customer=customer).aggregate(s=Sum("points"))["s"])


def old_semantics(shop, now):
    """What the per-account expiry expired: {customer id: points}, from the ledger."""
    cutoff = programs.months_before(now, PointsPolicy.objects.get(shop=shop).expiry_months)
    result = {}
    for account in PointsAccount.objects.filter(shop=shop, balance__gt=0):
        rows = PointsEntry.objects.filter(customer_id=account.customer_id)
        credited = sum(e.points for e in rows if e.points > 0 and e.created_at < cutoff)
        used = -sum(e.points for e in rows if e.points < 0)
        expiring = programs.expiring(credited_before_cutoff=credited, used=used,
                                     balance=account.balance)
        if expiring:
            result[account.customer_id] = expiring
    return result


def night(shop, now, **kwargs):
    """Run the expiry; check it against the old semantics and the balances against the
    ledger; return {customer name: points expired}."""
    expected = old_semantics(shop, now)
    last = PointsEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    total = points.points_expire(shop=shop, now=now, **kwargs)
    written = {
        e.customer_id: -e.points
        for e in PointsEntry.objects.filter(id__gt=last, kind="expired")
    }
    assert written == expected
    assert total == sum(expected.values())
    assert PointsEntry.objects.filter(id__gt=last, kind="expired", created_at=now).count() \
        == len(expected)
    for account in PointsAccount.objects.filter(shop=shop):
        assert account.balance == points.ledger_sum(account.customer_id)
    names = dict(PointsAccount.objects.filter(shop=shop).values_list("customer_id",
                                                                     "customer__name"))
    return {names[c]: p for c, p in sorted(written.items(), key=lambda kv: names[kv[0]])}


def test_nights_of_set_based_expiry_match_the_per_account_semantics():
    shop = bonus_shop(tiers=(("0", "2"),), expiry=12)
    other = bonus_shop(code="pl", currency="PLN", tiers=(("0", "2"),), expiry=12)
    a, b, c, d, e, g = (customer_of(shop, name=n) for n in "ABCDEG")
    post(a, (100, at(2025, 1, 10)), (50, at(2025, 9, 1)), (-30, at(2026, 2, 1)))
    post(b, (200, at(2025, 3, 1)), (-250, at(2025, 4, 1)), (80, at(2026, 1, 1)))
    post(c, (40, at(2025, 6, 15)))  # exactly at the first night's cutoff: stays that night
    post(d, (10, at(2025, 6, 14)))
    post(e, (500, at(2026, 5, 1)))
    post(customer_of(other, name="Other"), (70, at(2024, 1, 1)))

    # First night (no mark yet): everyone with an old credit is looked at.
    assert night(shop, NIGHT, batch_size=2) == {"A": 70, "D": 10}
    assert points.balance(a.pk) == 50 and points.balance(b.pk) == 30
    assert points.balance(c.pk) == 40 and points.balance(e.pk) == 500

    # The next night: C's credit crossed the cutoff; G's old credit was entered since.
    post(g, (25, at(2024, 12, 1)))
    post(a, (-20, at(2026, 6, 16)))
    assert night(shop, NIGHT + timedelta(days=1)) == {"C": 40, "G": 25}
    assert night(shop, NIGHT + timedelta(days=1)) == {}  # the same night again: nothing

    # The policy shortened to 6 months: the cutoff jumps forward.
    PointsPolicy.objects.filter(shop=shop).update(expiry_months=6)
    assert night(shop, NIGHT + timedelta(days=2)) == {"A": 30}  # 150 credited, 120 used
    # Back to 12 months, a night earlier than the last: nothing new, nothing twice.
    PointsPolicy.objects.filter(shop=shop).update(expiry_months=12)
    assert night(shop, NIGHT) == {}

    assert points.balance(a.pk) == 0
    assert points.balance(b.pk) == 30
    assert points.balance(e.pk) == 500
    assert points.points_expire(shop=other, now=NIGHT) == 70  # the other shop on its own
