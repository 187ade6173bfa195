"""The admin's home page: per shop the user sees, its customers per category, moves of the
last 7 days, the last and the next recalculation, messages waiting or failed, and links to
every tool (statistics, price a cart, CSV import, recalculate now, bulk send).

Composes each app's selectors; a fixed number of set-based queries whatever the number of
shops, customers or messages (tests/test_dashboard.py counts them). Installed on the admin
site by config/urls.py before its URLs are built.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from loyalty import selectors as loyalty_selectors
from notifications import selectors as notification_selectors
from shops.scoping import shops_for

#: "Moves in the last N days".
MOVES_DAYS = 7


def shop_overview(user, now=None) -> dict:
    now = now or timezone.now()
    shops = list(shops_for(user).order_by("code"))
    ids = [shop.pk for shop in shops]
    if not ids:
        return {"shop_rows": [], "nightly": None, "moves_days": MOVES_DAYS}
    categories = loyalty_selectors.categories_with_counts(ids)
    moves = loyalty_selectors.moves_since(ids, now - timedelta(days=MOVES_DAYS))
    runs = loyalty_selectors.last_runs(ids)
    messages = notification_selectors.messages_waiting(ids)
    rows = []
    for shop in shops:
        shop_categories = categories.get(shop.pk, [])
        rows.append({
            "shop": shop,
            "categories": shop_categories,
            "customers": sum(c["customers"] for c in shop_categories),
            "moves": moves.get(shop.pk, {"up": 0, "down": 0}),
            "last_run": runs.get(shop.pk),
            "messages": messages.get(shop.pk, {"waiting": 0, "failed": 0}),
        })
    return {
        "shop_rows": rows,
        "nightly": loyalty_selectors.next_nightly_recalculation(now),
        "moves_days": MOVES_DAYS,
    }


def install(site) -> None:
    """The site's index shows the overview above the list of models."""
    original = site.index

    def index(request, extra_context=None):
        context = {**shop_overview(request.user), **(extra_context or {})}
        return original(request, extra_context=context)

    site.index = index
    site.index_template = "admin/patron_index.html"
