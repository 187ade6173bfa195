"""SMS segments at the GSM-7 and UCS-2 boundaries, and what they cost (no database)."""

from decimal import Decimal

import pytest

from notifications.sms import is_gsm7, message_cost, segments


def test_e12_150_character_cyrillic_sms_costs_3_03_uah():
    text = ("Знижка 20% для вас! " * 8)[:150]
    assert len(text) == 150
    assert message_cost(text, Decimal("1.01")) == (3, Decimal("3.03"))


@pytest.mark.parametrize(("length", "expected"), [
    (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_gsm7_text_is_160_alone_then_153_per_part(length, expected):
    assert segments("a" * length) == expected


@pytest.mark.parametrize(("length", "expected"), [
    (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4),
])
def test_ucs2_text_is_70_alone_then_67_per_part(length, expected):
    assert segments("ж" * length) == expected


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2():
    assert is_gsm7("Zażółć") is False  # ż, ó (GSM has ö, not ó), ł, ć
    assert segments("a" * 69 + "ł") == 1
    assert segments("a" * 70 + "ł") == 2
    assert segments("a" * 160) == 1


def test_gsm7_extension_characters_take_two_septets():
    assert segments("€" * 80) == 1  # 160 septets
    assert segments("€" * 80 + "a") == 2
    assert segments("[" * 81) == 2


def test_a_part_never_splits_an_escape_pair():
    # 152 + 2 + 152 = 306 septets would fit two parts of 153 if the € could be split.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 151 + "€" + "a" * 153) == 2


def test_a_part_never_splits_a_character_outside_the_bmp():
    assert segments("😀" * 35) == 1  # 70 UTF-16 units
    assert segments("😀" * 36) == 2
    # 66 + 2 + 66 = 134 units would fit two parts of 67 if the emoji could be split.
    assert segments("ж" * 66 + "😀" + "ж" * 66) == 3


def test_an_empty_text_is_billed_as_one_segment():
    assert segments("") == 1


def test_cost_is_rounded_half_up_once_per_message():
    assert message_cost("a" * 161, Decimal("0.0125")) == (2, Decimal("0.03"))
    assert message_cost("a", Decimal("0.005")) == (1, Decimal("0.01"))
