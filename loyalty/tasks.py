"""Celery tasks: thin, idempotent wrappers over loyalty.services."""

from celery import shared_task

from shops.models import Shop

from . import points, segments, services
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


@shared_task(acks_late=True)
def simulate(run_id: int) -> str | None:
    """A what-if simulation (loyalty.simulator); a redelivered one finds it claimed."""
    from .simulator import services as simulator

    run = simulator.simulation_run(run_id=run_id)
    return run.status if run else None
