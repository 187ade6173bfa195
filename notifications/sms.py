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
- Cost is segments x price per segment, rounded half up to the cent once, on the message
  (`message_cost`); a bulk send's total is the sum of its messages' rounded costs.
"""

from decimal import ROUND_HALF_UP, Decimal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
CENT = Decimal("0.01")


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
