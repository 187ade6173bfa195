"""Discount configurations (data the pricing engine reads), promo code uses, applied discounts.

One model per discount kind, each per shop and client type, sharing ``DiscountConfiguration``
(name, enabled, stacking mode, position). Tiered kinds keep their tiers in a child table with
one row per threshold. Money is a MoneyField in the shop's currency (checked by the admin
forms: a database constraint cannot compare with the shop's row); percents are Decimals
checked 0..100 by the database. ``pricing.selectors`` turns these rows into
``pricing.engine`` dataclasses; nothing here computes a price.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from shops.models import MONEY, ClientType

PERCENT = {"max_digits": 5, "decimal_places": 2}
PERCENT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(100)]
NOT_NEGATIVE = [MinMoneyValidator(0)]
#: The engine's id for a segment advantage that is for every customer (no segment code).
EVERY_CUSTOMER = "*"


def percent_range(field: str, name: str, *, nullable: bool = False) -> models.CheckConstraint:
    in_range = Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100})
    if nullable:
        in_range |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=in_range, name=name)


class DiscountKind(models.TextChoices):
    """The engine's kinds (pricing.engine.DiscountKind), with the merchant's names."""

    THRESHOLD = "threshold", _("Order value threshold")
    CUMULATIVE = "cumulative", _("Cumulative (lifetime spend)")
    QUANTITY = "quantity", _("Quantity / value per product")
    SPECIAL_OFFER = "special_offer", _("Special offer")
    PROMO_CODE = "promo_code", _("Promo code")
    CATEGORY = "category", _("Category discount")
    LOYALTY_CARD = "loyalty_card", _("Loyalty card")
    SEGMENT = "segment", _("Segment advantage")


class StackingMode(models.TextChoices):
    SUM = "sum", _("Adds up with the other discounts")
    EXCLUSIVE_IF_HIGHER = "exclusive_if_higher", _("Applies alone, when it gives more")
    SEQUENTIAL = "sequential", _("Applies after the others, on the reduced price")


class QuantityBasis(models.TextChoices):
    QUANTITY = "quantity", _("Units of the product in the order")
    LINE_VALUE = "line_value", _("Value of the product in the order")


class DiscountConfiguration(models.Model):
    """What every discount configuration has: a shop, a client type and how it stacks."""

    kind: str  # a DiscountKind value, set by each subclass

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    client_type = models.CharField(
        _("client type"), max_length=16, choices=ClientType.choices, default=ClientType.RETAIL
    )
    name = models.CharField(
        _("name"), max_length=200, help_text=_("Shown in quotes and kept on orders.")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    stacking = models.CharField(
        _("stacking mode"), max_length=24, choices=StackingMode.choices, default=StackingMode.SUM
    )
    position = models.PositiveIntegerField(
        _("position"), default=0,
        help_text=_("Order among sequential discounts (lower first); also breaks ties."),
    )

    class Meta:
        abstract = True
        ordering = ["shop", "client_type", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "client_type", "name"], name="%(class)s_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(client_type__in=ClientType.values), name="%(class)s_client_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(stacking__in=StackingMode.values), name="%(class)s_stacking_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- 1. threshold -------------------------------------------------------------------------


class ThresholdDiscount(DiscountConfiguration):
    """Tiers on the order's goods value before any discount; the highest reached applies."""

    kind = DiscountKind.THRESHOLD

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("threshold discount")
        verbose_name_plural = _("threshold discounts")


class ThresholdTier(models.Model):
    discount = models.ForeignKey(
        ThresholdDiscount, on_delete=models.CASCADE, related_name="tiers"
    )
    min_goods_value = MoneyField(
        _("from goods value"), **MONEY, validators=NOT_NEGATIVE,
        help_text=_("Order goods value before discounts, shipping excluded (≥)."),
    )
    percent = models.DecimalField(_("discount %"), **PERCENT, validators=PERCENT_VALIDATORS)
    bonus_points = models.PositiveIntegerField(_("bonus points granted"), default=0)
    gifts = models.ManyToManyField(
        "shops.Product", verbose_name=_("gifts to choose from"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("threshold tier")
        verbose_name_plural = _("threshold tiers")
        ordering = ["discount", "min_goods_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["discount", "min_goods_value"], name="threshold_tier_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_goods_value__gte=0), name="threshold_tier_value_not_negative"
            ),
            percent_range("percent", "threshold_tier_percent_range"),
        ]

    def __str__(self) -> str:
        return f"≥ {self.min_goods_value}: {self.percent}%"


# --- 2. cumulative ------------------------------------------------------------------------


class CumulativeDiscount(DiscountConfiguration):
    """Tiers on the customer's lifetime counted spend net of returns (shops.counting)."""

    kind = DiscountKind.CUMULATIVE

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("cumulative discount")
        verbose_name_plural = _("cumulative discounts")


