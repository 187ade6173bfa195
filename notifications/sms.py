"""SMS segments and cost. Pure: no database, no settings.

Contract:

- A text made only of GSM 03.38 characters is sent in GSM-7: one segment holds 160
  septets; a longer text is split into parts of 153 septets (7 go to the concatenation
  header). Characters of the extension table (``^{}\\[~]|€`` and form feed) take two
  septets, and a part never splits such a pair.
- Any other character makes the whole text UCS-2: one segment holds 70 UTF-16 code units,
  a longer text parts of 67. A character outside the Basic Multilingual Plane (most emoji)
  takes two code units, and a part never splits it.
- An empty text is one segment: the provider bills it as one.
- Billing (`Tariff`): either per SMS segment (the segments above) or per N characters (as
  Skyservice bills: "1.01 per 70 characters", whatever the alphabet). Characters are the
  text's Unicode characters as the customer sees them (an emoji is one); a started block of
  N is a whole unit; an empty text is one unit.
- Cost is billed units x price per unit, rounded half up to the cent once, on the message
  (`message_cost`, `tariff_cost`); a bulk send's total is the sum of its messages' rounded
  costs.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
CENT = Decimal("0.01")

#: Billing rules (``ChannelSettings.sms_billing``).
PER_CHARACTERS, PER_SEGMENT = "characters", "segment"
DEFAULT_CHARACTERS = 70


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str) -> tuple[list[int], int, int]:
    """Each character's size in the text's encoding, with that encoding's limits."""
    if is_gsm7(text):
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM7_SINGLE, GSM7_PART
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text], UCS2_SINGLE, UCS2_PART


def segments(text: str) -> int:
    """How many SMS segments `text` is sent (and billed) as."""
    sizes, single, part = _units(text)
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > part:  # this character opens the next part, whole
            count += 1
            used = 0
        used += size
    return count


def message_cost(text: str, price_per_segment: Decimal) -> tuple[int, Decimal]:
    """(segments, cost rounded half up to the cent) of one SMS."""
    count = segments(text)
    return count, (price_per_segment * count).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Tariff:
    """How a shop's SMS are billed: ``rule`` (PER_CHARACTERS or PER_SEGMENT), the price of
    one unit in the shop's currency, and N for the per-characters rule."""

    rule: str
    price: Decimal
    characters: int = DEFAULT_CHARACTERS


def billed_units(text: str, tariff: Tariff) -> int:
    """How many units `text` is billed as under `tariff` (see the contract)."""
    if tariff.rule == PER_SEGMENT:
        return segments(text)
    return max(1, -(-len(text) // tariff.characters))


def tariff_cost(text: str, tariff: Tariff) -> tuple[int, int, Decimal]:
    """(segments sent, units billed, cost rounded half up to the cent) of one SMS."""
    units = billed_units(text, tariff)
    return segments(text), units, (tariff.price * units).quantize(CENT, rounding=ROUND_HALF_UP)
