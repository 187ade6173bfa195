import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from loyalty import nightly
from shops.models import Shop


class Command(BaseCommand):
    help = ("Run the night (points expiry, categories, segments and every registered step) "
            "for every shop, or one; incremental unless a full pass is needed or asked for. "
            "Prints a JSON summary.")

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="shop code (default: every shop)")
        parser.add_argument("--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
        parser.add_argument("--full", action="store_true",
                            help="a full pass (default: incremental where sound)")

    def handle(self, *args, shop=None, as_of=None, full=False, **options):
        shops = Shop.objects.order_by("pk")
        if shop:
            shops = shops.filter(code=shop)
            if not shops:
                raise CommandError(f"No shop with code {shop!r}.")
        summaries = [nightly.night_run(shop=one, as_of=as_of, full=full) for one in shops]
        self.stdout.write(json.dumps({"shops": summaries}, indent=2, ensure_ascii=False))