class CumulativeTier(models.Model):
    discount = models.ForeignKey(
        CumulativeDiscount, on_delete=models.CASCADE, related_name="tiers"
    )
    min_lifetime_spend = MoneyField(
        _("from lifetime spend"), **MONEY, validators=NOT_NEGATIVE,
        help_text=_("Counted orders, net of returns (≥)."),
    )
    percent = models.DecimalField(_("discount %"), **PERCENT, validators=PERCENT_VALIDATORS)

    class Meta:
        verbose_name = _("cumulative tier")
        verbose_name_plural = _("cumulative tiers")
        ordering = ["discount", "min_lifetime_spend"]
        constraints = [
            models.UniqueConstraint(
                fields=["discount", "min_lifetime_spend"], name="cumulative_tier_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_lifetime_spend__gte=0), name="cumulative_tier_spend_not_negative"
            ),
            percent_range("percent", "cumulative_tier_percent_range"),
        ]

    def __str__(self) -> str:
        return f"≥ {self.min_lifetime_spend}: {self.percent}%"


# --- 3. quantity / value per product ------------------------------------------------------


class QuantityDiscount(DiscountConfiguration):
    """Turns on the products' quantity/value profiles for a client type, with a stacking mode."""

    kind = DiscountKind.QUANTITY

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("quantity discount")
        verbose_name_plural = _("quantity discounts")


class QuantityProfile(models.Model):
    """Tiers by units (or value) of one product in the order; attached to products."""

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    basis = models.CharField(
        _("measured on"), max_length=16, choices=QuantityBasis.choices,
        default=QuantityBasis.QUANTITY,
    )
    products = models.ManyToManyField(
        "shops.Product", verbose_name=_("products"), through="QuantityProfileProduct",
        related_name="+",
    )

    class Meta:
        verbose_name = _("quantity profile")
        verbose_name_plural = _("quantity profiles")
        ordering = ["shop", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="quantity_profile_name_unique"),
            models.CheckConstraint(
                condition=Q(basis__in=QuantityBasis.values), name="quantity_profile_basis_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QuantityProfileProduct(models.Model):
    """A product's profile: a product has at most one."""

    profile = models.ForeignKey(
        QuantityProfile, on_delete=models.CASCADE, related_name="product_links"
    )
    product = models.OneToOneField(
        "shops.Product", verbose_name=_("product"), on_delete=models.CASCADE,
        related_name="quantity_profile_link",
    )

    class Meta:
        verbose_name = _("product with this profile")
        verbose_name_plural = _("products with this profile")

    def __str__(self) -> str:
        return f"{self.profile_id}: {self.product_id}"


class QuantityTier(models.Model):
    profile = models.ForeignKey(QuantityProfile, on_delete=models.CASCADE, related_name="tiers")
    min_value = models.DecimalField(
        _("from"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)],
        help_text=_("Units, or a value in the shop's currency, as the profile measures (≥)."),
    )
    percent = models.DecimalField(_("discount %"), **PERCENT, validators=PERCENT_VALIDATORS)

    class Meta:
        verbose_name = _("quantity tier")
        verbose_name_plural = _("quantity tiers")
        ordering = ["profile", "min_value"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "min_value"], name="quantity_tier_unique"),
            models.CheckConstraint(
                condition=Q(min_value__gte=0), name="quantity_tier_value_not_negative"
            ),
            percent_range("percent", "quantity_tier_percent_range"),
        ]

    def __str__(self) -> str:
        return f"≥ {self.min_value}: {self.percent}%"


# --- 4. special offers --------------------------------------------------------------------


class SpecialOffer(DiscountConfiguration):
    """Buy N of a collection, get M (the cheapest units) free."""

    kind = DiscountKind.SPECIAL_OFFER

    collection = models.ForeignKey(
        "shops.Collection", verbose_name=_("collection"), on_delete=models.PROTECT,
        related_name="+",
    )
    buy_quantity = models.PositiveSmallIntegerField(
        _("buy"), validators=[MinValueValidator(1)]
    )
    free_quantity = models.PositiveSmallIntegerField(
        _("get free"), default=1, validators=[MinValueValidator(1)]
    )

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("special offer")
        verbose_name_plural = _("special offers")
        constraints = [
            *DiscountConfiguration.Meta.constraints,
            models.CheckConstraint(
                condition=Q(buy_quantity__gte=1) & Q(free_quantity__gte=1),
                name="special_offer_quantities_positive",
            ),
        ]


# --- 5. promo codes -----------------------------------------------------------------------

code_validator = RegexValidator(
    r"^[A-Za-z0-9_-]+$", _("Use letters, digits, “-” and “_” only.")
)


