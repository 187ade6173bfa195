"""The statistics rollup: per shop and local day, the figures the statistics page sums.

Kept apart from loyalty/models.py (imported at its end). Written only by loyalty.rollup;
read by loyalty.statistics. A shop's rollup holds its complete days up to
`StatisticsRollup.through` (the nightly step closes each day) and today's moves and points up
to `StatisticsRollup.activity_until` (a beat task moves it on); what comes after is read from
the source tables directly, so the page is exact at any time.
"""

from django.db import models


class StatisticsRollup(models.Model):
    """How far a shop's rollup reaches, and in which time zone its days were cut."""

    shop = models.OneToOneField("shops.Shop", on_delete=models.CASCADE, related_name="+")
    #: Every day up to this one (the shop's local date, included) is in the rollup.
    through = models.DateField()
    #: The shop's time zone when the days were cut; another zone makes the rollup unusable
    #: until it is rebuilt (the nightly step does it).
    timezone = models.CharField(max_length=64)
    #: Every move and points entry written before this moment is in the rollup: the days up
    #: to `through`, then partial rows of the days after (today's so far; NULL: none).
    activity_until = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.shop_id} through {self.through}"


class DailyOrders(models.Model):
    """Counted orders placed on `day`, by the category their customer is in now.

    `category_id` is a plain number, 0 for customers without a category (so that the
    unique key holds and an upsert can add to it); a deleted category's rows count as
    "(no category)", where its customers went."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    category_id = models.BigIntegerField()
    orders = models.BigIntegerField(default=0)
    total = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "day", "category_id"], name="daily_orders_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day} {self.category_id}: {self.orders}"


class DailyActivity(models.Model):
    """Moves between categories and points written on `day` (all customers of the shop)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    moves_up = models.BigIntegerField(default=0)
    moves_down = models.BigIntegerField(default=0)
    earned = models.BigIntegerField(default=0)
    spent = models.BigIntegerField(default=0)
    expired = models.BigIntegerField(default=0)
    adjusted = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="daily_activity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day}"
