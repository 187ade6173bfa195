"""Seed the default templates of the two notices ("category at risk", "close to the next
category") in the five languages, on every channel; a default that already exists is left
as staff edited it. Texts: notifications/defaults.py."""

from django.db import migrations

from notifications import defaults

EVENTS = ("category_at_risk", "close_to_next")
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
    apps.get_model("notifications", "MessageTemplate").objects.filter(
        shop=None, event__in=EVENTS
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0007_notices_events_and_episodes")]

    operations = [migrations.RunPython(seed, unseed)]
