"""manage.py import_csv --shop CODE (customers|orders|returns) FILE [--dry-run] [--history]
[--as-of DATE]

Stores the file as an import job and runs it here, printing the counters while it runs (rows
checked, errors so far, records written), then the report: what the file changes, or every
invalid row (and exits non-zero). The whole file is imported in one transaction unless
--dry-run. The formats are documented in shops.importing; docs/import.md explains a migration.
"""

from datetime import date
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shops.importing import ImportKind, RowError, jobs
from shops.models import ImportStatus, Shop


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CommandError(_("Not a date: “%(value)s”; use YYYY-MM-DD.") % {"value": raw}) from None


class Command(BaseCommand):
    @property
    def help(self) -> str:  # argparse needs a str, not a lazy translation
        return _("Import customers, orders or returns of one shop from a CSV file. A file with "
                 "any invalid row imports nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help=_("The shop's code."))
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true",
            help=_("Only show what would change; write nothing."),
        )
        parser.add_argument(
            "--history", action="store_true",
            help=_("The rows are past history: no messages to customers, one recalculation "
                   "of the affected customers at the end."),
        )
        parser.add_argument(
            "--as-of", default=None,
            help=_("With --history: decide the categories for this day (YYYY-MM-DD)."),
        )

    def handle(self, *args, shop: str, kind: str, file: Path, dry_run: bool, history: bool,
               as_of: str | None, **options):
        self.verbosity = options.get("verbosity", 1)
        try:
            shop_obj = Shop.objects.get(code=shop)
        except Shop.DoesNotExist:
            raise CommandError(_("Unknown shop “%(code)s”.") % {"code": shop}) from None
        if as_of and not history:
            raise CommandError(_("--as-of needs --history."))
        day = _date(as_of) if as_of else None
        try:
            handle = file.open("rb")
        except OSError as exc:
            raise CommandError(str(exc)) from None
        with handle:
            job = jobs.job_create(shop=shop_obj, kind=kind, file=File(handle),
                                  file_name=file.name, apply=not dry_run, history=history,
                                  as_of=day, queue=False)
        job = jobs.job_run(job_id=job.pk, observer=self._progress)
        self._report(job, dry_run=dry_run)

    def _progress(self, counters: dict) -> None:
        if counters["status"] == ImportStatus.WRITING:
            line = _("Written: %(written)d records.") % {"written": counters["rows_written"]}
        elif counters["status"] == ImportStatus.CHECKING:
            line = _("Checked: %(rows)d rows, %(errors)d errors so far.") % {
                "rows": counters["rows_checked"], "errors": counters["errors_found"]}
        else:
            return
        if self.verbosity:  # on stderr: the report on stdout stays clean to read or pipe
            self.stderr.write(line)

    def _report(self, job, *, dry_run: bool) -> None:
        report = job.report
        if job.status == ImportStatus.INVALID:
            for line, column, message in report["errors"]:
                self.stderr.write(str(RowError(line=line, column=column, message=message)))
            if report["error_count"] > len(report["errors"]):
                self.stderr.write(_("… and %(count)d more errors.") % {
                    "count": report["error_count"] - len(report["errors"])})
            count = report["invalid_rows"]
            raise CommandError(ngettext(
                "%(count)d row is invalid; nothing was imported.",
                "%(count)d rows are invalid; nothing was imported.",
                count,
            ) % {"count": count})
        for line in report["summary"]:
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        elif not report["has_changes"]:
            self.stdout.write(_("Nothing to change."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported.")))
