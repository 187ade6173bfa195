"""`manage.py demo`: a demo superuser plus every installed app's demo data.

An app takes part by providing a module `<app>.demo` with
``build(*, stdout, scale: float, seed: int) -> None``. Builders run in INSTALLED_APPS order,
each in its own transaction, so `shops` never imports the apps that build on its data.
Builders must be idempotent: running the command again adds nothing.
"""

import importlib
import importlib.util
import time

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105 - a local demo login, printed on purpose


class Command(BaseCommand):
    help = "Create demo data (shops, customers, orders, and whatever other apps add). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0,
            help="Data volume; 1.0 is about 5,000 customers and 40,000 orders.",
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")

    def handle(self, *args, scale: float, seed: int, **options):
        if scale < 0:
            raise CommandError("--scale must not be negative.")
        self._superuser()
        started = time.monotonic()
        built = []
        for app_config in apps.get_app_configs():
            build = self._builder(app_config.name)
            if build is None:
                continue
            self.stdout.write(f"{app_config.label}: building demo data...")
            t0 = time.monotonic()
            with transaction.atomic():
                build(stdout=self.stdout, scale=scale, seed=seed)
            self.stdout.write(f"{app_config.label}: done in {time.monotonic() - t0:.1f} s")
            built.append(app_config)
        self._summary(built)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {elapsed:.1f} s."))

    def _superuser(self) -> None:
        users = get_user_model()
        if users._default_manager.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write(f"Superuser '{ADMIN_USERNAME}' already exists.")
            return
        users._default_manager.create_superuser(
            username=ADMIN_USERNAME, email="admin@example.com", password=ADMIN_PASSWORD
        )
        self.stdout.write(
            f"Created superuser: log in to /admin/ as {ADMIN_USERNAME} / {ADMIN_PASSWORD}"
        )

    @staticmethod
    def _builder(app_name: str):
        module_name = f"{app_name}.demo"
        try:
            spec = importlib.util.find_spec(module_name)
        except ModuleNotFoundError:
            return None
        if spec is None:
            return None
        build = getattr(importlib.import_module(module_name), "build", None)
        return build if callable(build) else None

    def _summary(self, built) -> None:
        self.stdout.write("Rows now in the database:")
        for app_config in built:
            for model in app_config.get_models():
                count = model._default_manager.count()
                self.stdout.write(f"  {model._meta.label}: {count:,}")
