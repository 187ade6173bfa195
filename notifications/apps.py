from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from loyalty import events as loyalty_events
        from loyalty import nightly, statistics
        from loyalty.simulator import hooks as simulator_hooks
        from shops import events as shops_events

        from . import hooks, selectors, simulation

        loyalty_events.on_categories_changed(hooks.categories_changed)
        shops_events.on_figures_changed(hooks.figures_changed)
        statistics.add_section(selectors.notifications_sent)
        shops_events.on_intake(hooks.intake_batch)
        nightly.register_step("notices", hooks.nightly_notices, order=35)
        simulator_hooks.on_audience(simulation.audiences)
