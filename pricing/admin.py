"""Admin for discount configurations, loyalty cards, promo code uses and applied discounts.

Forms show each error next to its field: money in the shop's currency and not negative
(shops.validation, as every money form does), percents 0..100 (model validators, also
database constraints), tiers strictly increasing (checked in the inline formsets, in the order
the merchant lists them), dates in order, products and collections of the configuration's
shop. The "price a cart" page is mounted under the applied discounts (``get_urls``).
"""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shops import validation
from shops.admin import ShopCurrencyMixin
from shops.models import Order
from shops.scoping import ShopScopedAdmin, ShopScopedInline

from . import views
from .models import (
    CategoryDiscount,
    CumulativeDiscount,
    CumulativeTier,
    LoyaltyCard,
    LoyaltyCardDiscount,
    OrderDiscount,
    OrderGift,
    PromoCode,
    PromoCodeUse,
    QuantityDiscount,
    QuantityProfile,
    QuantityProfileProduct,
    QuantityTier,
    SegmentAdvantage,
    SegmentTier,
    SpecialOffer,
    ThresholdDiscount,
    ThresholdTier,
)

CONFIGURATION_FIELDS = ("shop", "client_type", "name", "enabled", "stacking", "position")


def _amount(value):
    return getattr(value, "amount", value)


def add_money_errors(form, data, shop, names) -> None:
    """Each money field of ``data``: not negative, in the shop's currency (error on the field)."""
    for name in names:
        value = data.get(name)
        if value is None:
            continue
        try:
            validation.check_not_negative(amount=value.amount, field=name)
            if shop is not None:
                validation.check_currency(
                    currency=str(value.currency), shop_currency=shop.currency, field=name
                )
        except forms.ValidationError as exc:
            for field, errors in exc.error_dict.items():
                form.add_error(field, errors)


def add_shop_errors(form, data, shop, names) -> None:
    """Products or collections (single or many) must belong to the shop."""
    if shop is None:
        return
    for name in names:
        value = data.get(name)
        items = [value] if hasattr(value, "shop_id") else list(value or ())
        strangers = [str(item) for item in items if item.shop_id != shop.pk]
        if strangers:
            form.add_error(name, _("Not in this shop: %(items)s.") % {
                "items": ", ".join(strangers)})


# --- forms ---------------------------------------------------------------------------------


class ConfigurationForm(ShopCurrencyMixin, forms.ModelForm):
    shop_fields: tuple[str, ...] = ()

    def clean(self):
        data = super().clean()
        self.check_money()
        add_shop_errors(self, data, data.get("shop"), self.shop_fields)
        return data


class SegmentAdvantageForm(ConfigurationForm):
    def clean(self):
        data = super().clean()
        shop, segment = data.get("shop"), data.get("segment")
        if shop is not None and segment is not None and segment.shop_id != shop.pk:
            self.add_error("segment", _("Not in this shop: %(items)s.") % {"items": segment})
        return data


class TierFormSet(forms.BaseInlineFormSet):
    """Tiers of one configuration: thresholds strictly increasing, in the order listed."""

    threshold_field = ""
    money_fields: tuple[str, ...] = ()
    shop_fields: tuple[str, ...] = ()

    def parent_shop(self):
        instance = self.instance
        if getattr(instance, "shop_id", None):
            return instance.shop
        return None

    def live_forms(self):
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data and not data.get("DELETE"):
                yield form, data

    def check_form(self, form, data) -> None:
        """Per-tier checks beyond the model's."""

    def clean(self):
        shop = self.parent_shop()
        previous = None
        for form, data in self.live_forms():
            add_money_errors(form, data, shop, self.money_fields)
            add_shop_errors(form, data, shop, self.shop_fields)
            self.check_form(form, data)
            if not self.threshold_field:
                continue
            value = _amount(data.get(self.threshold_field))
            if value is None:
                continue
            if previous is not None and value == previous:
                form.add_error(self.threshold_field,
                               _("Another tier already starts at this value."))
            elif previous is not None and value < previous:
                form.add_error(self.threshold_field, _(
                    "Tiers must go up: this one starts below the tier listed above it."))
            previous = value if previous is None else max(previous, value)
        # Our messages first: the formset's own unique check then skips the invalid forms.
        super().clean()


class ThresholdTierFormSet(TierFormSet):
    threshold_field = "min_goods_value"
    money_fields = ("min_goods_value",)
    shop_fields = ("gifts",)


class CumulativeTierFormSet(TierFormSet):
    threshold_field = "min_lifetime_spend"
    money_fields = ("min_lifetime_spend",)


class QuantityTierFormSet(TierFormSet):
    threshold_field = "min_value"


class ProfileProductFormSet(TierFormSet):
    shop_fields = ("product",)


