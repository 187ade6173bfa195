"""CategoryChange.as_of: the day a change was decided for, beside when it was written.

Existing rows get the day of their changed_at in their shop's time zone: one UPDATE per shop
on PostgreSQL (AT TIME ZONE), per shop in batches elsewhere."""

import zoneinfo

from django.db import migrations, models

BATCH = 5000


def fill(apps, schema_editor):
    Shop = apps.get_model("shops", "Shop")
    CategoryChange = apps.get_model("loyalty", "CategoryChange")
    table = CategoryChange._meta.db_table
    connection = schema_editor.connection
    for shop_id, tz_name in Shop.objects.values_list("pk", "timezone"):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET as_of = (changed_at AT TIME ZONE %s)::date "  # noqa: S608
                    "WHERE shop_id = %s AND as_of IS NULL", [tz_name, shop_id])
            continue
        tz = zoneinfo.ZoneInfo(tz_name)
        while True:
            rows = list(CategoryChange.objects.filter(shop_id=shop_id, as_of__isnull=True)
                        .only("pk", "changed_at")[:BATCH])
            if not rows:
                break
            for row in rows:
                row.as_of = row.changed_at.astimezone(tz).date()
            CategoryChange.objects.bulk_update(rows, ["as_of"])


class Migration(migrations.Migration):

    dependencies = [
        ("loyalty", "0013_category_sms_switches"),
        ("shops", "0008_intake_sweep_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="categorychange",
            name="as_of",
            field=models.DateField(null=True, verbose_name="decided for"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="categorychange",
            name="as_of",
            field=models.DateField(verbose_name="decided for"),
        ),
    ]