class PromoCode(DiscountConfiguration):
    """A code giving a percent or an amount off; dates inclusive; empty limit = no limit."""

    kind = DiscountKind.PROMO_CODE

    code = models.CharField(
        _("code"), max_length=64, validators=[code_validator],
        help_text=_("Customers may type it in any case."),
    )
    percent = models.DecimalField(
        _("discount %"), **PERCENT, null=True, blank=True, validators=PERCENT_VALIDATORS
    )
    amount = MoneyField(
        _("amount off"), **MONEY, null=True, blank=True, validators=NOT_NEGATIVE
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    usage_limit = models.PositiveIntegerField(
        _("total uses allowed"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    usage_limit_per_customer = models.PositiveIntegerField(
        _("uses allowed per customer"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    minimum_order_value = MoneyField(
        _("minimum order value"), **MONEY, null=True, blank=True, validators=NOT_NEGATIVE,
        help_text=_("Goods value before discounts."),
    )
    combinable = models.BooleanField(
        _("other discounts still apply"), default=True,
        help_text=_("If not, the order is priced with the code alone or without it, "
                    "whichever is cheaper."),
    )
    max_discount_percent = models.DecimalField(
        _("maximum discount with this code (%)"), **PERCENT, null=True, blank=True,
        validators=PERCENT_VALIDATORS,
        help_text=_("An order using the code never gets more than this percent of its goods "
                    "value off in total, this code included; only the code gives less. "
                    "Empty: no cap."),
    )
    max_discount_amount = MoneyField(
        _("maximum discount with this code (amount)"), **MONEY, null=True, blank=True,
        validators=NOT_NEGATIVE,
        help_text=_("The same cap as an amount (give a percent or an amount, not both)."),
    )
    # Written only by pricing.services.order_confirm_discounts, with a conditional UPDATE.
    times_used = models.PositiveIntegerField(_("times used"), default=0, editable=False)

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("promo code")
        verbose_name_plural = _("promo codes")
        constraints = [
            *DiscountConfiguration.Meta.constraints,
            models.UniqueConstraint(
                "shop", "client_type", Lower("code"), name="promo_code_unique_per_shop"
            ),
            models.CheckConstraint(
                condition=(Q(percent__isnull=True) & Q(amount__isnull=False))
                | (Q(percent__isnull=False) & Q(amount__isnull=True)),
                name="promo_code_percent_or_amount",
            ),
            percent_range("percent", "promo_code_percent_range", nullable=True),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="promo_code_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(minimum_order_value__isnull=True) | Q(minimum_order_value__gte=0),
                name="promo_code_minimum_not_negative",
            ),
            percent_range("max_discount_percent", "promo_code_cap_percent_range", nullable=True),
            models.CheckConstraint(
                condition=Q(max_discount_amount__isnull=True) | Q(max_discount_amount__gte=0),
                name="promo_code_cap_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(max_discount_percent__isnull=True)
                | Q(max_discount_amount__isnull=True),
                name="promo_code_cap_percent_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_from__lte=F("valid_until")),
                name="promo_code_dates_in_order",
            ),
        ]


class PromoCodeUse(models.Model):
    """One use of a promo code by an order (the per-customer limit counts these rows)."""

    code = models.ForeignKey(
        PromoCode, verbose_name=_("promo code"), on_delete=models.PROTECT, related_name="uses"
    )
    customer = models.ForeignKey(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="promo_code_uses",
    )
    order = models.ForeignKey(
        "shops.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="+"
    )
    used_at = models.DateTimeField(_("used at"), default=timezone.now)

    class Meta:
        verbose_name = _("promo code use")
        verbose_name_plural = _("promo code uses")
        ordering = ["-used_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["code", "order"], name="promo_code_use_once_per_order")
        ]
        indexes = [models.Index(fields=["code", "customer"], name="promo_code_use_customer_idx")]

    def __str__(self) -> str:
        return f"{self.code_id}: {self.order_id}"


# --- 6. category, 7. loyalty card ---------------------------------------------------------


class CategoryDiscount(DiscountConfiguration):
    """The percent of the customer's loyalty category, when its program is "discount"."""

    kind = DiscountKind.CATEGORY

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("category discount")
        verbose_name_plural = _("category discounts")


class LoyaltyCardDiscount(DiscountConfiguration):
    """Turns on customers' loyalty card percents; never adds up with kinds 1-5."""

    kind = DiscountKind.LOYALTY_CARD

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("loyalty card discount")
        verbose_name_plural = _("loyalty card discounts")


class LoyaltyCard(models.Model):
    customer = models.OneToOneField(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="loyalty_card",
    )
    number = models.CharField(_("card number"), max_length=64, blank=True)
    percent = models.DecimalField(_("discount %"), **PERCENT, validators=PERCENT_VALIDATORS)

    class Meta:
        verbose_name = _("loyalty card")
        verbose_name_plural = _("loyalty cards")
        ordering = ["customer"]
        constraints = [percent_range("percent", "loyalty_card_percent_range")]

    def __str__(self) -> str:
        return self.number or str(self.customer_id)


# --- 8. segment advantages ----------------------------------------------------------------


class SegmentAdvantage(DiscountConfiguration):
    """Cart-total tiers for the customers of a segment (every customer when no segment)."""

    kind = DiscountKind.SEGMENT

    segment = models.ForeignKey(
        "loyalty.Segment", verbose_name=_("segment"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="advantages",
        help_text=_("Empty: every customer of this client type."),
    )
    special_discount = models.BooleanField(
        _("gives a special discount"), default=True,
        help_text=_("Off: the tiers' amount and % off are not given; their free shipping "
                    "and the points setting still apply."),
    )
    earns_points = models.BooleanField(_("earns bonus points"), default=True)
    applies_with_promo_code = models.BooleanField(
        _("applies when a promo code is used"), default=True
    )

    class Meta(DiscountConfiguration.Meta):
        verbose_name = _("segment advantage")
        verbose_name_plural = _("segment advantages")


class SegmentTier(models.Model):
    advantage = models.ForeignKey(
        SegmentAdvantage, on_delete=models.CASCADE, related_name="tiers"
    )
    min_cart_total = MoneyField(
        _("from cart total"), **MONEY, validators=NOT_NEGATIVE,
        help_text=_("Goods value before discounts (≥)."),
    )
    amount_off = MoneyField(_("amount off"), **MONEY, default=0, validators=NOT_NEGATIVE)
    percent_off = models.DecimalField(
        _("discount %"), **PERCENT, default=0, validators=PERCENT_VALIDATORS
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)

    class Meta:
        verbose_name = _("segment tier")
        verbose_name_plural = _("segment tiers")
        ordering = ["advantage", "min_cart_total"]
        constraints = [
            models.UniqueConstraint(
                fields=["advantage", "min_cart_total"], name="segment_tier_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_cart_total__gte=0) & Q(amount_off__gte=0),
                name="segment_tier_amounts_not_negative",
            ),
            percent_range("percent_off", "segment_tier_percent_range"),
            models.CheckConstraint(
                condition=Q(min_cart_total_currency=F("amount_off_currency")),
                name="segment_tier_same_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"≥ {self.min_cart_total}"


# --- what an order got --------------------------------------------------------------------


class OrderDiscount(models.Model):
    """A discount applied to an order, copied from the quote so that later configuration
    changes (or deletions) never alter a past order. One row per discount and line; a row
    without a product is an order-level benefit (a gift, points or free shipping)."""

    order = models.ForeignKey(
        "shops.Order", verbose_name=_("order"), on_delete=models.CASCADE,
        related_name="applied_discounts",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DiscountKind.choices)
    configuration_id = models.PositiveBigIntegerField(_("configuration id"), null=True)
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("promo code"), max_length=64, blank=True)
    percent = models.DecimalField(_("discount %"), **PERCENT, null=True, blank=True)
    line_number = models.PositiveSmallIntegerField(_("line"), null=True, blank=True)
    product = models.ForeignKey(
        "shops.Product", verbose_name=_("product"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    amount = MoneyField(_("amount"), **MONEY)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("applied discount")
        verbose_name_plural = _("applied discounts")
        ordering = ["order", "line_number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="order_discount_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=DiscountKind.values), name="order_discount_kind_valid"
            ),
            percent_range("percent", "order_discount_percent_range", nullable=True),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount}"


class OrderGift(models.Model):
    """The gift the customer chose from those a threshold tier offered (one per order: the
    customer picks one). A row beside the order's lines, not a line: the lines are the
    storefront's facts and its goods total; product, SKU and name are copied so that later
    catalogue changes never alter a past order."""

    order = models.OneToOneField(
        "shops.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="gift"
    )
    product = models.ForeignKey(
        "shops.Product", verbose_name=_("product"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    discount_name = models.CharField(
        _("offered by"), max_length=200, help_text=_("The threshold discount whose tier "
                                                     "offered the gift.")
    )
    configuration_id = models.PositiveBigIntegerField(_("configuration id"), null=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("chosen gift")
        verbose_name_plural = _("chosen gifts")
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


#: Every configuration model, in the order quotes list them.
CONFIGURATION_MODELS: tuple[type[DiscountConfiguration], ...] = (
    CumulativeDiscount,
    ThresholdDiscount,
    QuantityDiscount,
    SpecialOffer,
    CategoryDiscount,
    LoyaltyCardDiscount,
    SegmentAdvantage,
    PromoCode,
)

