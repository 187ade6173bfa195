"""Stage 3, per-line stacking: prices the cart with one set of discounts.

Contract: ``price(facts, included)`` returns a ``Priced``: per line the exact value, the
rounded line total, the free units, whether the minimum price cut it, the discounts that made
it (exact amounts, before the floor) and the per-line rejections; the order total (sum of
rounded line totals); which exclusive discounts won a line and how many lines an exclusive
won. ``included`` must already be eligible and filtered one per kind. ``price(facts,
included, cache)``: the scenarios of one cart may share a ``cache`` (a dict) so that the best
exclusive discount on each line is found once per set of exclusive discounts.

Per line, in this order:

1. free units of special offers (a free unit is a gift: the one unit allowed below the
   minimum price; percentages and amounts then apply to the paid units);
2. the ``sum`` group: its percents (on the value after free units) and its amounts (spread
   on undiscounted line values) add up, capped at 100% of what is left. A promo code in
   ``sum`` mode is one of them: threshold 10% + code 10% is 20% off;
3. ``sequential`` discounts one after another on the reduced price, by (``position``, id),
   a promo code among them by its position. An amount in the chain is spread over the lines'
   values as they enter its step;
4. ``exclusive_if_higher``: each one alone on the undiscounted line (an amount spread on
   undiscounted values) against the combined result of all the others, both after the
   minimum price; the one leaving the lowest value (ties: more off, lower ``position``, id)
   applies alone, nothing else on that line, only if the line price it leaves (rounded to
   the minor unit, as the line total will be) is strictly lower; else it is rejected there
   (``exclusive_not_higher``) and the discounts it beats get ``lost_to_exclusive``. An
   exclusive that would take less than a minor unit off the line's price must not win it:
   it would change nothing the customer pays, yet push out the others' free shipping,
   gifts and points;
5. the minimum price floor: each paid unit costs at least ``min(minimum_price, unit_price)``;
   no line is ever negative or above its undiscounted value;
6. rounding, once: ``line_total = round_half_up(exact value)``.

A promo code's cap (``PromoCode.max_discount_percent`` / ``max_discount_amount``) is applied
on the rounded result: when the order's discount is above it, the code gives back the excess
(down to nothing), from its own share only, line by line in proportion to that share; nothing
else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .allocation import allocate, allocate_within, spread
from .eligibility import Candidate
from .inputs import ZERO, Facts, Reason


@dataclass(slots=True)
class LineResult:
    value: Decimal  # exact, after floor
    total: Decimal  # rounded (after a code's give-back)
    free_quantity: int
    cut: bool
    contributions: list[tuple[Candidate, Decimal]]
    winner: Candidate | None = None  # the exclusive discount that applies alone here
    beaten: list[tuple[Candidate, Decimal]] | None = None  # what it beat (when it won)
    give_back: Decimal = ZERO  # what a capped code gave back on this line (rounded)
    # line_shares' allocation, kept because both the cap and the breakdown ask for it; valid
    # across a give-back since total - give_back does not change
    allocated: list[Decimal] | None = None
    unfloored: Decimal = ZERO  # the exact value before the minimum price floor


@dataclass(slots=True)
class Priced:
    lines: list[LineResult] = field(default_factory=list)
    total: Decimal = ZERO
    won: set[int] = field(default_factory=set)  # id() of the exclusives that won a line
    exclusive_lines: int = 0  # lines won by an exclusive discount
    capped: set[int] = field(default_factory=set)  # id() of a code cut by its cap
    alone: list[tuple[Candidate, list[Decimal], tuple[int, ...] | None]] = field(
        default_factory=list
    )  # the exclusive discounts, with what each takes off each line alone

    def rejections(self, i: int) -> list[tuple[Candidate, Reason]]:
        """Line ``i``'s rejections (computed for the chosen scenario only)."""
        result = self.lines[i]
        if result.winner is None:
            return [(c, Reason.EXCLUSIVE_NOT_HIGHER) for c, offs, _ in self.alone if offs[i]]
        lost = [(c, Reason.LOST_TO_EXCLUSIVE) for c, _ in result.beaten]
        lost.extend(
            (c, Reason.LOST_TO_EXCLUSIVE)
            for c, offs, _ in self.alone
            if offs[i] and c is not result.winner
        )
        return lost


