"""Seed the project-wide default message templates (no shop) in the five languages.

The texts live in notifications/defaults.py (data only), so the demo and this migration
share them; a default that already exists is left as staff edited it.
"""

from django.db import migrations

from notifications import defaults

EVENTS = ("category_up", "category_down", "registered", "order_completed")
CHANNELS = ("email", "sms", "webhook")


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for event in EVENTS:
        for channel in CHANNELS:
            MessageTemplate.objects.get_or_create(
                shop=None, event=event, channel=channel,
                defaults=defaults.template_fields(event, channel, originals=True),
            )


def unseed(apps, schema_editor):
    apps.get_model("notifications", "MessageTemplate").objects.filter(shop=None).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
