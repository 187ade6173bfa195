"""`make run` creates a missing PostgreSQL database instead of dying with a traceback."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )


def server_url(name: str) -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


@pytest.mark.django_db
def test_missing_postgresql_database_is_created_once(on_postgres):
    name = f"patron_created_{uuid.uuid4().hex[:8]}"
    try:
        first = manage("database_create", database_url=server_url(name))
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == f"Created the database {name}."
        again = manage("database_create", database_url=server_url(name))
        assert (again.returncode, again.stdout) == (0, "")
    finally:
        with connection._nodb_cursor() as cursor:  # DROP DATABASE needs autocommit
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_unreachable_server_is_a_clear_message_not_a_traceback():
    result = manage("database_create", database_url="postgres://postgres@127.0.0.1:9/patron")
    assert result.returncode == 1
    assert "Cannot connect to the database 'patron' at 127.0.0.1:9" in result.stderr
    assert "unset DATABASE_URL to use SQLite" in result.stderr
    assert "Traceback" not in result.stderr
