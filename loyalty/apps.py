from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        from shops import events

        from . import events as loyalty_events
        from . import hooks

        events.on_figures_changed(hooks.figures_changed)
        events.on_intake(hooks.intake_batch)
        events.on_history_imported(hooks.history_imported)
        events.on_intake(hooks.statistics_batch)
        loyalty_events.on_categories_changed(hooks.statistics_moves)
