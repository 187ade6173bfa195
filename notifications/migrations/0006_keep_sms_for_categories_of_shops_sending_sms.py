"""Categories get "welcome SMS" and "SMS after an order" switches, off by default. A shop
that already sends SMS sent both to every customer: its existing categories get both
switches on, so upgrading changes nothing it sends; new categories start off."""

from django.db import migrations


def switch_on(apps, schema_editor):
    Category = apps.get_model("loyalty", "Category")
    ChannelSettings = apps.get_model("notifications", "ChannelSettings")
    sending = ChannelSettings.objects.filter(sms_enabled=True).values("shop_id")
    Category.objects.filter(shop_id__in=sending).update(sms_welcome=True, sms_after_order=True)


class Migration(migrations.Migration):

    dependencies = [
        ("loyalty", "0013_category_sms_switches"),
        ("notifications", "0005_sms_billing_rule"),
    ]

    operations = [migrations.RunPython(switch_on, migrations.RunPython.noop)]
