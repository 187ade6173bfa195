"""The night: one entry point for everything that runs per shop each night.

A night is an ordered list of registered *steps* (points expiry, category recalculation with
its messages, segment refresh; other apps add theirs with `register_step`, e.g. a statistics
rollup, from their AppConfig.ready()). `manage.py nightly` runs them inline; beat runs the
same steps as Celery tasks (loyalty.tasks.nightly_all_shops), one shop per task and, for a
big shop's full pass, the category step split into key ranges of customer ids.

Incremental by default: a shop's `NightlyState` remembers what its last pass covered (its
day, when it started, the highest ids it had seen); a night re-examines only the customers
loyalty.incremental finds as possibly changed since. A full pass runs instead when asked
(`--full`), on a shop's first night, when `full_pass_needed` marked the shop (rule,
category, segment or points policy edits in the admin), when what the results depend on
besides the facts changed (a digest of the rules, categories, segments, points policy and
time zone, so no edit path is missed), or when the day goes back. The property tests
(tests/loyalty/test_nightly_property.py) hold an incremental night equal to a full one.

A step is `run(night) -> dict of row counts`; `night.full` says which pass this is, and
`night.candidates(holders)` gives an incremental step its customers (None in a full pass).
A step that cannot finish its work (a busy recalculation) sets `night.keep_full`: the next
night is then a full pass.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from shops.models import Customer, IntakeEvent, Shop

from . import incremental, points, rollup, segments, selectors, services
from .figures import local_midnight
from .models import Category, CategoryChange, NightlyState, PointsEntry, PointsPolicy, Segment

#: Customers per recalculation of candidates (one figures query, one write each). A
#: figures query over all history reads the shop's orders whatever the chunk's size, so
#: chunks are large where the database takes large parameter lists.
CHUNK = {"postgresql": 30_000}
CHUNK_DEFAULT = 5000
#: A step whose candidates exceed this share of the shop's customers runs in full: one
#: pass over everything is then cheaper than many lookups by id.
FULL_SHARE = 0.3
#: ...in a shop of at least this many customers (below, lookups by id are cheap anyway).
FULL_SHARE_FROM = 10_000


# --- the step registry ----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    run: Callable[[Night], dict]


_steps: list[Step] = []


def register_step(name: str, run: Callable[[Night], dict], *, order: int) -> None:
    """Add a step to every night, in `order` (expiry 10, categories 20, segments 30); a
    step registered again under its name replaces the first."""
    _steps[:] = [s for s in _steps if s.name != name]
    _steps.append(Step(name, order, run))
    _steps.sort(key=lambda s: s.order)


def steps() -> list[Step]:
    return list(_steps)


def steps_before(name: str) -> list[Step]:
    order = next(s.order for s in _steps if s.name == name)
    return [s for s in _steps if s.order < order]


def steps_after(name: str) -> list[Step]:
    order = next(s.order for s in _steps if s.name == name)
    return [s for s in _steps if s.order > order]


# --- the night -------------------------------------------------------------------------------


@dataclass
class Night:
    shop: Shop
    as_of: date
    #: The moment points expire against (now, or the end of `as_of` for a past day).
    now: datetime
    started_at: datetime
    full: bool
    reason: str
    #: The highest ids present when the night started (the next night's marks).
    marks: dict[str, int]
    digest: str
    #: What the last pass covered (None in a full pass).
    window: incremental.Window | None = None
    keep_full: bool = False
    results: list[dict] = field(default_factory=list)
    #: The per-night candidate sources' answers (loyalty.incremental.candidates).
    sources_seen: dict = field(default_factory=dict, repr=False)
    #: The shop's number of customers, counted once a night (for `_too_many`).
    customer_count: int | None = field(default=None, repr=False)

    def candidates(
        self, holders=(), *, edges: incremental.Edges | None = None
    ) -> tuple[set[int], dict[str, int]] | None:
        """The customers an incremental step re-examines for rules of `holders`
        (categories or segments), or for the day-relative lengths `edges`, with each
        source's count; None in a full pass."""
        if self.full or self.window is None:
            return None
        edges = edges or incremental.edges_of(holders, by_holding=True)
        window = replace(self.window, edges=edges)
        return incremental.candidates(window, cache=self.sources_seen)

    def as_json(self) -> dict:
        w = self.window
        return {
            "as_of": self.as_of.isoformat(), "now": self.now.isoformat(),
            "started_at": self.started_at.isoformat(), "full": self.full,
            "reason": self.reason, "marks": self.marks, "digest": self.digest,
            "keep_full": self.keep_full, "results": self.results,
            "window": None if w is None else {
                "last_as_of": w.last_as_of.isoformat(), "since": w.since.isoformat(),
                "last_entry_id": w.last_entry_id, "last_customer_id": w.last_customer_id,
                "last_change_id": w.last_change_id, "last_event_id": w.last_event_id,
                "last_now": w.last_now.isoformat() if w.last_now else None,
            },
        }

    @classmethod
    def from_json(cls, shop: Shop, data: dict) -> Night:
        as_of, now = parse_date(data["as_of"]), parse_datetime(data["now"])
        w = data["window"]
        window = None if w is None else incremental.Window(
            shop=shop, last_as_of=parse_date(w["last_as_of"]), as_of=as_of,
            since=parse_datetime(w["since"]), last_entry_id=w["last_entry_id"],
            last_customer_id=w["last_customer_id"], last_change_id=w["last_change_id"],
            last_event_id=w["last_event_id"],
            last_now=parse_datetime(w["last_now"]) if w.get("last_now") else None,
        )
        return cls(
            shop=shop, as_of=as_of, now=now, started_at=parse_datetime(data["started_at"]),
            full=data["full"], reason=data["reason"], marks=data["marks"],
            digest=data["digest"], window=window, keep_full=data["keep_full"],
            results=list(data["results"]),
        )


