"""Replace the two nightly beat entries (points expiry at 02:30, category recalculation at
03:00) with one "nightly" entry running loyalty.tasks.nightly_all_shops: points expiry,
categories, segments and whatever other apps register, in order, per shop.

The new entry takes the recalculation entry's schedule, so a merchant's edited crontab (and
its enabled switch) is kept; without it, the expiry entry's; without either, 03:00 server
time (TIME_ZONE). Reversing restores the two entries on the kept schedule.
"""

from django.conf import settings
from django.db import migrations

NIGHTLY = "Nightly pass (all shops)"
RECALCULATION = "Nightly category recalculation (all shops)"
EXPIRY = "Nightly points expiry (all shops)"


def forward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    old = {t.name: t for t in PeriodicTask.objects.filter(name__in=[RECALCULATION, EXPIRY])}
    kept = old.get(RECALCULATION) or old.get(EXPIRY)
    if kept is not None and kept.crontab_id is not None:
        schedule, enabled = kept.crontab, kept.enabled
    else:
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour="3", day_of_week="*", day_of_month="*", month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        enabled = True if kept is None else kept.enabled
    PeriodicTask.objects.get_or_create(
        name=NIGHTLY,
        defaults={
            "task": "loyalty.tasks.nightly_all_shops",
            "crontab": schedule,
            "enabled": enabled,
            "description": "Per shop: expires points, moves customers between categories, "
                           "refreshes segments (incremental unless a full pass is needed).",
        },
    )
    PeriodicTask.objects.filter(name__in=[RECALCULATION, EXPIRY]).delete()


def backward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly = PeriodicTask.objects.filter(name=NIGHTLY).first()
    if nightly is not None and nightly.crontab_id is not None:
        recalculation = nightly.crontab
    else:
        recalculation, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour="3", day_of_week="*", day_of_month="*", month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
    expiry, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(name=RECALCULATION, defaults={
        "task": "loyalty.tasks.recalculate_all_shops", "crontab": recalculation})
    PeriodicTask.objects.get_or_create(name=EXPIRY, defaults={
        "task": "loyalty.tasks.expire_points_all_shops", "crontab": expiry})
    PeriodicTask.objects.filter(name=NIGHTLY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0018_nightly_state"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
