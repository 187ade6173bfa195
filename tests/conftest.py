import pytest
from django.db import connection


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def intake_drain_inline(request, monkeypatch):
    """The effects of an order (points, category, segments, messages) are applied by the
    intake drain after the order's transaction commits. pytest-django's test transaction
    never commits, so by default the drain runs right where its kick is scheduled: the same
    drain code, inside the test's transaction, so a test sees the effects after the service
    call as a storefront sees them after its request. Tests marked `intake_on_commit` keep
    the real on-commit kick (django_capture_on_commit_callbacks or a transactional test)."""
    if request.node.get_closest_marker("intake_on_commit"):
        return
    from shops import intake

    monkeypatch.setattr(intake, "schedule_drain", lambda: intake.drain())
