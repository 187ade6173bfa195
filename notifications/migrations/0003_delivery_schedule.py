"""Seed message delivery as an editable django-celery-beat entry: every minute.

Seeded here rather than in CELERY_BEAT_SCHEDULE, which would overwrite admin edits at every
beat start. New messages also kick a delivery on commit when a worker runs; this entry
retries due messages and takes over after a lost kick or a dead worker.
"""

from django.db import migrations

TASK_NAME = "Deliver notification messages (every minute)"


def seed(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "notifications.tasks.deliver_due",
            "interval": every_minute,
            "description": "Sends due email, SMS and webhook messages; retries failed ones.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_default_templates"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
