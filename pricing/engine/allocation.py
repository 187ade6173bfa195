"""Splitting an amount into whole minor units (allocation, not pricing).

Contract: ``allocate`` splits ``total`` in proportion to ``weights``: every share but the last
positive-weight one is truncated to the minor unit and the remainder goes to that last one,
so the shares are never negative (for a non-negative total) and always add up exactly.
``spread`` spreads an order-level amount over line values, capped at their sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from .inputs import ZERO


def allocate(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``: truncated shares, remainder on the last."""
    if len(weights) == 1:
        return [total]
    weight_sum = sum(weights, ZERO)
    shares = [ZERO] * len(weights)
    if not total or weight_sum <= 0:
        return shares
    last = len(weights) - 1
    while not weights[last] > 0:  # the last positive weight (there is one: the sum is > 0)
        last -= 1
    given = ZERO
    for i in range(last):
        weight = weights[i]
        if weight > 0:
            share = (total * weight / weight_sum).quantize(quantum, ROUND_DOWN)
            shares[i] = share
            given += share
    shares[last] = total - given
    return shares


def allocate_within(total: Decimal, limits: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """Like ``allocate`` with ``limits`` as weights, but no share exceeds its limit.

    ``total`` must not exceed ``sum(limits)``; limits and total are whole minor units.
    """
    shares = [
        min(s, limit) for s, limit in zip(allocate(total, limits, quantum), limits, strict=True)
    ]
    left = total - sum(shares, ZERO)
    for i, limit in enumerate(limits):  # the truncation remainder, where there is room
        if left <= 0:
            break
        room = min(limit - shares[i], left)
        shares[i] += room
        left -= room
    return shares


def spread(amount: Decimal, basis: Sequence[Decimal], quantum: Decimal) -> tuple[Decimal, ...]:
    """``amount`` over lines in proportion to ``basis``; an amount above the sum is capped."""
    if amount >= sum(basis, ZERO):
        return tuple(basis)
    return tuple(allocate(amount, basis, quantum))
