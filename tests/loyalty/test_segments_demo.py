"""Demo segments and their advantages: built, re-runnable, membership computed."""

from io import StringIO

import pytest

from loyalty import demo as loyalty_demo
from loyalty.models import Segment, SegmentMember
from pricing import demo as pricing_demo
from pricing.models import SegmentAdvantage
from shops import demo as shops_demo

pytestmark = pytest.mark.django_db


def test_demo_segments_and_advantages_are_built_once_with_members():
    shops_demo.build(stdout=StringIO(), scale=0.01, seed=42)
    for _ in range(2):
        loyalty_demo.build(stdout=StringIO(), scale=0.01, seed=42)
        pricing_demo.build(stdout=StringIO(), scale=0.01, seed=42)

    codes = set(Segment.objects.filter(shop__code="fr").values_list("code", flat=True))
    assert {"paris-pros", "colissimo-regulars", "customers", "loyal"} <= codes
    assert Segment.objects.filter(built_in="customers").count() == 3
    assert set(SegmentAdvantage.objects.exclude(segment=None)
               .values_list("segment__code", flat=True)) == {
        "paris-pros", "colissimo-regulars", "first-product-buyers"}
    customers = Segment.objects.get(shop__code="pl", built_in="customers")
    assert customers.member_count == SegmentMember.objects.filter(segment=customers).count() > 0
