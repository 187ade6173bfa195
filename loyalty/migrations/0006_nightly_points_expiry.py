"""Seed the nightly points expiry as an editable django-celery-beat entry.

Seeded here rather than in CELERY_BEAT_SCHEDULE, which would overwrite merchants' admin
edits at every beat start. Runs every night at 02:30 (server time zone, TIME_ZONE), before
the 03:00 category recalculation, so rules on the balance see the expired points.
"""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Nightly points expiry (all shops)"


def seed(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "loyalty.tasks.expire_points_all_shops",
            "crontab": schedule,
            "description": "Expires bonus points older than each shop's points policy allows.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0005_bonus_points_and_programs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
