"""Import jobs: an uploaded file stored with its options (`ImportJob`), checked and applied
in the background (`shops.tasks.run_import`, queued after the job's row commits), with
counters that move while it runs and a report at the end.

`job_create` stores the file and queues the job; `job_run` does it:
1. checking: the file is streamed and validated chunk by chunk (shops.importing.plan);
   after every chunk `rows_checked` and `errors_found` are saved (committed at once: no
   transaction is open while checking), so the admin page and the command show them;
2. a job that only checks (a preview), or a file with any invalid row, ends there with its
   report: counts, the first changes of each kind, the first REPORT_ERRORS errors;
3. writing: the whole file in one transaction (shops.importing.write); `rows_written` is
   saved after every batch through a second database connection on PostgreSQL, so it is
   visible before the import's transaction commits (elsewhere it appears at the commit).
A job is run once: `job_run` claims it with a conditional update of its status, so a task
delivered twice does nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.base import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from ..models import ImportJob, ImportStatus, Shop
from . import plan as planning
from . import write
from .cells import ImportKind

log = logging.getLogger(__name__)

#: How many errors the report keeps (all are counted).
REPORT_ERRORS = 1000

#: Called with the counters after each chunk checked or batch written (tests, the command).
Observer = Callable[[dict], None]


def job_create(
    *, shop: Shop, kind: str, file: File, file_name: str, apply: bool, history: bool = False,
    as_of: date | None = None, user=None, queue: bool = True,
) -> ImportJob:
    """Store the file and its options; with `queue`, run it in the background once the
    job's row is committed."""
    kind = ImportKind(kind)
    job = ImportJob(shop=shop, kind=kind, file_name=file_name[:200], apply=apply,
                    history=history, as_of=as_of if history else None, created_by=user)
    job.file.save(file_name[-100:], file, save=False)
    job.save()
    if queue:
        from .. import tasks

        transaction.on_commit(lambda: tasks.run_import.delay(job.pk), robust=True)
    return job


def job_confirm(*, job: ImportJob, user=None) -> ImportJob:
    """Import the file a finished check (preview) looked at: a new job on the same stored
    file, checked again before writing (the shop's data may have changed meanwhile)."""
    new = ImportJob.objects.create(
        shop=job.shop, kind=job.kind, file=job.file.name, file_name=job.file_name, apply=True,
        history=job.history, as_of=job.as_of, created_by=user,
    )
    from .. import tasks

    transaction.on_commit(lambda: tasks.run_import.delay(new.pk), robust=True)
    return new


class _Counters:
    """Saves a running job's counters where others can see them."""

    def __init__(self, job: ImportJob, observer: Observer | None) -> None:
        self.job, self.observer = job, observer
        self.side = None

    def save(self, **counters) -> None:
        for name, value in counters.items():
            setattr(self.job, name, value)
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            self._save_aside(counters)
        else:
            ImportJob.objects.filter(pk=self.job.pk).update(**counters)
        if self.observer is not None:
            self.observer(self.snapshot())

    def _save_aside(self, counters: dict) -> None:
        # Inside the import's transaction: a second connection (autocommit) writes the
        # counters, so they are visible before the import commits. The job's row is not
        # locked by the import's transaction, so this never waits for it.
        if self.side is None:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in counters)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(ImportJob._meta.db_table)} "  # noqa: S608
                f"SET {columns} WHERE id = %s", [*counters.values(), self.job.pk])

    def snapshot(self) -> dict:
        return {"status": self.job.status, "rows_checked": self.job.rows_checked,
                "rows_written": self.job.rows_written, "errors_found": self.job.errors_found}

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def report_of(plan: planning.ImportPlan) -> dict:
    return {
        "rows": plan.rows,
        "counts": [[label, c.create, c.update, c.unchanged] for label, c in plan.count_rows],
        "summary": plan.summary(),
        "samples": [
            [label, [[c.line, c.action_label, c.key, c.details] for c in changes]]
            for label, changes in plan.samples
        ],
        "errors": [[e.line, e.column, e.message] for e in plan.errors[:REPORT_ERRORS]],
        "error_count": len(plan.errors),
        "invalid_rows": plan.invalid_rows,
        "has_changes": plan.has_changes,
        "applied": plan.applied,
    }


def job_run(*, job_id: int, observer: Observer | None = None) -> ImportJob | None:
    """Check the job's file, and import it when the job applies and every row is valid
    (see the module docstring). Returns the finished job (None: not queued any more)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.CHECKING, started_at=timezone.now())
    if not claimed:
        return None
    job = ImportJob.objects.select_related("shop").get(pk=job_id)
    counters = _Counters(job, observer)
    try:
        with job.file.open("rb") as stream:
            plan = planning.import_plan(
                shop=job.shop, kind=job.kind, stream=stream,
                progress=lambda p: counters.save(rows_checked=p.rows,
                                                 errors_found=len(p.errors)),
            )
        counters.save(rows_checked=plan.rows, errors_found=len(plan.errors))
        if plan.errors:
            status = ImportStatus.INVALID
        elif job.apply and plan.has_changes:
            job.status = ImportStatus.WRITING
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.WRITING)
            write.plan_write(plan, history=job.history, as_of=job.as_of,
                             written=lambda n: counters.save(rows_written=n))
            status = ImportStatus.INVALID if plan.errors else ImportStatus.FINISHED
        else:
            plan.applied = job.apply
            status = ImportStatus.FINISHED
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, error=repr(exc)[:4000], finished_at=timezone.now())
        raise
    finally:
        counters.close()
    job.status, job.report, job.finished_at = status, report_of(plan), timezone.now()
    job.errors_found = len(plan.errors)
    job.save(update_fields=["status", "report", "finished_at", "rows_checked", "rows_written",
                            "errors_found"])
    if plan.applied and job.apply and plan.has_changes and job.created_by_id:
        # An import is a manual change: the shop's admin history names who imported what.
        LogEntry.objects.log_actions(
            user_id=job.created_by_id, queryset=[job.shop], action_flag=CHANGE,
            change_message=f"{ImportKind(job.kind).label}: " + "; ".join(plan.summary()),
        )
    if observer is not None:
        observer(counters.snapshot())
    return job
