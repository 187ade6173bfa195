"""Seed the intake sweep as an editable django-celery-beat entry: every minute.

Seeded here rather than in CELERY_BEAT_SCHEDULE, which would overwrite admin edits at every
beat start. Each commit that writes order events kicks a drain (in the worker with a
broker, in-process without one); this entry applies whatever a lost kick, a dead worker or
a failed in-process drain left pending.
"""

from django.db import migrations

TASK_NAME = "Apply pending order events (every minute)"


def seed(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "shops.tasks.sweep_intake",
            "interval": every_minute,
            "description": "Applies the points, categories, segments and messages of order "
                           "events still pending; forgets applied events after 7 days.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0007_intake_events"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
