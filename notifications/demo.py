"""Demo notifications (called by `manage.py demo`, after the loyalty demo).

- Channel settings: the Ukrainian shop sends SMS at the default 1.01 UAH per segment.
- The Polish shop overrides the default "category up" email with its own wording.
- Welcome messages for each shop's newest customers (the shops demo bulk-creates customers
  without the registration service), next to the category messages that the loyalty
  demo's recalculation recorded.
- Delivery runs for real: emails go to Django's in-memory backend and are *sent*; SMS fail
  with "provider not configured" (no SMS_PROVIDER_URL in a demo), so the admin has failed
  messages to look at and resend. No webhook URL is set: a demo never posts off-machine.
- A draft bulk SMS to the Ukrainian Gold customers shows recipients and cost before
  confirming.

Idempotent: every message has a cause key, settings and templates are upserted.
"""

from django.test.utils import override_settings

from loyalty.models import Category
from shops.models import Customer, Shop

from . import defaults, delivery, services
from .models import BulkSend, ChannelSettings, MessageTemplate

NEWEST_CUSTOMERS = 20
PL_CATEGORY_UP = {
    "subject_pl": "{{ customer_name }}, witaj w gronie {{ new_category }}!",
    "body_pl": "Dzień dobry, {{ customer_name }}!\n\nOd dziś jesteś w kategorii "
               "{{ new_category }} sklepu {{ shop_name }}. Dziękujemy, że jesteś z nami.",
}
BULK_UK = ("{{ customer_name }}, лише цього тижня для категорії {{ new_category }} — "
           "знижка 15% на все взуття. Чекаємо на вас у {{ shop_name }}!")


def build(*, stdout, scale: float = 1.0, seed: int = 42) -> None:
    default_templates_install()
    shops = {shop.code: shop for shop in Shop.objects.all()}
    if "ua" in shops:
        ChannelSettings.objects.update_or_create(
            shop=shops["ua"], defaults={"sms_enabled": True, "sms_sender": "PatronUA"}
        )
        # Welcome and after-order SMS are switched on per category: the Ukrainian shop
        # sends both to every category (its hidden ones get no category name in them).
        Category.objects.filter(shop=shops["ua"]).update(sms_welcome=True, sms_after_order=True)
    if "pl" in shops:
        MessageTemplate.objects.update_or_create(
            shop=shops["pl"], event="category_up", channel="email",
            defaults={**defaults.template_fields("category_up", "email"), **PL_CATEGORY_UP},
        )
    for shop in shops.values():
        newest = Customer.objects.filter(shop=shop).order_by("-registered_at", "-pk")
        for customer_id in newest.values_list("pk", flat=True)[:NEWEST_CUSTOMERS]:
            services.message_for_registration(customer_id=customer_id)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", SMS_PROVIDER_URL=""
    ):
        sent = failed = 0
        while (report := delivery.deliver_due(max_seconds=30)).sent + report.failed:
            sent, failed = sent + report.sent, failed + report.failed
    gold = Category.objects.filter(shop__code="ua", name_en="Gold").first()
    if gold is not None and not BulkSend.objects.filter(category=gold).exists():
        services.bulk_send_prepare(bulk=BulkSend(
            shop=gold.shop, category=gold, channel="sms",
            **{f"body_{lang}": BULK_UK for lang in defaults.LANGUAGES},
        ))
    stdout.write(f"notifications: {sent} messages delivered, {failed} failed (demo SMS)")


def default_templates_install() -> int:
    """Create any shipped default template that is missing (staff edits are kept)."""
    created = 0
    for event in defaults.TEXTS:
        for channel in ("email", "sms", "webhook"):
            _, new = MessageTemplate.objects.get_or_create(
                shop=None, event=event, channel=channel,
                defaults=defaults.template_fields(event, channel),
            )
            created += new
    return created
