"""Bonus and discount programs, points of an order, redemption and expiry. Pure: no ORM.

Contract
- A program's tiers are (from lifetime spend, percent); the tier that applies is the one with
  the highest start reached by the lifetime spend. Each program (tier ladder) says where a
  boundary belongs: ``inclusive`` ("from X", the default: a start is reached at `>=`, as
  every threshold in Patron) or ``above`` ("above X": reached only at `>`, so "2% up to
  1000, 3% above 1000" leaves exactly 1000 at 2%). A tier starting at 0 is reached by every
  spend under both: it is where each customer starts. No tier reached: None (a bonus
  program then gives no %, a discount program leaves the category's own percent).
- Points are whole numbers. An order earns `floor(value × percent / 100)` plus the points
  granted by its discounts (threshold tier). After returns an order keeps
  `floor(net value × percent / 100)` at the percent it earned at, plus the granted points
  while any of its value is kept; a full return, or the order no longer counting, leaves 0.
  Reversals are the difference, so successive partial returns never reverse more than
  was earned.
- Redemption: at most the balance, at most what the order costs, whole points; the value
  is points × value per point, rounded half up to the currency's minor unit (never above the
  order total, which is on that grid).
- Expiry (first in, first out): what expires by a cutoff is the points credited before it
  minus every point used since the start (spent, expired, reversed, taken by staff), capped
  by the balance. Running it again expires nothing more.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
ZERO = Decimal(0)


#: Where a tier's start belongs (``BonusProgram.boundary``, ``DiscountProgram.boundary``).
INCLUSIVE, ABOVE = "inclusive", "above"


@dataclass(frozen=True, slots=True)
class Tier:
    min_lifetime_spend: Decimal
    percent: Decimal


def reaches(lifetime_spend: Decimal, start: Decimal, boundary: str = INCLUSIVE) -> bool:
    """Whether `lifetime_spend` reaches a tier starting at `start` (see the contract)."""
    if boundary == ABOVE and start > 0:
        return lifetime_spend > start
    return lifetime_spend >= start


def tier_percent(
    tiers: Iterable[Tier], lifetime_spend: Decimal, boundary: str = INCLUSIVE
) -> Decimal | None:
    """The percent of the highest tier reached by `lifetime_spend`, or None."""
    reached = [t for t in tiers if reaches(lifetime_spend, t.min_lifetime_spend, boundary)]
    if not reached:
        return None
    return max(reached, key=lambda t: t.min_lifetime_spend).percent


def tier_errors(tiers: Iterable[tuple[Decimal | None, Decimal | None]]) -> dict[int, str]:
    """Position -> message for each invalid tier (start and percent, in the order listed):
    negative start, percent outside 0..100, a start already used (tiers of one program
    cannot overlap: each starts at its own amount and runs up to the next one)."""
    errors: dict[int, str] = {}
    seen: set[Decimal] = set()
    for i, (start, percent) in enumerate(tiers):
        if start is not None and start < 0:
            errors[i] = "negative"
        elif percent is not None and not ZERO <= percent <= HUNDRED:
            errors[i] = "percent"
        elif start is not None and start in seen:
            errors[i] = "duplicate"
        if start is not None:
            seen.add(start)
    return errors


def percent_points(value: Decimal, percent: Decimal | None) -> int:
    """Whole points for `value` at `percent` (rounded down)."""
    if not percent or value <= 0:
        return 0
    return int((value * percent / HUNDRED).to_integral_value(ROUND_DOWN))


def order_points(
    *, counted: bool, net_value: Decimal, percent: Decimal | None, granted: int = 0,
    earns_percent: bool = True,
) -> int:
    """The points an order should hold now (see the module contract)."""
    if not counted or net_value <= 0:
        return 0
    return (percent_points(net_value, percent) if earns_percent else 0) + granted


@dataclass(frozen=True, slots=True)
class Redemption:
    requested: int
    points: int
    value: Decimal
    #: Why fewer points than requested: "balance", "order_total", "not_redeemable" or "".
    capped_by: str = ""


def redeem(
    *, requested: int, balance: int, point_value: Decimal, total: Decimal, exponent: int = 2
) -> Redemption:
    """How many of the `requested` points an order of `total` can take, and their value."""
    if requested < 0:
        raise ValueError("points to redeem cannot be negative")
    if requested == 0:
        return Redemption(0, 0, ZERO, "")
    if point_value <= 0:
        return Redemption(requested, 0, ZERO, "not_redeemable")
    points, capped_by = requested, ""
    if points > max(balance, 0):
        points, capped_by = max(balance, 0), "balance"
    by_total = int((total / point_value).to_integral_value(ROUND_DOWN))
    if points > by_total:
        points, capped_by = by_total, "order_total"
    quantum = Decimal(1).scaleb(-exponent)
    value = (point_value * points).quantize(quantum, ROUND_HALF_UP)
    return Redemption(requested, points, value, capped_by)


def expiring(*, credited_before_cutoff: int, used: int, balance: int) -> int:
    """Points that expire now (see the module contract)."""
    return max(0, min(balance, credited_before_cutoff - used))


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when it
    is shorter: 31 March minus one month is 28/29 February)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
