"""manage.py import_csv --shop CODE (customers|orders|returns) FILE [--dry-run]

Prints what the file would change, or every invalid row (and exits non-zero); then imports it
in one transaction unless --dry-run. The formats are documented in shops.importing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shops import importing
from shops.models import Shop


class Command(BaseCommand):
    @property
    def help(self) -> str:  # argparse needs a str, not a lazy translation
        return _("Import customers, orders or returns of one shop from a CSV file. A file with "
                 "any invalid row imports nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help=_("The shop's code."))
        parser.add_argument("kind", choices=importing.ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true",
            help=_("Only show what would change; write nothing."),
        )

    def handle(self, *args, shop: str, kind: str, file: Path, dry_run: bool, **options):
        try:
            shop_obj = Shop.objects.get(code=shop)
        except Shop.DoesNotExist:
            raise CommandError(_("Unknown shop “%(code)s”.") % {"code": shop}) from None
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from None

        plan = importing.import_plan(shop=shop_obj, kind=kind, content=content)
        self._fail_if_invalid(plan)
        for line in plan.summary():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
            return
        if not plan.has_changes:
            self.stdout.write(_("Nothing to change."))
            return
        plan = importing.import_apply(shop=shop_obj, kind=kind, content=content)
        self._fail_if_invalid(plan)
        self.stdout.write(self.style.SUCCESS(_("Imported.")))

    def _fail_if_invalid(self, plan: importing.ImportPlan) -> None:
        if plan.is_valid:
            return
        for error in plan.errors:
            self.stderr.write(str(error))
        raise CommandError(ngettext(
            "%(count)d row is invalid; nothing was imported.",
            "%(count)d rows are invalid; nothing was imported.",
            plan.invalid_rows,
        ) % {"count": plan.invalid_rows})
