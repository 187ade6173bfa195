"""The translatable reason messages of the views stay identical to the engine's English."""

from django.utils import translation
from django.utils.functional import Promise

from pricing import engine, messages


def test_every_reason_has_a_translatable_message_equal_to_the_engines():
    assert set(messages.REASON_MESSAGES) == set(engine.Reason)
    with translation.override("en"):
        for reason, text in engine.REASON_MESSAGES.items():
            assert isinstance(messages.REASON_MESSAGES[reason], Promise)
            assert messages.reason_message(reason) == text


def test_no_reason_has_no_message():
    assert messages.reason_message(None) == ""
