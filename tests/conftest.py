import pytest
from django.db import connection, transaction
from django.test.utils import override_settings


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Users are created and logged in by hundreds of tests; the production hasher (PBKDF2,
    a million rounds) would spend most of their time. Passwords are still hashed and
    checked, only with a cheap algorithm."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def shared_world(build, scope="module"):
    """A module- (or class-) scoped fixture: ``build()`` runs once per test module (class)
    inside a transaction that is rolled back after its last test. Each test still runs in its own
    savepoint inside it (pytest-django's usual per-test transaction), so what a test writes
    is gone before the next one, as with Django's ``TestCase.setUpTestData``. Hand tests a
    ``copy.deepcopy`` of the built objects if they change them in memory.

    Every later test of the module (class) sees the built rows, so only for modules
    (classes) whose tests are all non-transactional (no ``transaction=True``, no
    ``live_server``: those commit, which the surrounding transaction forbids). Use
    ``scope="class"`` to keep the rows away from the module's other tests."""

    @pytest.fixture(scope=scope)
    def fixture(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                built = build()
            except BaseException:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
                raise
        yield built
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)

    return fixture
