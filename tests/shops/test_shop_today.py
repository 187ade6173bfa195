"""Rules, windows and quotes use the shop's date, not the server's."""

from datetime import UTC, date, datetime
from unittest import mock

from shops.models import Shop


def test_today_is_the_date_in_the_shops_time_zone():
    late_evening_utc = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=late_evening_utc):
        assert Shop(timezone="Asia/Tokyo").today() == date(2026, 3, 2)
        assert Shop(timezone="Europe/Warsaw").today() == date(2026, 3, 2)
        assert Shop(timezone="America/Lima").today() == date(2026, 3, 1)