def _by_position(c: Candidate) -> tuple[int, str]:
    return c.sort_key


def _rates(c: Candidate, n: int) -> tuple[Decimal | None, ...]:
    return (c.rate,) * n if c.rates is None else c.rates


def price(
    facts: Facts,
    included: list[Candidate],
    cache: dict[tuple[int, ...], list[tuple[Candidate | None, Decimal, Decimal, int]]]
    | None = None,
) -> Priced:
    """``cache``: shared by the scenarios of one cart, which often have the same exclusive
    discounts, so that the best of them on each line is found once."""
    offers, sums, sequence, exclusive = [], [], [], []
    for c in included:
        if c.exclusive:
            exclusive.append(c)
        elif c.free is not None:
            offers.append(c)
        elif c.sequential:
            sequence.append(c)
        else:
            sums.append(c)
    for group in (offers, sums, sequence, exclusive):  # listing order never matters
        group.sort(key=_by_position)

    n = len(facts.lines)
    values = list(facts.base)
    contributions: list[list[tuple[Candidate, Decimal]]] = [[] for _ in range(n)]
    free_quantity = [0] * n
    for c in offers:
        for i, units in enumerate(c.free):
            if units:
                off = facts.lines[i].unit_price * units
                free_quantity[i] += units
                contributions[i].append((c, off))
                values[i] -= off
    if sums:
        lanes = [(c, _rates(c, n), c.shares) for c in sums]
        for i in range(n):
            value = values[i]
            parts = []
            total = ZERO
            for c, rates, shares in lanes:
                rate = rates[i]
                off = value * rate if rate else ZERO
                if shares is not None:
                    off += shares[i]
                if off:
                    parts.append((c, off))
                    total += off
            if total > value:  # the sum never goes beyond 100%
                scale = value / total
                parts = [(c, off * scale) for c, off in parts]
                total = value
            if parts:
                contributions[i].extend(parts)
                values[i] = value - total
    for c in sequence:
        shares = spread(c.amount, values, facts.quantum) if c.amount is not None else None
        rates = _rates(c, n)
        for i in range(n):
            value = values[i]
            rate = rates[i]
            off = value * rate if rate else ZERO
            if shares is not None:
                off += min(shares[i], value - off)
            if off:
                contributions[i].append((c, off))
                values[i] = value - off

    priced = Priced()
    priced.alone = alone = [(c, _alone(facts, c), c.free) for c in exclusive]
    if alone:
        key = tuple(id(c) for c in exclusive)
        bests = cache.get(key) if cache is not None else None
        if bests is None:
            bests = _best_alone(facts, exclusive)
            if cache is not None:
                cache[key] = bests
    lines, unit_floor, bases, quantum = facts.lines, facts.unit_floor, facts.base, facts.quantum
    append_line = priced.lines.append
    order_total = ZERO
    for i in range(n):
        line = lines[i]
        floor = unit_floor[i]
        value, free, made = values[i], free_quantity[i], contributions[i]
        winner = beaten = None
        if alone:
            base, quantity = bases[i], line.quantity
            others = floor * (quantity - free) if free else floor * quantity
            if value > others:
                others = value
            winner, best_price, best_off, best_units = bests[i]
            if winner is not None and best_price >= others.quantize(quantum, ROUND_HALF_UP):
                winner = None
            if winner is not None:
                beaten = made
                value, free, made = base - best_off, best_units, [(winner, best_off)]
                priced.won.add(id(winner))
                priced.exclusive_lines += 1
        floor_value = floor * (line.quantity - free)
        unfloored = value
        cut = value < floor_value
        if cut:
            value = floor_value
        line_total = value.quantize(quantum, ROUND_HALF_UP)
        order_total += line_total
        append_line(
            LineResult(value, line_total, free, cut, made, winner, beaten, unfloored=unfloored)
        )
    priced.total = order_total

    for c in included:
        if c.cap is not None:
            _apply_cap(facts, c, priced)
    return priced


