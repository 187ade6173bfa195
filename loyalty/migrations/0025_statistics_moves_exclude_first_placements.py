"""A first placement (from no category) is no move between categories: the moves index
follows loyalty.models.MOVES, and the moves of the days already rolled up are counted again
from the history (one grouped query and one bulk update per shop)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import migrations, models
from django.db.models import Count, Q
from django.db.models.functions import TruncDate


def recount_moves(apps, schema_editor):
    StatisticsRollup = apps.get_model("loyalty", "StatisticsRollup")
    DailyActivity = apps.get_model("loyalty", "DailyActivity")
    CategoryChange = apps.get_model("loyalty", "CategoryChange")
    Shop = apps.get_model("shops", "Shop")
    zones = dict(Shop.objects.values_list("pk", "timezone"))
    for state in StatisticsRollup.objects.all():
        if state.timezone != zones.get(state.shop_id):
            continue  # cut in another zone: the next night rebuilds it anyway
        tz = ZoneInfo(state.timezone)
        until = datetime.combine(state.through + timedelta(days=1), time.min, tzinfo=tz)
        until = max(state.activity_until or until, until)
        counted = {
            day: (up, down) for day, up, down in
            CategoryChange.objects.filter(
                shop_id=state.shop_id, changed_at__lt=until, from_category__isnull=False,
            ).exclude(direction=0)
            .annotate(day=TruncDate("changed_at", tzinfo=tz)).order_by().values("day")
            .annotate(up=Count("pk", filter=Q(direction__gt=0)),
                      down=Count("pk", filter=Q(direction__lt=0)))
            .values_list("day", "up", "down")
        }
        rows = list(DailyActivity.objects.filter(shop_id=state.shop_id))
        for row in rows:
            row.moves_up, row.moves_down = counted.get(row.day, (0, 0))
        DailyActivity.objects.bulk_update(rows, ["moves_up", "moves_down"], batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("loyalty", "0024_statistics_today"),
        ("shops", "0011_counted_figures_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="categorychange",
            name="change_moves_idx",
        ),
        migrations.AddIndex(
            model_name="categorychange",
            index=models.Index(
                condition=models.Q(("from_category__isnull", False),
                                   models.Q(("direction", 0), _negated=True)),
                fields=["shop", "changed_at"], include=("direction",), name="change_moves_idx",
            ),
        ),
        migrations.RunPython(recount_moves, migrations.RunPython.noop),
    ]