class SegmentTierFormSet(TierFormSet):
    threshold_field = "min_cart_total"
    money_fields = ("min_cart_total", "amount_off")

    def check_form(self, form, data) -> None:
        amount = _amount(data.get("amount_off"))
        if not amount and not data.get("percent_off") and not data.get("free_shipping"):
            form.add_error("amount_off", _(
                "A tier gives an amount off, a percent off or free shipping."))


class SpecialOfferForm(ConfigurationForm):
    shop_fields = ("collection",)

    class Meta:
        model = SpecialOffer
        fields = (*CONFIGURATION_FIELDS, "collection", "buy_quantity", "free_quantity")


class PromoCodeForm(ConfigurationForm):
    money_fields = ("amount", "minimum_order_value", "max_discount_amount")

    class Meta:
        model = PromoCode
        fields = (
            *CONFIGURATION_FIELDS, "code", "percent", "amount", "valid_from", "valid_until",
            "usage_limit", "usage_limit_per_customer", "minimum_order_value", "combinable",
            "max_discount_percent", "max_discount_amount",
        )

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    def clean(self):
        data = super().clean()
        percent, amount = data.get("percent"), data.get("amount")
        if "percent" not in self.errors and "amount" not in self.errors:
            if percent is None and amount is None:
                self.add_error("percent", _("Give a percent or an amount off."))
            elif percent is not None and amount is not None:
                self.add_error("amount", _("Give a percent or an amount off, not both."))
        if (
            data.get("max_discount_percent") is not None
            and data.get("max_discount_amount") is not None
        ):
            self.add_error(
                "max_discount_amount",
                _("Give the maximum discount as a percent or as an amount, not both."),
            )
        valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
        if valid_from and valid_until and valid_from > valid_until:
            self.add_error("valid_until", _("The code cannot end before it starts."))
        shop, client_type, code = data.get("shop"), data.get("client_type"), data.get("code")
        if shop and client_type and code:
            clash = PromoCode.objects.filter(
                shop=shop, client_type=client_type, code__iexact=code
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("code", _("This shop already has this code for this client type."))
        return data


class LoyaltyCardForm(forms.ModelForm):
    class Meta:
        model = LoyaltyCard
        fields = ("customer", "number", "percent")


# --- inlines -------------------------------------------------------------------------------


class ThresholdTierInline(ShopScopedInline):
    model = ThresholdTier
    shop_path = "discount__shop"
    formset = ThresholdTierFormSet
    fields = ("min_goods_value", "percent", "bonus_points", "gifts")
    autocomplete_fields = ("gifts",)
    extra = 1


class CumulativeTierInline(ShopScopedInline):
    model = CumulativeTier
    shop_path = "discount__shop"
    formset = CumulativeTierFormSet
    fields = ("min_lifetime_spend", "percent")
    extra = 1


class QuantityTierInline(ShopScopedInline):
    model = QuantityTier
    shop_path = "profile__shop"
    formset = QuantityTierFormSet
    fields = ("min_value", "percent")
    extra = 1


class QuantityProfileProductInline(ShopScopedInline):
    model = QuantityProfileProduct
    shop_path = "profile__shop"
    formset = ProfileProductFormSet
    autocomplete_fields = ("product",)
    extra = 1


class SegmentTierInline(ShopScopedInline):
    model = SegmentTier
    shop_path = "advantage__shop"
    formset = SegmentTierFormSet
    fields = ("min_cart_total", "amount_off", "percent_off", "free_shipping")
    extra = 1


# --- configuration admins ------------------------------------------------------------------


class ConfigurationAdmin(ShopScopedAdmin):
    form = ConfigurationForm
    fields = CONFIGURATION_FIELDS
    list_display = ("name", "shop", "client_type", "enabled", "stacking", "position")
    list_filter = ("shop", "client_type", "enabled", "stacking")
    list_select_related = ("shop",)
    search_fields = ("name",)
    ordering = ("shop", "client_type", "position", "name")


class TieredAdmin(ConfigurationAdmin):
    list_display = (*ConfigurationAdmin.list_display, "tiers_summary")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tiers")

    @admin.display(description=gettext_lazy("tiers"))
    def tiers_summary(self, obj):
        return "; ".join(str(tier) for tier in obj.tiers.all()) or "—"


@admin.register(ThresholdDiscount)
class ThresholdDiscountAdmin(TieredAdmin):
    inlines = (ThresholdTierInline,)


@admin.register(CumulativeDiscount)
class CumulativeDiscountAdmin(TieredAdmin):
    inlines = (CumulativeTierInline,)


@admin.register(SegmentAdvantage)
class SegmentAdvantageAdmin(TieredAdmin):
    inlines = (SegmentTierInline,)
    form = SegmentAdvantageForm
    fields = (*CONFIGURATION_FIELDS, "segment", "special_discount", "earns_points",
              "applies_with_promo_code")
    list_display = (*TieredAdmin.list_display, "segment")
    list_select_related = ("shop", "segment")
    autocomplete_fields = ("segment",)


@admin.register(QuantityDiscount)
class QuantityDiscountAdmin(ConfigurationAdmin):
    pass


@admin.register(CategoryDiscount)
class CategoryDiscountAdmin(ConfigurationAdmin):
    pass


@admin.register(LoyaltyCardDiscount)
class LoyaltyCardDiscountAdmin(ConfigurationAdmin):
    pass


@admin.register(SpecialOffer)
class SpecialOfferAdmin(ConfigurationAdmin):
    form = SpecialOfferForm
    fields = (*CONFIGURATION_FIELDS, "collection", "buy_quantity", "free_quantity")
    list_display = (*ConfigurationAdmin.list_display, "collection", "buy_quantity",
                    "free_quantity")
    list_select_related = ("shop", "collection")
    autocomplete_fields = ("collection",)


@admin.register(PromoCode)
class PromoCodeAdmin(ConfigurationAdmin):
    form = PromoCodeForm
    fields = (*PromoCodeForm.Meta.fields, "times_used")
    readonly_fields = ("times_used",)
    list_display = ("code", "name", "shop", "client_type", "enabled", "percent", "amount",
                    "valid_from", "valid_until", "times_used", "usage_limit")
    search_fields = ("code", "name")
    show_full_result_count = False


@admin.register(QuantityProfile)
class QuantityProfileAdmin(ShopScopedAdmin):
    inlines = (QuantityTierInline, QuantityProfileProductInline)
    list_display = ("name", "shop", "basis", "tiers_summary", "product_count")
    list_filter = ("shop", "basis")
    list_select_related = ("shop",)
    search_fields = ("name",)

    def get_queryset(self, request):
        return (super().get_queryset(request).prefetch_related("tiers")
                .annotate(n_products=Count("product_links", distinct=True)))

    @admin.display(description=gettext_lazy("tiers"))
    def tiers_summary(self, obj):
        return "; ".join(str(tier) for tier in obj.tiers.all()) or "—"

    @admin.display(description=gettext_lazy("products"), ordering="n_products")
    def product_count(self, obj):
        return obj.n_products


@admin.register(LoyaltyCard)
class LoyaltyCardAdmin(ShopScopedAdmin):
    shop_path = "customer__shop"
    form = LoyaltyCardForm
    list_display = ("customer", "shop", "number", "percent")
    list_filter = ("customer__shop",)
    list_select_related = ("customer__shop",)
    search_fields = ("number", "customer__external_id", "customer__name")
    autocomplete_fields = ("customer",)
    show_full_result_count = False

    @admin.display(description=gettext_lazy("shop"), ordering="customer__shop")
    def shop(self, card):
        return card.customer.shop


# --- records (read only) -------------------------------------------------------------------


class ReadOnlyAdmin(ShopScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PromoCodeUse)
class PromoCodeUseAdmin(ReadOnlyAdmin):
    shop_path = "code__shop"
    list_display = ("code", "customer", "order", "used_at")
    list_filter = ("code__shop",)
    list_select_related = ("code", "customer", "order")
    search_fields = ("code__code", "customer__external_id", "order__number")
    date_hierarchy = "used_at"
    show_full_result_count = False


@admin.register(OrderDiscount)
class OrderDiscountAdmin(ReadOnlyAdmin):
    shop_path = "order__shop"
    list_display = ("order", "line_number", "sku", "kind", "name", "code", "percent", "amount",
                    "created_at")
    list_filter = ("kind", "order__shop")
    list_select_related = ("order",)
    search_fields = ("order__number", "name", "code", "sku")
    date_hierarchy = "created_at"
    show_full_result_count = False
    change_list_template = "admin/pricing/orderdiscount/change_list.html"

    def get_urls(self):
        price_cart = self.admin_site.admin_view(views.price_cart)
        return [
            path("price-cart/", price_cart, {"admin_site": self.admin_site},
                 name="pricing_price_cart"),
            *super().get_urls(),
        ]


# --- on the order page ---------------------------------------------------------------------


class ReadOnlyInline(ShopScopedInline):
    shop_path = "order__shop"
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderDiscountInline(ReadOnlyInline):
    model = OrderDiscount
    fields = ("line_number", "sku", "kind", "name", "code", "percent", "amount")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("applied discounts")


class OrderGiftInline(ReadOnlyInline):
    model = OrderGift
    fields = ("sku", "name", "discount_name", "created_at")
    readonly_fields = fields


# The order page shows what the order got. Subclass whatever order admin is registered
# (shops', maybe extended by others), as notifications does for the customer page.
_RegisteredOrderAdmin = type(admin.site.get_model_admin(Order))
admin.site.unregister(Order)


@admin.register(Order)
class OrderAdmin(_RegisteredOrderAdmin):
    inlines = (*_RegisteredOrderAdmin.inlines, OrderDiscountInline, OrderGiftInline)
