"""Work on a category ladder as edited in a change form, without keeping the edit.

The preview (a dry run) and the what-if simulation both save the submitted form inside a
transaction that is rolled back, act on that saved state, and keep only what they computed.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from django.db import transaction


def on_edited_state(request, *, save: Callable, model, object_id, shop_path: str,
                    act: Callable):
    """`save()` runs the admin's change form view; when it saved (a redirect), `act(shop)`
    runs on the saved state and everything is rolled back. Returns (response, None, None)
    when the form has errors (the page to show), else (None, shop, what `act` returned)."""
    request._patron_preview = True  # nothing is saved: no "was changed successfully"
    with transaction.atomic():
        response = save()
        if response.status_code != 302:  # the form has errors: show them
            transaction.set_rollback(True)
            return response, None, None
        obj = model.objects.get(pk=object_id) if object_id else (
            model.objects.order_by("-pk").first())
        shop = attrgetter(shop_path)(obj)
        result = act(shop)
        transaction.set_rollback(True)
    return None, shop, result
