"""Bonus points and programs: bonus / discount programs with lifetime-spend tiers, the shop's
points policy, the append-only points ledger and the balance kept beside it.

Kept apart from loyalty/models.py (imported at its end) so category and segment models and
these evolve without touching each other. Rules live in loyalty/programs.py (pure) and
loyalty/points.py (services); the models only say what is stored and what the database
guarantees: one earning and one redemption per order, signs by kind, a staff adjustment
always has a reason.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from shops.models import MONEY

from . import programs

PERCENT = {"max_digits": 5, "decimal_places": 2}
PERCENT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(100)]
NOT_NEGATIVE = [MinMoneyValidator(0)]


def _percent_range(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100}), name=name
    )


class TierBoundary(models.TextChoices):
    """Where a tier's start belongs (loyalty.programs.reaches)."""

    INCLUSIVE = programs.INCLUSIVE, _("From X inclusive (X itself reaches the tier)")
    ABOVE = programs.ABOVE, _("Above X (X itself stays in the tier below)")


def _boundary_field():
    return models.CharField(
        _("tier boundary"), max_length=16, choices=TierBoundary.choices,
        default=TierBoundary.INCLUSIVE,
        help_text=_("Whether a lifetime spend exactly at a tier's start reaches that tier. "
                    "“2% up to 1000, 3% above 1000” is “above”. A tier starting at 0 "
                    "applies from 0 either way."),
    )


def _boundary_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(boundary__in=TierBoundary.values), name=name)


class BonusProgram(models.Model):
    """Points accrued on each counted order: a % by the customer's lifetime spend before it."""

    category = models.OneToOneField(
        "loyalty.Category", verbose_name=_("category"), on_delete=models.CASCADE,
        related_name="bonus_program",
        help_text=_("A category whose program is “bonus points”."),
    )
    name = models.CharField(_("name"), max_length=200)
    boundary = _boundary_field()

    class Meta:
        verbose_name = _("bonus program")
        verbose_name_plural = _("bonus programs")
        ordering = ["category"]
        constraints = [_boundary_constraint("bonus_program_boundary_valid")]

    def __str__(self) -> str:
        return self.name


def _tier_constraints(prefix: str) -> list:
    """One tier per starting spend per program, a non-negative start, a percent 0..100."""
    return [
        models.UniqueConstraint(fields=["program", "min_lifetime_spend"], name=f"{prefix}_unique"),
        models.CheckConstraint(
            condition=Q(min_lifetime_spend__gte=0), name=f"{prefix}_spend_not_negative"
        ),
        _percent_range("percent", f"{prefix}_percent_range"),
    ]


class BonusTier(models.Model):
    program = models.ForeignKey(BonusProgram, on_delete=models.CASCADE, related_name="tiers")
    min_lifetime_spend = MoneyField(
        _("from lifetime spend"), **MONEY, validators=NOT_NEGATIVE,
        help_text=_("Counted orders before this one, net of returns (≥, or > when the "
                    "program’s boundary is “above”)."),
    )
    percent = models.DecimalField(
        _("points %"), **PERCENT, validators=PERCENT_VALIDATORS,
        help_text=_("Points per 100 of the order's counted value."),
    )

    class Meta:
        verbose_name = _("bonus tier")
        verbose_name_plural = _("bonus tiers")
        ordering = ["program", "min_lifetime_spend"]
        constraints = _tier_constraints("bonus_tier")

    def __str__(self) -> str:
        return f"≥ {self.min_lifetime_spend}: {self.percent}%"


class DiscountProgram(models.Model):
    """The category discount by the customer's lifetime spend (e.g. 10 / 20 / 30%)."""

    category = models.OneToOneField(
        "loyalty.Category", verbose_name=_("category"), on_delete=models.CASCADE,
        related_name="discount_program",
        help_text=_("A category whose program is “discount”. Below the first tier its own "
                    "discount % applies."),
    )
    name = models.CharField(_("name"), max_length=200)
    boundary = _boundary_field()

    class Meta:
        verbose_name = _("discount program")
        verbose_name_plural = _("discount programs")
        ordering = ["category"]
        constraints = [_boundary_constraint("discount_program_boundary_valid")]

    def __str__(self) -> str:
        return self.name


class DiscountTier(models.Model):
    program = models.ForeignKey(DiscountProgram, on_delete=models.CASCADE, related_name="tiers")
    min_lifetime_spend = MoneyField(
        _("from lifetime spend"), **MONEY, validators=NOT_NEGATIVE,
        help_text=_("Counted orders, net of returns (≥, or > when the program’s boundary "
                    "is “above”)."),
    )
    percent = models.DecimalField(_("discount %"), **PERCENT, validators=PERCENT_VALIDATORS)

    class Meta:
        verbose_name = _("discount tier")
        verbose_name_plural = _("discount tiers")
        ordering = ["program", "min_lifetime_spend"]
        constraints = _tier_constraints("discount_tier")

    def __str__(self) -> str:
        return f"≥ {self.min_lifetime_spend}: {self.percent}%"


