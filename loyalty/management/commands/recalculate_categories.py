from datetime import date

from django.core.management.base import BaseCommand, CommandError

from loyalty import services
from shops.models import Shop


class Command(BaseCommand):
    help = "Move customers between categories by the rules (all shops, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="shop code (default: every shop)")
        parser.add_argument("--dry-run", action="store_true", help="count moves, write nothing")
        parser.add_argument("--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
        parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE,
                            help="customers per atomic batch (default %(default)s)")

    def handle(self, *args, shop=None, dry_run=False, as_of=None, batch_size=None, **options):
        shops = Shop.objects.all()
        if shop:
            shops = shops.filter(code=shop)
            if not shops:
                raise CommandError(f"No shop with code {shop!r}.")
        for one in shops:
            try:
                summary = services.categories_recalculate(
                    shop=one, as_of=as_of, dry_run=dry_run,
                    batch_size=batch_size or services.BATCH_SIZE)
            except services.RecalculationBusy as exc:
                raise CommandError(str(exc)) from exc  # recorded as a skipped run too
            counts = " ".join(f"{k}={v}" for k, v in summary.as_dict().items())
            prefix = "[dry run] " if dry_run else ""
            self.stdout.write(f"{prefix}{one.code}: {counts}")
