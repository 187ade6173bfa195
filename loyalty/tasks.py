"""Celery tasks: thin, idempotent wrappers over loyalty.services."""

from datetime import date

from celery import shared_task

from shops.models import Shop

from . import nightly, points, rollup, segments, services
from .models import PointsPolicy


@shared_task(acks_late=True)
def recalculate_shop(shop_id: int, run_id: int | None = None) -> dict:
    """Redelivered after a worker died (acks_late, the broker's visibility timeout): the run
    is taken over when its executor is dead, left alone while it is alive."""
    shop = Shop.objects.get(pk=shop_id)
    try:
        summary = services.categories_recalculate(shop=shop, run_id=run_id)
    except services.RecalculationBusy as exc:
        # Recorded as a skipped run with the reason (visible in the admin), not just here.
        return {"skipped": str(exc), "run": exc.run.pk if exc.run else None}
    refreshed = segments.segments_refresh(shop=shop)
    return {**summary.as_dict(), "segments": refreshed.as_dict()}


@shared_task
def recalculate_all_shops() -> list[int]:
    """Periodic (nightly by default, editable in the admin): one task per shop."""
    shop_ids = list(Shop.objects.values_list("pk", flat=True))
    for shop_id in shop_ids:
        recalculate_shop.delay(shop_id)
    return shop_ids


@shared_task(acks_late=True)
def recalculate_customer(customer_id: int) -> int | None:
    decision = services.customer_recalculate(customer_id=customer_id)
    return decision.to_id if decision else None


@shared_task(acks_late=True)
def expire_points_shop(shop_id: int) -> int:
    return points.points_expire(shop=Shop.objects.get(pk=shop_id))


@shared_task
def expire_points_all_shops() -> list[int]:
    """Periodic (nightly by default, editable in the admin): one task per shop whose points
    policy sets an expiry."""
    shop_ids = list(
        PointsPolicy.objects.filter(expiry_months__isnull=False).values_list("shop_id", flat=True)
    )
    for shop_id in shop_ids:
        expire_points_shop.delay(shop_id)
    return shop_ids


@shared_task(acks_late=True)
def refresh_customer_segments(customer_id: int) -> list[int]:
    return sorted(segments.customer_segments_refresh(customer_id=customer_id))


@shared_task(acks_late=True)
def refresh_shop_segments(shop_id: int) -> dict:
    return segments.segments_refresh(shop=Shop.objects.get(pk=shop_id)).as_dict()


# --- the night (loyalty.nightly), spread over workers -----------------------------------------

#: A full night of a shop with more customers than this splits its category step into key
#: ranges of about this many customers, one task each.
RANGE_SIZE = 200_000


@shared_task
def nightly_all_shops(as_of: str | None = None, full: bool = False) -> list[int]:
    """Periodic (nightly, editable in the admin; seeded by migration 0015): one task per
    shop, which any worker may take."""
    shop_ids = list(Shop.objects.order_by("pk").values_list("pk", flat=True))
    for shop_id in shop_ids:
        nightly_shop.delay(shop_id, as_of, full)
    return shop_ids


@shared_task(acks_late=True)
def nightly_shop(shop_id: int, as_of: str | None = None, full: bool = False) -> dict:
    """The shop's night: its steps in order, inline, unless it is a full pass of a big shop:
    then the steps before the categories run here, the category step fans out as key-range
    tasks, and the last range to finish enqueues `nightly_shop_finish` (a database counter:
    the project runs without a result backend, which a Celery chord needs)."""
    shop = Shop.objects.get(pk=shop_id)
    night = nightly.night_prepare(
        shop=shop, as_of=date.fromisoformat(as_of) if as_of else None, full=full)
    bounds = nightly.key_ranges(shop, RANGE_SIZE) if night.full else []
    if len(bounds) < 2:
        for step in nightly.steps():
            nightly.night_step(night, step)
        return nightly.night_finish(night)
    for step in nightly.steps_before("categories"):
        nightly.night_step(night, step)
    nightly.night_park(night, pending=len(bounds))
    for lo, hi in bounds:
        nightly_range.delay(shop_id, lo, hi)
    return {"shop": shop.code, "ranges": bounds}


@shared_task(acks_late=True)
def nightly_range(shop_id: int, lo: int, hi: int) -> dict:
    """One key range (lo, hi] of a full night's category step (exact: the set-based
    recalculation works per batch of customers already)."""
    shop = Shop.objects.get(pk=shop_id)
    result = nightly.range_run(shop=shop, id_range=(lo, hi))
    if nightly.range_done(shop=shop, id_range=(lo, hi), result=result):
        nightly_shop_finish.delay(shop_id)
    return result


@shared_task(acks_late=True)
def nightly_shop_finish(shop_id: int) -> dict:
    """The steps after the categories (segments, others' steps) and the night's record."""
    return nightly.night_resume(shop=Shop.objects.get(pk=shop_id))


@shared_task
def statistics_today() -> dict:
    """Periodic (every 5 minutes by default): today's moves and points so far into the
    statistics rollup, so that the page counts only the last minutes from the source rows."""
    return rollup.statistics_today()


@shared_task(acks_late=True)
def simulate(run_id: int) -> str | None:
    """A what-if simulation (loyalty.simulator); a redelivered one finds it claimed."""
    from .simulator import services as simulator

    run = simulator.simulation_run(run_id=run_id)
    return run.status if run else None
