"""Celery tasks: thin wrappers over shops.intake."""

from celery import shared_task

from . import intake


@shared_task(acks_late=True)
def drain_intake(kicked_at: float | None = None) -> dict:
    """Kicked after commits that wrote order events (at most one kick per window and web
    process: shops.intake.KickDebounce)."""
    return intake.drain_kicked(kicked_at=kicked_at).as_dict()


@shared_task
def sweep_intake() -> dict:
    """Periodic (every minute): whatever the kicks left, e.g. after a lost kick or a crash."""
    return intake.sweep().as_dict()


@shared_task(acks_late=True)
def run_import(job_id: int) -> str | None:
    """Queued after an import job's row commits. Run once: a redelivered task finds the
    job claimed and does nothing."""
    from .importing import jobs

    job = jobs.job_run(job_id=job_id)
    return job.status if job else None
