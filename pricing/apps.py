from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = _("Pricing")

    def ready(self):
        from shops import events

        from .selectors import shop_has_discounts

        events.on_shop_data(_("discount configurations"), shop_has_discounts)
