"""What the fault tests share: PostgreSQL only, real subprocesses on the test database, and
a second database session to hold row locks with.

A subprocess is started with the test database in DATABASE_URL, so it sees what a test
committed (the tests use ``django_db(transaction=True)``) and the test sees what it wrote
before it was killed with SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("a fault test: needs PostgreSQL (set DATABASE_URL)")


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:"
            f"{s['PORT'] or 5432}/{s['NAME']}")


def spawn(*args: str, **env: str) -> subprocess.Popen:
    """`python <args>` in the repository, on the test database. Output goes to files (a
    full pipe would block the process): `output(process)` reads it."""
    environment = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": "",
                   "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process's object
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=environment,
                               stdout=out, stderr=subprocess.STDOUT)
    process.out = out
    return process


def output(process: subprocess.Popen) -> str:
    process.out.seek(0)
    return process.out.read().decode("utf-8", "replace")


def second_session() -> psycopg.Connection:
    """A session of its own (not Django's), e.g. to hold a row lock another process waits on."""
    return psycopg.connect(database_url().replace("postgres://", "postgresql://"))


def wait_for(condition, *, timeout: float = 60.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
