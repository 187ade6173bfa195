from decimal import Decimal
from functools import partial

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import intake, services, tokens, validation
from .admin_lists import ORDER_SEARCH_HELP, CustomerSearchAdmin, ShippingMethodFilter
from .models import (
    ApiToken,
    Collection,
    Customer,
    IntakeEvent,
    IntakeStatus,
    Order,
    OrderLine,
    Product,
    Return,
    Shop,
    ShopStaff,
)
from .scoping import ShopScopedAdmin, ShopScopedInline


def add_money_errors(form, data, shop, names) -> None:
    """Each money field of ``data``: not negative, at most the maximum, in the shop's currency
    (errors on the field)."""
    for name in names:
        value = data.get(name)
        if value is None:
            continue
        try:
            validation.check_not_negative(amount=value.amount, field=name)
            validation.check_at_most(value=value.amount, maximum=validation.MAX_AMOUNT, field=name)
            if shop is not None:
                validation.check_currency(
                    currency=str(value.currency), shop_currency=shop.currency, field=name
                )
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                form.add_error(field, errors)


class ShopCurrencyMixin:
    """Checks every money field of a form against the shop's currency."""

    money_fields: tuple[str, ...] = ()

    def shop_for_currency(self):
        return self.cleaned_data.get("shop")

    def check_money(self):
        add_money_errors(self, self.cleaned_data, self.shop_for_currency(), self.money_fields)


class SuperuserOnlyInline:
    """Who may see which shops is the superusers' business."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission

    def get_queryset(self, request):
        # Each row is titled "user → shop".
        return super().get_queryset(request).select_related("user", "shop")


class ShopStaffInline(SuperuserOnlyInline, ShopScopedInline):
    model = ShopStaff
    fk_name = "shop"
    extra = 0
    autocomplete_fields = ("user",)
    verbose_name_plural = gettext_lazy("staff with access to this shop")


class ShopForm(forms.ModelForm):
    confirm_timezone = forms.BooleanField(
        label=gettext_lazy("confirm the time zone change"), required=False,
        help_text=gettext_lazy("Needed to change the time zone of a shop with data: day "
                               "boundaries (rule windows, statistics) move with it."),
    )

    class Meta:
        model = Shop
        fields = services.SHOP_FIELDS

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            return data
        currency_changes = "currency" in self.changed_data
        timezone_changes = "timezone" in self.changed_data
        if not (currency_changes or timezone_changes):
            return data
        try:
            validation.check_shop_change(
                currency_changes=currency_changes, timezone_changes=timezone_changes,
                confirm_timezone=data.get("confirm_timezone", False),
                data=services.shop_data(self.instance),
            )
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                self.add_error(field, errors)
        return data


@admin.register(Shop)
class ShopAdmin(ShopScopedAdmin):
    shop_path = "pk"
    form = ShopForm
    inlines = (ShopStaffInline,)
    list_display = ("code", "name", "currency", "default_language", "timezone")
    search_fields = ("code", "name")

    # Staff see and may change their own shops; opening or closing a shop is for superusers.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        services.shop_update(
            shop=obj, confirm_timezone=form.cleaned_data.get("confirm_timezone", False),
            **{name: form.cleaned_data[name] for name in form.changed_data
               if name in services.SHOP_FIELDS},
        )
        return None


class UserShopsInline(SuperuserOnlyInline, ShopScopedInline):
    model = ShopStaff
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("shop",)  # a plain select would list every shop in every row
    verbose_name_plural = gettext_lazy("shops this staff user works for")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin, with the shops each staff user is bound to."""

    inlines = (*UserAdmin.inlines, UserShopsInline)


@admin.register(Collection)
class CollectionAdmin(ShopScopedAdmin):
    list_display = ("code", "name", "shop")
    list_filter = ("shop",)
    list_select_related = ("shop",)
    search_fields = ("code", "name")


