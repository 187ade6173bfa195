"""Demo staff access and a demo API key (called from shops.demo.build).

A staff user ``staff_pl`` / ``staff_pl`` bound to the ``pl`` shop only, with every
permission of the shops, loyalty and pricing apps, shows the scoped admin; one API key for the
``pl`` shop is created on the first run and printed (it cannot be shown again later).
"""

from typing import TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from . import tokens
from .models import ApiToken, Shop, ShopStaff

STAFF_USERNAME = "staff_pl"
STAFF_PASSWORD = "staff_pl"  # noqa: S105 - a local demo login, printed on purpose
DEMO_KEY_NAME = "demo storefront"


def build(*, stdout: TextIO) -> None:
    shop = Shop.objects.filter(code="pl").first()
    if shop is None:
        return
    users = get_user_model()
    staff = users._default_manager.filter(username=STAFF_USERNAME).first()
    if staff is None:
        staff = users._default_manager.create_user(
            username=STAFF_USERNAME, password=STAFF_PASSWORD, is_staff=True
        )
        staff.user_permissions.add(*Permission.objects.filter(
            content_type__app_label__in=["shops", "loyalty", "pricing"]))
        stdout.write(f"  staff user for shop pl only: {STAFF_USERNAME} / {STAFF_PASSWORD}\n")
    ShopStaff.objects.get_or_create(user=staff, shop=shop)
    if not ApiToken.objects.filter(shop=shop, name=DEMO_KEY_NAME).exists():
        _, key = tokens.api_token_create(shop=shop, name=DEMO_KEY_NAME)
        stdout.write(f"  API key for shop pl (shown once): {key}\n"
                     "  try: curl -H 'Authorization: Bearer <key>' "
                     "http://127.0.0.1:8000/api/v1/customers/C000001\n")
