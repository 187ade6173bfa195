"""Requesting and running simulations (the admin and the Celery task call these)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shops.models import Shop

from ..models import LadderSource, SimulationRun, SimulationStatus
from . import engine, snapshot

log = logging.getLogger(__name__)

MAX_MONTHS = 36


def weeks_in(months: int) -> int:
    """12 months are 52 weeks; 6 are 26; 1 is 4."""
    return max(1, round(months * 52 / 12))


def simulation_request(
    *, shop: Shop, months: int = 12, last_week_end: date | None = None,
    ladder: dict | None = None, source: str = LadderSource.SAVED, triggered_by=None,
) -> SimulationRun:
    """Record a queued simulation of `ladder` (a snapshot; by default the shop's saved
    ladder) over the `months` before `last_week_end` (by default yesterday, the last
    complete day), and enqueue it after commit."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationError({"months": _("Simulate between 1 and %(max)d months.")
                               % {"max": MAX_MONTHS}})
    last = last_week_end or shop.today() - timedelta(days=1)
    if last >= shop.today():
        raise ValidationError({"last_week_end": _(
            "The last week must end before today: today is not over yet.")})
    ladder = ladder if ladder is not None else snapshot.take(shop)
    if not ladder["categories"]:
        raise ValidationError(_("The shop has no categories to simulate."))
    weeks = weeks_in(months)
    ends = engine.week_ends(last, weeks)
    run = SimulationRun.objects.create(
        shop=shop, source=source, ladder=ladder, months=months, first_week_end=ends[0],
        last_week_end=last, weeks_total=weeks, triggered_by=triggered_by,
    )
    from .. import tasks

    transaction.on_commit(lambda: tasks.simulate.delay(run.pk))
    return run


def simulation_run(*, run_id: int) -> SimulationRun | None:
    """Execute a queued simulation; progress (weeks done, the weeks' results) is saved
    after each week. A run that is not queued is left alone (a duplicate delivery)."""
    claimed = SimulationRun.objects.filter(pk=run_id, status=SimulationStatus.QUEUED).update(
        status=SimulationStatus.RUNNING, started_at=timezone.now(), weeks_done=0, results=[])
    if not claimed:
        return None
    run = SimulationRun.objects.select_related("shop").get(pk=run_id)
    ends = engine.week_ends(run.last_week_end, run.weeks_total)
    results: list[dict] = []

    def progress(week: engine.Week) -> None:
        results.append(week.as_json())
        SimulationRun.objects.filter(pk=run.pk).update(weeks_done=len(results), results=results)

    try:
        engine.replay(run.shop, run.ladder, ends, table=f"loyalty_sim_{run.pk}",
                      progress=progress)
    except engine.Unsupported as exc:
        _fail(run, str(exc))
        return run
    except Exception as exc:
        log.exception("simulation %s failed", run.pk)
        _fail(run, repr(exc)[:2000])
        raise
    SimulationRun.objects.filter(pk=run.pk).update(
        status=SimulationStatus.FINISHED, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def _fail(run: SimulationRun, error: str) -> None:
    SimulationRun.objects.filter(pk=run.pk).update(
        status=SimulationStatus.FAILED, finished_at=timezone.now(), error=error)
