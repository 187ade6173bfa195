"""Segment membership: computed set-based and stored (SegmentMember) with when it was computed.

A full refresh (nightly, after the categories) aggregates the shop's counted orders once into
a snapshot table and writes, per segment, the difference with the stored membership in two
statements (loyalty.segment_sql). A customer's refresh (after their counted orders change, on
registration) measures that customer with loyalty.figures.load and decides with the pure
loyalty.membership, the reference the SQL is tested against. Unchanged memberships are not
rewritten, so a member row's `computed_at` says since when the customer is in; the segment's
`computed_at` says when its membership was last computed for every customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from shops.models import Customer, Shop

from . import figures as figures_db
from . import segment_sql, selectors
from .conditions import RuleSpec, needs_of
from .membership import BUILT_IN, SegmentSpec, memberships
from .models import BuiltInSegment, Condition, Rule, Segment, SegmentMember


@dataclass
class RefreshSummary:
    examined: int = 0
    joined: int = 0
    left: int = 0

    def as_dict(self) -> dict:
        return {"examined": self.examined, "joined": self.joined, "left": self.left}


@transaction.atomic
def segments_ensure_built_in(*, shop: Shop) -> list[Segment]:
    """Create the shop's missing built-in segments with their rules; returns those created."""
    present = set(
        Segment.objects.filter(shop=shop).exclude(built_in="").values_list("built_in", flat=True)
    )
    created = []
    for code, rules in BUILT_IN.items():
        if code in present:
            continue
        label = BuiltInSegment(code).label
        segment = Segment.objects.create(
            shop=shop, code=code, built_in=code, name=str(label),
        )
        for number, conditions in enumerate(rules, start=1):
            rule = Rule.objects.create(segment=segment, name=f"{label} ({number})")
            Condition.objects.bulk_create(Condition(rule=rule, **spec) for spec in conditions)
        created.append(segment)
    return created


def shop_segments(shop: Shop) -> list[SegmentSpec]:
    """The shop's segments with their rules as plain specs: three queries."""
    segments = Segment.objects.filter(shop=shop).order_by("pk").prefetch_related(
        "rules__conditions"
    )
    return [
        SegmentSpec(
            id=s.pk, code=s.code,
            rules=tuple(
                RuleSpec(
                    id=r.pk, name=r.name,
                    conditions=tuple(selectors.condition_spec(c) for c in r.conditions.all()),
                )
                for r in s.rules.all()
            ),
        )
        for s in segments
    ]


def _sync(wanted: set[tuple[int, int]], stored, *, when) -> tuple[
    set[tuple[int, int]], set[tuple[int, int]]
]:
    """Write the difference between `wanted` and the `stored` memberships (a queryset of
    SegmentMember limited to the customers just measured)."""
    current = set(stored.order_by().values_list("segment_id", "customer_id"))
    leaving = current - wanted
    joining = wanted - current
    by_segment: dict[int, list[int]] = {}
    for segment_id, customer_id in leaving:
        by_segment.setdefault(segment_id, []).append(customer_id)
    for segment_id, customer_ids in by_segment.items():
        SegmentMember.objects.filter(
            segment_id=segment_id, customer_id__in_ids=customer_ids
        ).delete()
    if joining:
        SegmentMember.objects.bulk_create(
            (SegmentMember(segment_id=s, customer_id=c, computed_at=when)
             for s, c in sorted(joining)),
            batch_size=1000, ignore_conflicts=True,
        )
    return joining, leaving


def segments_refresh(*, shop: Shop, as_of: date | None = None) -> RefreshSummary:
    """Recompute every segment of the shop for every customer, in SQL (loyalty.segment_sql):
    per segment one DELETE of the members who left and one INSERT ... SELECT of those who
    joined, each atomic."""
    segments_ensure_built_in(shop=shop)
    as_of = as_of or shop.today()
    specs = shop_segments(shop)
    started = timezone.now()
    summary = RefreshSummary(examined=Customer.objects.filter(shop=shop).count())
    with segment_sql.Snapshot(shop, specs, as_of) as snapshot:
        for spec in specs:
            with transaction.atomic():
                joined, left = snapshot.write(spec, when=timezone.now())
            summary.joined += joined
            summary.left += left
    _store_counts(shop, computed_at=started)
    return summary


def _store_counts(shop: Shop, *, computed_at=None) -> None:
    counts = dict(
        SegmentMember.objects.filter(segment__shop=shop).order_by().values("segment_id")
        .annotate(n=Count("pk")).values_list("segment_id", "n")
    )
    for segment in Segment.objects.filter(shop=shop).only("pk", "member_count", "computed_at"):
        fields = {"member_count": counts.get(segment.pk, 0)}
        if computed_at is not None:
            fields["computed_at"] = computed_at
        if any(getattr(segment, k) != v for k, v in fields.items()):
            Segment.objects.filter(pk=segment.pk).update(**fields)


@transaction.atomic
def customer_segments_refresh(*, customer_id: int, as_of: date | None = None) -> set[int]:
    """Recompute one customer's segments (after their counted orders changed, on
    registration). Returns the ids of the segments they are in."""
    customer = Customer.objects.select_related("shop").filter(pk=customer_id).first()
    if customer is None:
        return set()
    shop = customer.shop
    as_of = as_of or shop.today()
    specs = shop_segments(shop)  # a shop's built-ins appear with its first full refresh
    if not specs:
        return set()
    figures = figures_db.load(shop, needs_of(specs), as_of, customer_ids=[customer_id])
    wanted = memberships(specs, figures, as_of)
    stored = SegmentMember.objects.filter(customer_id=customer_id)
    joining, leaving = _sync(wanted, stored, when=timezone.now())
    # Counts follow by one, set-based; a full refresh recounts them exactly.
    for segment_ids, step in ((joining, 1), (leaving, -1)):
        if segment_ids:
            Segment.objects.filter(pk__in={s for s, _ in segment_ids}).update(
                member_count=F("member_count") + step
            )
    return {segment_id for segment_id, _ in wanted}


def customers_segments_refresh(
    *, shop: Shop, customer_ids, as_of: date | None = None
) -> RefreshSummary:
    """Recompute the segments of exactly these customers of the shop (the intake drain's
    refresh of a batch's customers): one figures query, the pure decision, the difference
    written set-based, member counts moved by the difference."""
    ids = sorted(set(customer_ids))
    summary = RefreshSummary(examined=len(ids))
    if not ids:
        return summary
    as_of = as_of or shop.today()
    specs = shop_segments(shop)
    if not specs:
        return summary
    figures = figures_db.load(shop, needs_of(specs), as_of, customer_ids=ids)
    wanted = memberships(specs, figures, as_of)
    stored = SegmentMember.objects.filter(customer_id__in_ids=ids)
    joining, leaving = _sync(wanted, stored, when=timezone.now())
    for pairs, step in ((joining, 1), (leaving, -1)):
        per_segment: dict[int, int] = {}
        for segment_id, _customer_id in pairs:
            per_segment[segment_id] = per_segment.get(segment_id, 0) + step
        for segment_id, delta in per_segment.items():
            Segment.objects.filter(pk=segment_id).update(member_count=F("member_count") + delta)
    summary.joined, summary.left = len(joining), len(leaving)
    return summary
