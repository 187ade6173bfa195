"""Shop-scoped admin: staff users see and change only their shops' objects (SPEC section 8).

Every ModelAdmin and inline of a shop-owned model inherits `ShopScopedAdmin` or
`ShopScopedInline` and names the path from its model to the shop in `shop_path`
("shop", "customer__shop", "order__customer__shop", ...). The binding of staff users to
shops and the narrowing of querysets, form choices, autocomplete, actions and exports is
built on this (storefront API / shop-scoped staff issue).
"""

from django.contrib import admin
from django.db.models import QuerySet

from .models import Shop


def shops_for(user) -> QuerySet[Shop]:
    """The shops a staff user may see and change."""
    return Shop.objects.all()


class ShopScoped:
    #: The ORM path from the admin's model to its Shop.
    shop_path = "shop"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(**{f"{self.shop_path}__in": shops_for(request.user)})


class ShopScopedAdmin(ShopScoped, admin.ModelAdmin):
    pass


class ShopScopedInline(ShopScoped, admin.TabularInline):
    pass