class ProductForm(ShopCurrencyMixin, forms.ModelForm):
    money_fields = ("price", "min_price")

    class Meta:
        model = Product
        fields = ("shop", "sku", "name", "price", "min_price", "collections", "is_active")

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
class ProductAdmin(ShopScopedAdmin):
    form = ProductForm
    list_display = ("sku", "name", "shop", "price", "min_price", "is_active")
    list_filter = ("shop", "is_active", "collections")
    list_select_related = ("shop",)
    search_fields = ("sku", "name")
    autocomplete_fields = ("collections",)
    show_full_result_count = False


@admin.register(Customer)
class CustomerAdmin(CustomerSearchAdmin, ShopScopedAdmin):
    list_display = (
        "external_id", "name", "shop", "client_type", "category", "category_locked",
        "is_active", "registered_at",
    )
    list_filter = ("shop", "client_type", "is_active", "category_locked", "category")
    list_select_related = ("shop", "category")
    search_fields = ("external_id", "name", "email", "phone")  # CustomerSearchAdmin's
    customer_path = ""
    readonly_fields = ("category", "category_locked")
    date_hierarchy = "registered_at"
    # The newest first, from the primary key's index (the model's shop/external id
    # ordering is a sort of every row behind a join).
    ordering = ("-pk",)

    def save_model(self, request, obj, form, change):
        if change and services.RULE_FIELDS.intersection(form.changed_data):
            obj.orders_changed_at = timezone.now()  # see services.RULE_FIELDS
        super().save_model(request, obj, form, change)


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
                elif value.amount > validation.MAX_AMOUNT:
                    self._add(form, validation.check_at_most, value=value.amount,
                              maximum=validation.MAX_AMOUNT, field=name)
                elif order_shop and str(value.currency) != order_shop.currency:
                    form.add_error(
                        name,
                        _("Currency %(got)s does not match the shop's currency %(want)s.")
                        % {"got": value.currency, "want": order_shop.currency},
                    )
            if (data.get("quantity") or 0) > validation.MAX_QUANTITY:
                self._add(form, validation.check_at_most, value=data["quantity"],
                          maximum=validation.MAX_QUANTITY, field="quantity")
            product = data.get("product")
            if product and order_shop and product.shop_id != order_shop.pk:
                form.add_error("product", _("This product belongs to another shop."))
        if not any(self.errors):
            try:
                validation.check_order_total(goods_total=self.goods_total())
            except ValidationError as exc:
                raise ValidationError(exc.messages) from exc

    @staticmethod
    def _add(form, check, **kwargs) -> None:
        try:
            check(**kwargs)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                form.add_error(field, errors)


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
                amount = data["value"].amount
                if amount <= 0:
                    form.add_error("value", _("A returned value must be above zero."))
                elif amount > validation.MAX_AMOUNT:
                    OrderLineFormSet._add(form, validation.check_at_most, value=amount,
                                          maximum=validation.MAX_AMOUNT, field="value")
                returns.append(amount)
        try:
            validation.check_returns_within_goods(
                goods_total=self.lines_formset.goods_total(), returns=returns
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class OrderLineInline(ShopScopedInline):
    model = OrderLine
    shop_path = "order__shop"
    form = OrderLineForm
    formset = OrderLineFormSet
    extra = 0
    min_num = 1
    autocomplete_fields = ("product",)


class ReturnInline(ShopScopedInline):
    model = Return
    shop_path = "order__shop"
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
class OrderAdmin(CustomerSearchAdmin, ShopScopedAdmin):
    form = OrderForm
    inlines = (OrderLineInline, ReturnInline)
    list_display = (
        "number", "shop", "customer", "placed_at", "status", "paid_in_full", "goods_total",
        "returned_total",
    )
    list_filter = ("shop", "status", "paid_in_full", ShippingMethodFilter)
    list_select_related = ("shop", "customer")
    search_fields = ("number", "customer__external_id", "customer__name")  # see below
    search_exact = ("number",)
    search_help_text = ORDER_SEARCH_HELP
    autocomplete_fields = ("customer",)
    readonly_fields = ("goods_total", "returned_total")
    date_hierarchy = "placed_at"
    ordering = ("-placed_at", "-pk")

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        lines = next((f for f in formsets if isinstance(f, OrderLineFormSet)), None)
        for formset in formsets:
            if isinstance(formset, ReturnFormSet):
                formset.lines_formset = lines
        return formsets, inline_instances

    def save_model(self, request, obj, form, change):
        pass  # saved with its lines and returns by services.order_edit in save_related

    def save_related(self, request, form, formsets, change):
        services.order_edit(order=form.instance, save_lines_and_returns=partial(
            super().save_related, request, form, formsets, change))


@admin.register(IntakeEvent)
class IntakeEventAdmin(CustomerSearchAdmin, ShopScopedAdmin):
    """Order events and whether their effects (points, category, segments, messages) were
    applied. A failed one shows its error; "retry" queues it again once the cause (e.g. a
    broken message template) is fixed. Read-only otherwise."""

    list_display = ("created_at", "shop", "order", "customer", "kind", "status", "attempts",
                    "processed_at", "short_error")
    list_filter = ("status", "kind", "shop")
    list_select_related = ("shop", "order", "customer")
    search_fields = ("order__number", "customer__external_id")
    search_exact = ("order__number",)
    search_help_text = ORDER_SEARCH_HELP
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    actions = ("retry_selected",)
    fields = ("shop", "order", "customer", "kind", "created_at", "status", "attempts",
              "processed_at", "error")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("shops.retry_intakeevent")

    @admin.display(description=gettext_lazy("error"))
    def short_error(self, event):
        lines = event.error.strip().splitlines()
        return lines[-1][:120] if lines else ""

    @admin.action(description=gettext_lazy("Retry failed order events"), permissions=["retry"])
    def retry_selected(self, request, queryset):
        ids = list(queryset.filter(status=IntakeStatus.FAILED).values_list("pk", flat=True))
        count = intake.events_retry(event_ids=ids)
        self.message_user(request, _("%(n)d failed order events queued again.") % {"n": count})


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("shop", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(ShopScopedAdmin):
    """Storefront API keys: the key is shown once, on the page after "Save"; only its hash
    is kept. Revoking is immediate; a revoked token cannot be used again."""

    list_display = ("name", "shop", "prefix", "created_at", "created_by", "last_used_at",
                    "revoked_at")
    list_filter = ("shop", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("shop", "created_by")
    search_fields = ("name", "prefix")
    readonly_fields = ("shop", "prefix", "created_at", "created_by", "last_used_at",
                       "revoked_at")
    fields = ("shop", "name", "prefix", "created_at", "created_by", "last_used_at",
              "revoked_at")
    actions = ("revoke_selected",)
    export_exclude = ("key_hash",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
            kwargs["fields"] = ApiTokenAddForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return self.fields if obj is not None else ApiTokenAddForm.Meta.fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        obj.created_by = request.user
        obj._key = tokens.api_token_issue(obj)

    def response_add(self, request, obj, post_url_continue=None):
        # The key exists only in this response: never in a message, the session or a log.
        response = TemplateResponse(request, "admin/shops/apitoken/key_once.html", {
            **self.admin_site.each_context(request),
            "title": _("API token created"), "token": obj, "key": obj._key,
            "opts": self.opts,
        })
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=gettext_lazy("Revoke selected API tokens"),
                  permissions=("change",))
    def revoke_selected(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            if tokens.api_token_revoke(token=token):
                revoked += 1
                self.log_change(request, token, _("Revoked."))
        self.message_user(request, _("%(n)d API tokens revoked.") % {"n": revoked})


admin.site.site_header = gettext_lazy("Patron loyalty back office")
admin.site.site_title = gettext_lazy("Patron")
admin.site.index_title = gettext_lazy("Shops, customers and loyalty")
