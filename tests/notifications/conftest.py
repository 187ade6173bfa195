import ipaddress
import socket
from dataclasses import dataclass, field

import pytest

from loyalty.models import Category
from notifications import addresses
from notifications.models import ChannelSettings
from shops.models import Shop
from tests.factories import CategoryFactory, ShopFactory

from .servers import HttpEndpoint, start_http, start_smtp

NAMES = {
    "Silver": {"en": "Silver", "pl": "Srebrny", "uk": "Срібний", "ru": "Серебряный",
               "fr": "Argent"},
    "Member": {"en": "Member", "pl": "Klient", "uk": "Клієнт", "ru": "Клиент", "fr": "Membre"},
}


@dataclass
class FakeDNS:
    """What names resolve to in these tests (no test asks the real DNS); IP literals
    resolve to themselves. `lookups` counts the questions asked."""

    names: dict[str, list[str]] = field(default_factory=lambda: {
        "bot.example.com": ["93.184.216.34"],
    })
    lookups: list[str] = field(default_factory=list)

    def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        try:
            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            pass
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.names[host]


@pytest.fixture(autouse=True)
def dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr(addresses, "resolve", fake.resolve)
    return fake


def translated_category(shop, name, rank, **flags) -> Category:
    names = {f"name_{lang}": value for lang, value in NAMES.get(name, {}).items()}
    return CategoryFactory(shop=shop, name=name, rank=rank, **names, **flags)


@dataclass
class Ladder:
    shop: Shop
    member: Category
    silver: Category
    blacklist: Category


@pytest.fixture
def ladder(db) -> Ladder:
    """A Ukrainian shop (UAH, default language uk) with Member (default), Silver and a
    hidden Blacklist."""
    shop = ShopFactory(code="ua", currency="UAH", default_language="uk",
                       timezone="Europe/Kyiv", name="Крамниця")
    return Ladder(
        shop=shop,
        member=translated_category(shop, "Member", 1, is_default=True),
        silver=translated_category(shop, "Silver", 2),
        blacklist=translated_category(shop, "Blacklist", 3, visible_to_customer=False),
    )


def use_sms(shop, *, categories_send=True, **fields) -> ChannelSettings:
    """Turn the shop's SMS channel on. `categories_send`: also switch on the welcome and
    after-order SMS of its existing categories (as the migration did for shops already
    sending SMS); the per-category switches themselves are tested with it off."""
    cfg, _ = ChannelSettings.objects.update_or_create(
        shop=shop, defaults={"sms_enabled": True, **fields}
    )
    if categories_send:
        Category.objects.filter(shop=shop).update(sms_welcome=True, sms_after_order=True)
    return cfg


@pytest.fixture
def sms_provider(settings):
    endpoint = HttpEndpoint()
    server = start_http(endpoint)
    settings.SMS_PROVIDER_URL = endpoint.url
    settings.SMS_PROVIDER_TOKEN = "test-token"
    yield endpoint
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_receiver(settings):
    """A receiver on 127.0.0.1, which webhooks may reach only when it is allowed."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint = HttpEndpoint()
    server = start_http(endpoint)
    yield endpoint
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp(settings):
    controller, inbox = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()