class PointsPolicy(models.Model):
    """How a shop's points are redeemed and when they expire (one per shop)."""

    shop = models.OneToOneField(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
        related_name="points_policy",
    )
    point_value = MoneyField(
        _("value of one point"), max_digits=10, decimal_places=2, default_currency="PLN",
        default=0, validators=NOT_NEGATIVE,
        help_text=_("What one point takes off an order when redeemed; 0: points cannot be "
                    "redeemed."),
    )
    expiry_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"), null=True, blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: points never expire. Spending and reversals use the oldest "
                    "points first."),
    )
    #: Where the last expiry run left off (loyalty.points_expiry): its cutoff and the
    #: newest ledger id it saw. Kept by the expiry, never edited.
    expiry_checked_before = models.DateTimeField(null=True, blank=True, editable=False)
    expiry_checked_entry_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")
        ordering = ["shop"]
        constraints = [
            models.CheckConstraint(
                condition=Q(point_value__gte=0), name="points_policy_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(expiry_months__isnull=True) | Q(expiry_months__gte=1),
                name="points_policy_expiry_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.shop)


class PointsKind(models.TextChoices):
    EARNED = "earned", _("Earned")
    SPENT = "spent", _("Spent")
    EXPIRED = "expired", _("Expired")
    REVERSED = "reversed", _("Reversed (return or order no longer counted)")
    CORRECTED = "corrected", _("Corrected (order counts again or its value rose)")
    ADJUSTED = "adjusted", _("Adjusted by staff")


class PointsEntry(models.Model):
    """One line of the append-only points ledger; a customer's balance is their sum.

    Written only by loyalty.points (never updated or deleted). Each entry names its cause:
    the order (earned, corrected, reversed, spent), the return (reversed by a return), or
    the staff user with a reason (adjusted)."""

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="points_entries",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=PointsKind.choices)
    #: 64-bit: an order of the largest documented size earns over 2**31 points.
    points = models.BigIntegerField(_("points"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    order = models.ForeignKey(
        "shops.Order", verbose_name=_("order"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="points_entries",
    )
    return_record = models.ForeignKey(
        "shops.Return", verbose_name=_("return"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="points_entries",
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff user"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    #: Earned entries: the bonus % the order earned at (returns reverse at the same %).
    percent = models.DecimalField(_("points %"), **PERCENT, null=True, blank=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        ordering = ["-created_at", "-id"]
        indexes = [
            # A customer's entries by date; with the points, so that the expiry's sums over
            # a range of customers read the index alone (index-only scans on PostgreSQL).
            models.Index(fields=["customer", "created_at"], include=["points"],
                         name="points_customer_idx"),
            # By date; with kind and points, so that the statistics' days not rolled up yet
            # are summed from the index alone.
            models.Index(fields=["created_at", "shop"], include=["kind", "points"],
                         name="points_when_idx"),
            # The expiry's candidates: credits by date, read from the index alone.
            models.Index(fields=["created_at", "shop", "customer"], condition=Q(points__gt=0),
                         name="points_credit_when_idx"),
        ]
        constraints = [
            # An order earns once, however often its event is delivered.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="earned"), name="points_earned_once_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="spent"), name="points_spent_once_per_order"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PointsKind.values), name="points_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="earned", points__gte=0, order__isnull=False)
                    | Q(kind="corrected", points__gt=0, order__isnull=False)
                    | Q(kind__in=["spent", "reversed"], points__lt=0, order__isnull=False)
                    | Q(kind="expired", points__lt=0)
                    | (Q(kind="adjusted") & ~Q(points=0) & ~Q(reason=""))
                ),
                name="points_entry_sign_and_cause_by_kind",
            ),
        ]
        permissions = [("adjust_points", _("Can adjust customers' points"))]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.points:+d} ({self.kind})"


class PointsAccount(models.Model):
    """A customer's balance, kept equal to the sum of their ledger entries by every write
    in loyalty.points (tested against the ledger). May go below zero only through a
    reversal of points already spent; spending never overdraws it."""

    customer = models.OneToOneField(
        "shops.Customer", on_delete=models.CASCADE, primary_key=True,
        related_name="points_account",
    )
    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    balance = models.BigIntegerField(_("points balance"), default=0)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"


class OrderPointsTerms(models.Model):
    """What the confirmed quote promised for points beyond the bonus %: points granted by
    a threshold tier, and whether the % part is earned (not when an applied segment
    advantage does not earn points). Read when the order becomes counted."""

    order = models.OneToOneField(
        "shops.Order", on_delete=models.CASCADE, primary_key=True,
        related_name="points_terms",
    )
    granted_points = models.PositiveBigIntegerField(_("points granted by discounts"), default=0)
    earns_percent = models.BooleanField(_("earns the bonus %"), default=True)

    class Meta:
        verbose_name = _("order points terms")
        verbose_name_plural = _("order points terms")

    def __str__(self) -> str:
        return f"{self.order_id}: +{self.granted_points}"
