from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services, validation
from .models import Collection, Customer, Order, OrderLine, Product, Return, Shop


class ShopCurrencyMixin:
    """Checks every money field of a form against the shop's currency."""

    money_fields: tuple[str, ...] = ()

    def shop_for_currency(self):
        return self.cleaned_data.get("shop")

    def check_money(self):
        shop = self.shop_for_currency()
        for name in self.money_fields:
            value = self.cleaned_data.get(name)
            if value is None:
                continue
            try:
                validation.check_not_negative(amount=value.amount, field=name)
                if shop is not None:
                    validation.check_currency(
                        currency=str(value.currency), shop_currency=shop.currency, field=name
                    )
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    self.add_error(field, errors)


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "currency", "default_language", "timezone")
    search_fields = ("code", "name")


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "shop")
    list_filter = ("shop",)
    list_select_related = ("shop",)
    search_fields = ("code", "name")


class ProductForm(ShopCurrencyMixin, forms.ModelForm):
    money_fields = ("price", "min_price")

    class Meta:
        model = Product
        fields = ("shop", "sku", "name", "price", "min_price", "collections")

    def clean(self):
        data = super().clean()
        self.check_money()
        price, min_price = data.get("price"), data.get("min_price")
        if price is not None and min_price is not None and not self.errors:
            try:
                validation.check_min_price(price=price.amount, min_price=min_price.amount)
            except ValidationError as exc:
                self.add_error("min_price", exc.error_dict["min_price"])
        return data


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = ("sku", "name", "shop", "price", "min_price")
    list_filter = ("shop", "collections")
    list_select_related = ("shop",)
    search_fields = ("sku", "name")
    autocomplete_fields = ("collections",)
    show_full_result_count = False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = (
        "external_id", "name", "shop", "client_type", "category", "category_locked",
        "is_active", "registered_at",
    )
    list_filter = ("shop", "client_type", "is_active", "category_locked", "category")
    list_select_related = ("shop", "category")
    search_fields = ("external_id", "name", "email", "phone")
    readonly_fields = ("category", "category_locked")
    show_full_result_count = False
    date_hierarchy = "registered_at"


class OrderLineForm(forms.ModelForm):
    class Meta:
        model = OrderLine
        fields = ("product", "quantity", "unit_price", "discount")


class OrderLineFormSet(forms.BaseInlineFormSet):
    def goods_total(self) -> Decimal:
        total = Decimal(0)
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            price, discount = data.get("unit_price"), data.get("discount")
            if price is not None and data.get("quantity"):
                total += price.amount * data["quantity"] - (discount.amount if discount else 0)
        return total

    def clean(self):
        super().clean()
        order_shop = getattr(self.instance, "shop", None) if self.instance.shop_id else None
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            for name in ("unit_price", "discount"):
                value = data.get(name)
                if value is None:
                    continue
                if value.amount < 0:
                    form.add_error(name, _("Must not be negative."))
                elif order_shop and str(value.currency) != order_shop.currency:
                    form.add_error(
                        name,
                        _("Currency %(got)s does not match the shop's currency %(want)s.")
                        % {"got": value.currency, "want": order_shop.currency},
                    )
            product = data.get("product")
            if product and order_shop and product.shop_id != order_shop.pk:
                form.add_error("product", _("This product belongs to another shop."))


class ReturnFormSet(forms.BaseInlineFormSet):
    #: Set by OrderAdmin so that returns are checked against the lines as edited.
    lines_formset: OrderLineFormSet | None = None

    def clean(self):
        super().clean()
        if any(self.errors) or self.lines_formset is None or any(self.lines_formset.errors):
            return
        returns = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data and not data.get("DELETE") and data.get("value") is not None:
                if data["value"].amount <= 0:
                    form.add_error("value", _("A returned value must be above zero."))
                returns.append(data["value"].amount)
        try:
            validation.check_returns_within_goods(
                goods_total=self.lines_formset.goods_total(), returns=returns
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    form = OrderLineForm
    formset = OrderLineFormSet
    extra = 0
    min_num = 1
    autocomplete_fields = ("product",)


class ReturnInline(admin.TabularInline):
    model = Return
    formset = ReturnFormSet
    extra = 0
    fields = ("value", "returned_at", "reference")


class OrderForm(ShopCurrencyMixin, forms.ModelForm):
    money_fields = ("shipping_cost",)

    class Meta:
        model = Order
        fields = (
            "shop", "number", "customer", "placed_at", "status", "paid_in_full",
            "shipping_method", "shipping_cost", "delivery_city",
        )

    def clean(self):
        data = super().clean()
        self.check_money()
        shop, customer = data.get("shop"), data.get("customer")
        if shop and customer and customer.shop_id != shop.pk:
            self.add_error("customer", _("The customer belongs to another shop."))
        return data


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderForm
    inlines = (OrderLineInline, ReturnInline)
    list_display = (
        "number", "shop", "customer", "placed_at", "status", "paid_in_full", "goods_total",
        "returned_total",
    )
    list_filter = ("shop", "status", "paid_in_full", "shipping_method")
    list_select_related = ("shop", "customer")
    search_fields = ("number", "customer__external_id", "customer__name")
    autocomplete_fields = ("customer",)
    readonly_fields = ("goods_total", "returned_total")
    date_hierarchy = "placed_at"
    show_full_result_count = False

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        lines = next((f for f in formsets if isinstance(f, OrderLineFormSet)), None)
        for formset in formsets:
            if isinstance(formset, ReturnFormSet):
                formset.lines_formset = lines
        return formsets, inline_instances

    def save_model(self, request, obj, form, change):
        if change:
            before = Order.objects.get(pk=obj.pk)
            obj._figures_before = (before.is_counted, before.net_value.amount)
        else:
            obj._figures_before = (False, None)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        was_counted, old_value = form.instance._figures_before
        services.order_totals_refresh(
            order=form.instance, was_counted=was_counted, old_value=old_value
        )


admin.site.site_header = gettext_lazy("Patron loyalty back office")
admin.site.site_title = gettext_lazy("Patron")
admin.site.index_title = gettext_lazy("Shops, customers and loyalty")