def config_digest(shop: Shop) -> str:
    """A digest of what a night's results depend on besides the facts. Names are left out
    (they are translated, and do not change any decision)."""
    ladder = selectors.ladder(shop)
    parts = [
        shop.timezone,
        repr(PointsPolicy.objects.filter(shop=shop).values_list("expiry_months", flat=True)
             .first()),
        repr([(c.id, c.rank, c.is_default, c.auto_enter, c.auto_leave, c.grace_days,
               c.reevaluate_on,
               [(r.id, r.conditions) for r in c.rules]) for c in ladder.categories]),
        repr([(s.id, s.code, [(r.id, r.conditions) for r in s.rules])
              for s in segments.shop_segments(shop)]),
        # The notices' settings (notifications.notices scans incrementally too).
        repr(list(Category.objects.filter(shop=shop).order_by("pk").values_list(
            "pk", "visible_to_customer", "at_risk_days", "close_amount", "close_percent"))),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _marks() -> dict[str, int]:
    def top(model) -> int:
        return model.objects.aggregate(m=Max("pk"))["m"] or 0

    return {"entry": top(PointsEntry), "customer": top(Customer),
            "change": top(CategoryChange), "event": top(IntakeEvent)}


def _moment(shop: Shop, as_of: date) -> datetime:
    """Now, or the end of `as_of` when it is a past day (an explicit --as-of)."""
    now = timezone.now()
    end = local_midnight(shop, as_of + timedelta(days=1))
    return min(now, end)


def full_pass_needed(*, shop_id: int, reason: str) -> None:
    """Mark the shop: its next night is a full pass (called by the services and admin
    saves that edit rules, categories, segments or the points policy)."""
    now = timezone.now()
    updated = NightlyState.objects.filter(shop_id=shop_id).update(
        full_needed=True, full_reason=reason[:200], marked_at=now)
    if not updated:
        NightlyState.objects.get_or_create(
            shop_id=shop_id, defaults={"full_reason": reason[:200], "marked_at": now})


def night_prepare(
    *, shop: Shop, as_of: date | None = None, full: bool = False, now: datetime | None = None
) -> Night:
    """Decide this night's pass for the shop: full (and why) or incremental (from what)."""
    as_of = as_of or shop.today()
    now = now or _moment(shop, as_of)
    state, _created = NightlyState.objects.get_or_create(shop=shop)
    segments.segments_ensure_built_in(shop=shop)  # before the digest: they belong to it
    digest = config_digest(shop)
    reason = ""
    if full:
        reason = _("Full pass requested.")
    elif state.last_as_of is None:
        reason = _("First night of the shop.")
    elif state.full_needed:
        reason = state.full_reason or _("Marked for a full pass.")
    elif state.config_digest != digest:
        reason = _("Rules, categories, segments, the points policy or the time zone changed.")
    elif as_of < state.last_as_of or (state.last_now and now < state.last_now):
        reason = _("The day is earlier than the last night's.")
    night = Night(shop=shop, as_of=as_of, now=now, started_at=timezone.now(),
                  full=bool(reason), reason=reason, marks=_marks(), digest=digest)
    if not night.full:
        night.window = incremental.Window(
            shop=shop, last_as_of=state.last_as_of, as_of=as_of,
            since=state.last_started_at - incremental.FRESHNESS_MARGIN,
            last_entry_id=state.last_entry_id, last_customer_id=state.last_customer_id,
            last_change_id=state.last_change_id, last_event_id=state.last_event_id,
            last_now=state.last_now,
        )
    return night


def night_step(night: Night, step: Step) -> dict:
    started = time.perf_counter()
    rows = step.run(night)
    result = {"step": step.name, "seconds": round(time.perf_counter() - started, 3), **rows}
    night.results.append(result)
    return result


def night_finish(night: Night) -> dict:
    """Record what this night covered (the next night starts from it); the summary."""
    summary = night_summary(night)
    with transaction.atomic():
        state = NightlyState.objects.select_for_update().get(shop=night.shop)
        marked_meanwhile = state.marked_at is not None and state.marked_at > night.started_at
        keep = night.keep_full or marked_meanwhile
        state.full_needed = keep
        if not keep:
            state.full_reason = ""
        state.last_as_of, state.last_started_at = night.as_of, night.started_at
        state.last_finished_at, state.last_now = timezone.now(), night.now
        state.last_entry_id, state.last_customer_id = night.marks["entry"], night.marks["customer"]
        state.last_change_id, state.last_event_id = night.marks["change"], night.marks["event"]
        state.config_digest, state.last_summary = night.digest, summary
        state.pending_ranges, state.running = 0, None
        state.save()
    return summary


def night_summary(night: Night) -> dict:
    return {
        "shop": night.shop.code, "as_of": night.as_of.isoformat(),
        "pass": "full" if night.full else "incremental", "reason": night.reason,
        "steps": night.results,
        "seconds": round(sum(r["seconds"] for r in night.results), 3),
    }


def night_run(
    *, shop: Shop, as_of: date | None = None, full: bool = False, now: datetime | None = None
) -> dict:
    """Run every registered step for the shop, in order; returns the JSON summary."""
    night = night_prepare(shop=shop, as_of=as_of, full=full, now=now)
    for step in steps():
        night_step(night, step)
    return night_finish(night)


# --- a full night spread over workers (loyalty.tasks) -------------------------------------------


def key_ranges(shop: Shop, size: int) -> list[tuple[int, int]]:
    """(lo, hi] ranges of the shop's customer ids, as many as `size` customers per range
    needs and of equal length: one count and one query (every n-th id by a window
    function)."""
    total = Customer.objects.filter(shop=shop).count()
    if total == 0:
        return []
    parts = -(-total // size)
    size = -(-total // parts)
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n"  # noqa: S608
            f" FROM {table} WHERE shop_id = %s) t WHERE n %% %s = 0 ORDER BY id",
            [shop.pk, size])
        cuts = [row[0] for row in cursor.fetchall()]
    top = Customer.objects.filter(shop=shop).aggregate(m=Max("pk"))["m"]
    if top is None:
        return []
    if not cuts or cuts[-1] != top:
        cuts.append(top)
    return list(zip([0, *cuts[:-1]], cuts, strict=True))


def night_park(night: Night, *, pending: int) -> None:
    """Store the night under way while its key ranges run elsewhere."""
    NightlyState.objects.filter(shop=night.shop).update(
        running={**night.as_json(), "ranges": {}}, pending_ranges=pending)


def range_run(*, shop: Shop, id_range: tuple[int, int]) -> dict:
    running = NightlyState.objects.get(shop=shop).running
    as_of = parse_date(running["as_of"])
    started = time.perf_counter()
    summary = services.categories_recalculate(shop=shop, as_of=as_of, id_range=id_range)
    return {"seconds": round(time.perf_counter() - started, 3), **summary.as_dict()}


def range_done(*, shop: Shop, id_range: tuple[int, int], result: dict) -> bool:
    """Record a finished range; True for the one that finishes the last (a range
    delivered twice is counted once)."""
    key = f"{id_range[0]}-{id_range[1]}"
    with transaction.atomic():
        state = NightlyState.objects.select_for_update().get(shop=shop)
        if state.running is None or key in state.running["ranges"]:
            return False
        state.running["ranges"][key] = result
        state.pending_ranges -= 1
        state.save(update_fields=["running", "pending_ranges"])
        return state.pending_ranges == 0


def night_resume(*, shop: Shop) -> dict:
    """After the last range: the category step's total, the later steps, the record."""
    running = NightlyState.objects.get(shop=shop).running
    night = Night.from_json(shop, running)
    ranges = list(running["ranges"].values())
    total = {"step": "categories", "pass": "full", "ranges": len(ranges),
             "seconds": round(sum(r["seconds"] for r in ranges), 3)}
    for name in ("examined", "moved_up", "moved_down", "unchanged", "skipped_locked"):
        total[name] = sum(r[name] for r in ranges)
    night.results.append(total)
    for step in steps_after("categories"):
        night_step(night, step)
    return night_finish(night)


# --- the built-in steps ----------------------------------------------------------------------


def _chunks(ids: set[int]):
    ordered = sorted(ids)
    size = CHUNK.get(connection.vendor, CHUNK_DEFAULT)
    for i in range(0, len(ordered), size):
        yield ordered[i:i + size]


def _too_many(night: Night, ids: set[int]) -> bool:
    if len(ids) <= FULL_SHARE * FULL_SHARE_FROM:
        return False
    if night.customer_count is None:
        night.customer_count = Customer.objects.filter(shop=night.shop).count()
    return len(ids) > FULL_SHARE * night.customer_count


def expiry_step(night: Night) -> dict:
    """Points expiry: incremental by itself (loyalty.points_expiry keeps its own mark, so it
    reads only the credits that crossed the cutoff since its last run and the entries written
    since), the same call for a full and an incremental night."""
    months = (PointsPolicy.objects.filter(shop=night.shop)
              .values_list("expiry_months", flat=True).first())
    if not months:
        return {"points_expired": 0}
    return {"points_expired": points.points_expire(shop=night.shop, now=night.now)}


def categories_step(night: Night) -> dict:
    ladder = selectors.ladder(night.shop)
    found = night.candidates(ladder.categories)
    if found is None or _too_many(night, found[0]):
        try:
            summary = services.categories_recalculate(shop=night.shop, as_of=night.as_of)
        except services.RecalculationBusy as exc:
            night.keep_full = True
            return {"skipped": str(exc)}
        return {"pass": "full", **summary.as_dict()}
    ids, sources = found
    up = down = 0
    for chunk in _chunks(ids):
        moved = services.customers_recalculate(
            shop=night.shop, customer_ids=chunk, as_of=night.as_of)
        ups = sum(1 for d in moved if d.direction > 0)
        up, down = up + ups, down + len(moved) - ups
    return {"pass": "incremental", "examined": len(ids), "moved_up": up, "moved_down": down,
            "sources": sources}


def segments_step(night: Night) -> dict:
    shop = night.shop
    created = segments.segments_ensure_built_in(shop=shop)
    found = None if created else night.candidates(segments.shop_segments(shop))
    if found is None or _too_many(night, found[0]):
        return {"pass": "full", **segments.segments_refresh(shop=shop, as_of=night.as_of)
                .as_dict()}
    ids, sources = found
    started = timezone.now()
    total = segments.RefreshSummary()
    for chunk in _chunks(ids):
        done = segments.customers_segments_refresh(
            shop=shop, customer_ids=chunk, as_of=night.as_of)
        total.examined += done.examined
        total.joined += done.joined
        total.left += done.left
    # Every customer's membership is now as of tonight (the others' could not change).
    Segment.objects.filter(shop=shop).update(computed_at=started)
    return {"pass": "incremental", **total.as_dict(), "sources": sources}


register_step("points_expiry", expiry_step, order=10)
register_step("categories", categories_step, order=20)
register_step("segments", segments_step, order=30)


def statistics_step(night: Night) -> dict:
    """The statistics rollup: the shop's days up to yesterday closed (loyalty.rollup)."""
    since = min(night.started_at, night.now)
    through = rollup.rollup_close_days(night.shop, night_since=since)
    return {"rolled_up_through": through.isoformat()}


register_step("statistics", statistics_step, order=40)