def _alone(facts: Facts, c: Candidate) -> list[Decimal]:
    """What ``c`` alone takes off each line (exact, before the floor)."""
    if c.alone is not None:
        return c.alone
    if c.free is not None:
        offs = [line.unit_price * f for line, f in zip(facts.lines, c.free, strict=True)]
    else:
        rates = c.rates or [c.rate] * len(facts.base)
        offs = [
            base * rate if rate else ZERO for base, rate in zip(facts.base, rates, strict=True)
        ]
        if c.shares is not None:
            offs = [
                min(off + share, base)
                for off, share, base in zip(offs, c.shares, facts.base, strict=True)
            ]
    c.alone = offs
    return offs


def _best_alone(
    facts: Facts, exclusive: list[Candidate]
) -> list[tuple[Candidate | None, Decimal, Decimal, int]]:
    """Per line, the exclusive leaving the lowest value (ties: more off, then the first by
    position): (it, that value rounded half up to the minor unit, i.e. the line price it
    would leave, what it takes off, its free units); it is None where none of them takes
    anything."""
    alone_lanes = [(c, _alone_lanes(facts, c)) for c in exclusive]
    bests = []
    for i in range(len(facts.lines)):
        winner, best_final, best_off, best_units = None, ZERO, ZERO, 0
        for c, lanes in alone_lanes:
            lane = lanes[i]
            if lane is None:
                continue
            off, final, units = lane
            if winner is None or final < best_final or (final == best_final and off > best_off):
                winner, best_final, best_off, best_units = c, final, off, units
        if winner is not None:
            best_final = best_final.quantize(facts.quantum, ROUND_HALF_UP)
        bests.append((winner, best_final, best_off, best_units))
    return bests


def _alone_lanes(facts: Facts, c: Candidate) -> list[tuple[Decimal, Decimal, int] | None]:
    """Per line, ``c`` applied alone: (what it takes off, the value left after the floor, its
    free units), None where it takes nothing."""
    if c.alone_lanes is not None:
        return c.alone_lanes
    frees = c.free
    lanes: list[tuple[Decimal, Decimal, int] | None] = []
    for i, off in enumerate(_alone(facts, c)):
        if not off:
            lanes.append(None)
            continue
        floor, quantity = facts.unit_floor[i], facts.lines[i].quantity
        units = frees[i] if frees is not None else 0
        final = facts.base[i] - off
        lowest = floor * (quantity - units) if units else floor * quantity
        if final < lowest:
            final = lowest
        lanes.append((off, final, units))
    c.alone_lanes = lanes
    return lanes


def line_shares(facts: Facts, i: int, result: LineResult) -> list[Decimal]:
    """The rounded amount each discount on line ``i`` took (they add up to its discount)."""
    allocated = result.allocated
    if allocated is None:
        discount = facts.undiscounted[i] - result.total + result.give_back
        allocated = result.allocated = allocate(
            discount, [off for _, off in result.contributions], facts.quantum
        )
    if not result.give_back:
        return allocated  # the kept list itself: callers only read it
    shares = list(allocated)
    for k, (c, _) in enumerate(result.contributions):
        if c.cap is not None:
            shares[k] -= result.give_back
    return shares


def _apply_cap(facts: Facts, code: Candidate, priced: Priced) -> None:
    discount = facts.goods_total - priced.total
    if discount <= code.cap:
        return
    own = []
    for i, result in enumerate(priced.lines):
        shares = line_shares(facts, i, result)
        own.append(
            sum((s for (c, _), s in zip(result.contributions, shares, strict=True) if c is code),
                ZERO)
        )
    excess = min(discount - code.cap, sum(own, ZERO))
    if excess <= 0:
        return
    priced.capped.add(id(code))
    for result, back in zip(priced.lines, allocate_within(excess, own, facts.quantum),
                            strict=True):
        if back:
            result.give_back = back
            result.total += back
            priced.total += back
