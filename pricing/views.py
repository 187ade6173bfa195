"""The admin's "price a cart" page: a shop, a customer (or a client type), products with
quantities and an optional promo code -> the quote with its line-by-line breakdown, applied
and rejected discounts with their reasons in the merchant's language. Prices only: nothing is
written. Mounted by ``OrderDiscountAdmin.get_urls`` (URL name ``admin:pricing_price_cart``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import formset_factory
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shops.labels import ShopLabelledChoiceField
from shops.models import ClientType, Customer, Product, Shop
from shops.scoping import SHOP_CHOICES_JS, scope, shops_for

from . import engine, services
from .messages import STATUS_LABELS, reason_message
from .models import DiscountKind, OrderDiscount, PromoCodeUse


class PriceCartForm(forms.Form):
    shop = forms.ModelChoiceField(queryset=Shop.objects.all(), label=gettext_lazy("Shop"))
    customer = ShopLabelledChoiceField(
        queryset=Customer.objects.all(), required=False, label=gettext_lazy("Customer"),
        help_text=gettext_lazy("Searches the chosen shop's customers."),
    )
    client_type = forms.ChoiceField(
        choices=[("", "---------"), *ClientType.choices], required=False,
        label=gettext_lazy("or client type"),
        help_text=gettext_lazy("Used when no customer is chosen."),
    )
    promo_code = forms.CharField(
        max_length=64, required=False, label=gettext_lazy("Promo code")
    )
    today = forms.DateField(
        required=False, label=gettext_lazy("Date"), widget=AdminDateWidget,
        help_text=gettext_lazy("Empty: today in the shop's time zone."),
    )

    def __init__(self, *args, admin_site, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = shops_for(user)
        field = self.fields["customer"]
        field.queryset = scope(field.queryset, user)
        field.widget = AutocompleteSelect(PromoCodeUse._meta.get_field("customer"), admin_site)
        field.widget.choices = field.choices

    def clean(self):
        data = super().clean()
        shop, customer = data.get("shop"), data.get("customer")
        if shop and customer and customer.shop_id != shop.pk:
            self.add_error("customer", _("The customer belongs to another shop."))
        if not customer and not data.get("client_type") and "customer" not in self.errors:
            self.add_error("client_type", _("Choose a customer or a client type."))
        return data


class LineForm(forms.Form):
    product = ShopLabelledChoiceField(
        queryset=Product.objects.all(), label=gettext_lazy("Product")
    )
    quantity = forms.IntegerField(min_value=1, initial=1, label=gettext_lazy("Quantity"))

    def __init__(self, *args, admin_site, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        field.queryset = scope(field.queryset, user)
        field.widget = AutocompleteSelect(OrderDiscount._meta.get_field("product"), admin_site)
        field.widget.choices = field.choices

    def has_changed(self):
        # A row without a product is an unused row, whatever its quantity says.
        return bool(self.data.get(self.add_prefix("product")))


LineFormSet = formset_factory(LineForm, extra=5, min_num=1, validate_min=True)


@dataclass
class LineView:
    product: Product
    line: engine.QuoteLine
    unit_price: object
    undiscounted: object
    discount: object
    total: object
    final_unit_price: object
    applied: list[tuple[str, object]]
    rejected: list[tuple[str, str]]


def _present(result: services.CartQuote) -> dict:
    quote = result.quote
    names = {e.discount_id: e.name for e in quote.breakdown}
    kinds = dict(DiscountKind.choices)
    lines = [
        LineView(
            product=product,
            line=line,
            unit_price=result.money(line.unit_price),
            undiscounted=result.money(line.undiscounted_total),
            discount=result.money(line.discount_amount),
            total=result.money(line.line_total),
            final_unit_price=result.money(line.final_unit_price),
            applied=[(d.name, result.money(d.amount)) for d in line.discounts],
            rejected=[(names.get(r.discount_id, str(r.discount_id)), reason_message(r.reason))
                      for r in line.rejected],
        )
        for line, product in zip(quote.lines, result.products, strict=True)
    ]
    breakdown = [
        {
            "name": e.name, "kind": kinds.get(str(e.kind), e.kind),
            "status": STATUS_LABELS[e.status], "applied": e.status is engine.DiscountStatus.APPLIED,
            "amount": result.money(e.amount), "percent": e.percent,
            "message": reason_message(e.reason),
        }
        for e in quote.breakdown
    ]
    gifts = list(Product.objects.filter(pk__in=quote.gift_product_ids).order_by("sku"))
    return {
        "result": result, "lines": lines, "breakdown": breakdown, "gifts": gifts,
        "client_type_label": ClientType(result.client_type).label,
    }


def price_cart(request: HttpRequest, *, admin_site) -> HttpResponse:
    if not request.user.has_module_perms("pricing"):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    # ?shop=<id> (the home page's link) chooses the shop.
    form = PriceCartForm(data, admin_site=admin_site, user=request.user,
                         initial={"shop": request.GET.get("shop")})
    lines = LineFormSet(data, prefix="lines",
                        form_kwargs={"admin_site": admin_site, "user": request.user})
    context = {}
    if data is not None and form.is_valid() and lines.is_valid():
        cart = [
            (line["product"], line["quantity"])
            for line in lines.cleaned_data if line and not line.get("DELETE")
        ]
        try:
            result = services.cart_quote(
                shop=form.cleaned_data["shop"],
                customer=form.cleaned_data["customer"],
                client_type=form.cleaned_data["client_type"] or None,
                lines=cart,
                promo_code=form.cleaned_data["promo_code"] or None,
                today=form.cleaned_data["today"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                target = field if field in form.fields else None
                form.add_error(target, errors)
        else:
            context = _present(result)
    context.update({
        **admin_site.each_context(request),
        "title": _("Price a cart"),
        "form": form,
        "lines_formset": lines,
        # core.js first: the calendar (DateTimeShortcuts.js) needs it, as on admin forms.
        "media": (forms.Media(js=("admin/js/core.js",)) + form.media + lines.media
                  + forms.Media(js=SHOP_CHOICES_JS)),
        "opts": OrderDiscount._meta,
    })
    return TemplateResponse(request, "admin/pricing/price_cart.html", context)
