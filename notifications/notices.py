"""The two notices: "category at risk" and "close to the next category", once per episode.

Contract
- `notices_send(shop=, as_of=)` runs after the nightly recalculation. One statement finds
  the customers who can be at risk or close (notifications.notice_candidates: a superset,
  plus everyone with an open episode); an incremental night passes its own candidates
  instead. They are decided in batches (one transaction each). Per batch: the customers' keeping
  figures (loyalty.keeping_db: the figures' grouped query and one query for the counted
  orders in the window), their open episodes (one query), one UPDATE ending the episodes
  that reset, one INSERT of the new ones, and the outbox's bulk INSERT of their messages
  (notifications.services: consent, channels, the customer's language with its fallback).
- **At risk**: the customer's category is shown to customers, has "warn N days before"
  set (N > 0), and the last day the customer still qualifies (`keeps_until`) is at most N
  days away: ``keeps_until - as_of <= N``.
- **Close to the next category**: the next category up (shown to customers, open to
  automatic entry) has "close within an amount" and/or "within a share" set, the customer's
  own category (if any) is shown to customers, and the cheapest rule of the next category
  misses at most that amount or that share of its threshold (loyalty.keeping.is_close).
- **Episodes** (NoticeEpisode): a notice is sent when its episode opens and never again
  while it stays open, however often the scan runs. The episode is about one category (the
  one at risk, the one within reach); it ends (and a later situation opens a new one, with
  a new message) when the customer is no longer in that situation: they bought enough
  (no longer at risk / moved up), fell back or moved to another category, or the setting
  was switched off.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import translation

from loyalty import keeping_db
from loyalty import selectors as loyalty_selectors
from loyalty.keeping import Keeping, is_close
from loyalty.keeping_text import day_text, need_text
from loyalty.models import Category
from shops.languages import languages
from shops.models import Customer, Shop

from . import notice_candidates
from .models import Event, NoticeEpisode
from .points import points_for
from .rendering import Variables, category_name
from .services import Cause, _record

BATCH = 1000
AT_RISK, CLOSE = Event.CATEGORY_AT_RISK.value, Event.CLOSE_TO_NEXT.value


def at_risk(k: Keeping, category: Category | None, as_of: date) -> bool:
    return (
        category is not None and category.visible_to_customer and bool(category.at_risk_days)
        and k.keeps_until is not None and k.to_keep is not None
        and (k.keeps_until - as_of).days <= category.at_risk_days
    )


def close_to_next(k: Keeping, current: Category | None, target: Category | None) -> bool:
    if target is None or not target.visible_to_customer:
        return False
    if current is not None and not current.visible_to_customer:
        return False
    return is_close(k.to_next, amount=target.close_amount, percent=target.close_percent)


def _wanted(results: dict[int, Keeping], categories: dict[int, Category], as_of: date):
    """(customer id, event) -> (category id, Keeping) of the situations that hold now."""
    wanted = {}
    for customer_id, k in results.items():
        current = categories.get(k.category_id)
        if at_risk(k, current, as_of):
            wanted[(customer_id, AT_RISK)] = (k.category_id, k)
        if close_to_next(k, current, categories.get(k.next_category_id)):
            wanted[(customer_id, CLOSE)] = (k.next_category_id, k)
    return wanted


def _causes(shop: Shop, opened: list[NoticeEpisode], wanted, categories) -> list[Cause]:
    customers = Customer.objects.filter(pk__in_ids=[e.customer_id for e in opened]) \
        .select_related("shop", "category").in_bulk()
    points = points_for(customers)
    causes = []
    for episode in opened:
        customer = customers[episode.customer_id]
        _category_id, k = wanted[(episode.customer_id, episode.event)]
        langs = languages(customer=customer, shop=shop)
        pts = points.get(customer.pk)
        with translation.override(langs[0]):
            extra = (
                {"keeps_until": day_text(k.keeps_until),
                 "to_keep": need_text(k.to_keep, shop.currency)}
                if episode.event == AT_RISK else
                {"next_category": category_name(categories[episode.category_id], langs),
                 "to_next": need_text(k.to_next, shop.currency)}
            )
        causes.append(Cause(
            customer=customer, event=episode.event, key=f"notice:{episode.pk}",
            variables=Variables(
                customer_name=customer.name, shop_name=shop.name,
                new_category=category_name(customer.category, langs),
                balance=pts.balance if pts else 0, **extra,
            ),
        ))
    return causes


@transaction.atomic
def _batch(shop: Shop, as_of: date, steps, categories, visible, ids: list[int]) -> dict:
    results = keeping_db.load(shop, steps, as_of, visible=visible, customer_ids=ids)
    wanted = _wanted(results, categories, as_of)
    open_ = {
        (e.customer_id, e.event): e
        for e in NoticeEpisode.objects.filter(
            shop=shop, customer_id__in_ids=ids, ended_on__isnull=True
        )
    }
    ended = [e.pk for key, e in open_.items()
             if key not in wanted or wanted[key][0] != e.category_id]
    if ended:
        NoticeEpisode.objects.filter(pk__in_ids=ended).update(ended_on=as_of)
    opened = NoticeEpisode.objects.bulk_create([
        NoticeEpisode(shop=shop, customer_id=customer_id, event=event, category_id=category_id,
                      keeps_until=k.keeps_until if event == AT_RISK else None,
                      opened_on=as_of)
        for (customer_id, event), (category_id, k) in wanted.items()
        if (customer_id, event) not in open_ or open_[(customer_id, event)].pk in ended
    ])
    messages = _record(shop, _causes(shop, opened, wanted, categories)) if opened else 0
    return {
        "at_risk": sum(e.event == AT_RISK for e in opened),
        "close_to_next": sum(e.event == CLOSE for e in opened),
        "ended": len(ended), "messages": messages,
    }


def notices_send(
    *, shop: Shop, as_of: date | None = None, batch: int = BATCH,
    customer_ids: set[int] | None = None, prefiltered: bool = True,
) -> dict:
    """Open the episodes that start today and send their messages; end those that reset.
    Safe to run again the same day (nothing is sent twice). Returns counts.

    `customer_ids`: look at these customers only (an incremental night's candidates,
    which must include every customer whose situation can have changed since the last
    scan). Either way only those one statement finds (notifications.notice_candidates) are
    decided: the others are neither at risk nor close, and have no open episode.
    `prefiltered=False` decides for every one of `customer_ids` (the tests' reference)."""
    return _send(shop, as_of or shop.today(), Category.objects.filter(shop=shop).in_bulk(),
                 customer_ids=customer_ids, prefiltered=prefiltered, batch=batch)


def notices_for_night(night) -> dict:
    """The nightly step (loyalty.nightly, after the categories and segments): a full night
    looks at the whole shop, an incremental one at its candidates for the notices' day
    edges (notice_candidates.notice_edges)."""
    shop = night.shop
    categories = Category.objects.filter(shop=shop).in_bulk()
    ladder = None if night.full else loyalty_selectors.ladder(shop)
    found = None if ladder is None else night.candidates(
        edges=notice_candidates.notice_edges(ladder, categories))
    if found is None:
        return {"pass": "full", **_send(shop, night.as_of, categories)}
    ids, sources = found
    return {"pass": "incremental",
            **_send(shop, night.as_of, categories, ladder=ladder, customer_ids=ids),
            "sources": sources}


def _send(shop: Shop, as_of: date, categories: dict[int, Category], *, ladder=None,
          customer_ids: set[int] | None = None, prefiltered: bool = True,
          batch: int = BATCH) -> dict:
    totals = {"examined": 0, "at_risk": 0, "close_to_next": 0, "ended": 0, "messages": 0}
    enabled = any(c.visible_to_customer and (c.at_risk_days or c.close_amount is not None
                                             or c.close_percent) for c in categories.values())
    if not enabled and not NoticeEpisode.objects.filter(
        shop=shop, ended_on__isnull=True
    ).exists():
        return totals
    steps = ladder or loyalty_selectors.ladder(shop)
    visible = {pk for pk, c in categories.items() if c.visible_to_customer}
    if prefiltered or customer_ids is None:
        customer_ids = notice_candidates.candidates(shop, steps, categories, visible, as_of,
                                                    among=customer_ids)
    ordered = sorted(customer_ids)
    totals["examined"] = len(ordered)
    for i in range(0, len(ordered), batch):
        chunk = ordered[i:i + batch]
        for name, n in _batch(shop, as_of, steps, categories, visible, chunk).items():
            totals[name] += n
    return totals
