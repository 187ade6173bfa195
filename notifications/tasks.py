"""Celery tasks: thin wrappers over notifications.delivery and services. Safe to repeat."""

from celery import shared_task

from . import delivery, services


@shared_task(acks_late=True)
def deliver_due() -> dict:
    """Every minute (django-celery-beat, seeded by a migration) and after new messages."""
    report = delivery.deliver_due()
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}


@shared_task(acks_late=True)
def queue_bulk_send(bulk_id: int) -> int:
    return services.bulk_send_queue(bulk_id=bulk_id)
