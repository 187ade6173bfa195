"""Celery tasks: thin wrappers over shops.intake."""

from celery import shared_task

from . import intake


@shared_task(acks_late=True)
def drain_intake() -> dict:
    """Kicked after each commit that wrote order events."""
    return intake.drain().as_dict()


@shared_task
def sweep_intake() -> dict:
    """Periodic (every minute): whatever the kicks left, e.g. after a lost kick or a crash."""
    return intake.sweep().as_dict()
