from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = _("Pricing")

    def ready(self):
        from loyalty.simulator import hooks as simulator_hooks
        from shops import events

        from .selectors import category_discount_client_types, shop_has_discounts

        events.on_shop_data(_("discount configurations"), shop_has_discounts)
        simulator_hooks.on_discount_client_types(category_discount_client_types)
