from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = _("Shops")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import lookups
        from .admin_language import remember_on_login

        lookups.register()  # `__in_ids`: long id lists as one array parameter

        # UI state, not business flow: the staff user's language is put in the session once,
        # at login, so admin pages never query for it.
        user_logged_in.connect(remember_on_login, dispatch_uid="patron_admin_language")
