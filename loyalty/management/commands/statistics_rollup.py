from django.core.management.base import BaseCommand, CommandError

from loyalty import rollup
from shops.models import Shop


class Command(BaseCommand):
    help = (
        "Build the statistics rollup again from the orders, moves and points (all shops, "
        "or one), every day up to yesterday. For existing data; the nightly step keeps it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", help="shop code (default: every shop)")

    def handle(self, *args, shop=None, **options):
        shops = Shop.objects.order_by("code")
        if shop:
            shops = shops.filter(code=shop)
            if not shops:
                raise CommandError(f"No shop with code {shop!r}.")
        for one in shops:
            through = rollup.rollup_rebuild(one)
            self.stdout.write(f"{one.code}: rolled up through {through}")
