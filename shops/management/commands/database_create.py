"""`manage.py database_create`: make sure the configured database exists (used by `make run`).

SQLite: the file's folder is created (Django creates the file). PostgreSQL: when the server
answers that the database does not exist, it is created through the server's maintenance
database; when the server cannot be reached, the command says what to check and exits with 1
instead of a traceback.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection


class Command(BaseCommand):
    help = "Create the configured database if it does not exist yet."

    def handle(self, *args, **options):
        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            Path(settings["NAME"]).parent.mkdir(parents=True, exist_ok=True)
            return
        try:
            connection.ensure_connection()
            return
        except OperationalError as error:
            if "does not exist" not in str(error):
                raise CommandError(
                    f"Cannot connect to the database {settings['NAME']!r} at "
                    f"{settings.get('HOST') or 'the local socket'}:{settings.get('PORT') or ''}: "
                    f"{str(error).strip()}\nCheck that the server runs and that DATABASE_URL "
                    "is right, or unset DATABASE_URL to use SQLite."
                ) from error
        name = connection.ops.quote_name(settings["NAME"])
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        self.stdout.write(f"Created the database {settings['NAME']}.")
