"""Demo data: a bonus program with ledger history in shop ua, a discount program in pl."""

from io import StringIO

import pytest
from django.db.models import Sum

from loyalty import demo
from loyalty.models import BonusProgram, DiscountProgram, PointsAccount, PointsEntry
from shops import demo as shops_demo
from shops.models import Shop

pytestmark = pytest.mark.django_db


def test_demo_has_bonus_programs_and_a_consistent_ledger():
    shops_demo.build(stdout=StringIO(), scale=0.02, seed=42)
    demo.build(stdout=StringIO(), scale=0.02, seed=42)
    ua = Shop.objects.get(code="ua")

    assert BonusProgram.objects.filter(category__shop=ua).count() == 3
    assert DiscountProgram.objects.filter(category__shop__code="pl").count() == 1
    kinds = set(PointsEntry.objects.filter(shop=ua).values_list("kind", flat=True))
    assert {"earned", "reversed", "spent", "adjusted"} <= kinds
    sums = dict(PointsEntry.objects.filter(shop=ua).values_list("customer_id")
                .annotate(s=Sum("points")).values_list("customer_id", "s"))
    balances = dict(PointsAccount.objects.filter(shop=ua).values_list("customer_id", "balance"))
    assert balances == sums
    assert min(balances.values()) >= 0

    entries = PointsEntry.objects.count()
    demo.build(stdout=StringIO(), scale=0.02, seed=42)
    assert PointsEntry.objects.count() == entries
