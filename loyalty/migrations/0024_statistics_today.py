"""Today's moves and points in the statistics rollup: the moment they are counted up to, and
an editable django-celery-beat entry that moves it on every 5 minutes (seeded here rather
than in CELERY_BEAT_SCHEDULE, which would overwrite admin edits at every beat start)."""

from django.db import migrations, models

TASK_NAME = "Statistics: today's moves and points so far (every 5 minutes)"


def seed(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_five, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "loyalty.tasks.statistics_today",
            "interval": every_five,
            "description": "Rolls up the category moves and points entries written today "
                           "until 10 minutes ago, so that the statistics page stays fast on "
                           "a busy day. The page is exact without it, only slower.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0023_history_filters_and_statistics_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="statisticsrollup",
            name="activity_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(seed, unseed),
    ]
