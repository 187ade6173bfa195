"""The history import of a migrating merchant: background jobs with progress, set-based
writes, files of order totals, --history (no messages, one recalculation) and --as-of."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from loyalty import points, services
from loyalty.models import CategoryChange
from notifications.models import Message
from shops import importing
from shops.importing import jobs, write
from shops.importing import plan as planning
from shops.models import Customer, ImportJob, IntakeEvent, Order, OrderLine, Product
from tests.factories import CategoryFactory, ShopFactory, add_rule

pytestmark = pytest.mark.django_db

CUSTOMERS = (
    "external_id,name,email,registered_at\n"
    "c1,Anna Nowak,anna@example.com,2024-01-10\n"
    "c2,Jan Kowalski,jan@example.com,2024-02-01\n"
    "c3,Ewa Lis,ewa@example.com,2024-03-01\n"
)
#: c1 has a counted order on 2025-03-10, c2 one that is not paid, c3 none.
ORDER_TOTALS = (
    "order_number,customer_external_id,placed_at,status,paid_in_full,goods_total\n"
    "A1,c1,2025-03-10 12:00,completed,yes,250.00\n"
    "A2,c2,2025-03-12,completed,no,80.50\n"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def ladder():
    shop = ShopFactory(code="pl", name="Sklep PL", timezone="Europe/Warsaw")
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_orders", "days": 30, "operator": "gte", "count": 1})
    Product.objects.create(shop=shop, sku="TEE", name="Tee", price="50.00")
    return shop, member, silver


def command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", "--shop", "pl", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "orders.csv").write_text(ORDER_TOTALS)
    return tmp_path


def categories(shop) -> dict[str, str | None]:
    return dict(Customer.objects.filter(shop=shop).values_list("external_id", "category__name"))


def test_history_import_sends_no_message_and_writes_no_order_event(ladder, files):
    shop, member, silver = ladder

    command("customers", str(files / "customers.csv"), "--history")
    command("orders", str(files / "orders.csv"), "--history")

    assert Message.objects.count() == 0
    assert IntakeEvent.objects.count() == 0
    # One recalculation at the end, as of today: the March 2025 order is out of the window.
    assert categories(shop) == {"c1": "Member", "c2": "Member", "c3": "Member"}
    assert list(CategoryChange.objects.values_list("reason", flat=True)) == ["fallback"] * 3


def test_the_same_files_imported_as_present_data_message_the_customers(ladder, files):
    command("customers", str(files / "customers.csv"))

    assert sorted(Message.objects.values_list("customer__external_id", "event")) == [
        ("c1", "registered"), ("c2", "registered"), ("c3", "registered")]


def test_history_as_of_gives_the_categories_of_a_recalculation_at_that_date(ladder, files):
    shop, member, silver = ladder
    command("customers", str(files / "customers.csv"), "--history")

    out, _err = command("orders", str(files / "orders.csv"), "--history",
                        "--as-of", "2025-03-20")

    assert out.splitlines() == ["orders: 2 to create, 0 to update, 0 unchanged",
                                "order lines: 0 to create, 0 to update, 0 unchanged",
                                "Imported."]
    assert categories(shop) == {"c1": "Silver", "c2": "Member", "c3": "Member"}
    move = CategoryChange.objects.get(to_category=silver)
    assert move.as_of == date(2025, 3, 20) and move.reason == "rule"
    # A recalculation of the whole shop at that date would move nobody.
    replay = services.categories_recalculate(shop=shop, as_of=date(2025, 3, 20), dry_run=True)
    assert (replay.examined, replay.moved_up, replay.moved_down) == (3, 0, 0)
    assert Message.objects.count() == 0


def test_history_orders_points_are_those_of_the_set_based_sync(ladder, files):
    command("customers", str(files / "customers.csv"), "--history")
    command("orders", str(files / "orders.csv"), "--history")

    # Already in line with every order's state: syncing again writes nothing.
    assert points.orders_points_sync(order_ids=Order.objects.values_list("pk", flat=True)) == []


def test_orders_file_of_totals_records_orders_without_lines(ladder, files):
    shop, member, silver = ladder
    command("customers", str(files / "customers.csv"), "--history")

    command("orders", str(files / "orders.csv"), "--history")

    assert sorted(Order.objects.values_list("number", "goods_total", "status", "paid_in_full")) \
        == [("A1", Decimal("250.00"), "completed", True),
            ("A2", Decimal("80.50"), "completed", False)]
    assert OrderLine.objects.count() == 0
    # Importing it again changes nothing.
    out, _err = command("orders", str(files / "orders.csv"), "--history")
    assert out.splitlines()[0] == "orders: 0 to create, 0 to update, 2 unchanged"


def test_totals_and_lines_in_one_file_are_refused(ladder):
    plan = importing.import_plan(shop=ladder[0], kind="orders", content=(
        "order_number,customer_external_id,placed_at,status,paid_in_full,sku,goods_total\n"
        "A1,c1,2025-03-10,completed,yes,TEE,10\n"))

    assert [(e.line, e.column, e.message) for e in plan.errors] == [
        (1, "goods_total", "Give either order lines (sku, quantity, unit_price) or the "
                           "order's goods_total, not both.")]


def test_a_bad_row_imports_nothing_and_the_error_names_its_line(ladder, files):
    command("customers", str(files / "customers.csv"), "--history")
    (files / "bad.csv").write_text(ORDER_TOTALS + "A3,c3,2025-03-14,completed,yes,12,50\n")

    with pytest.raises(CommandError, match="^1 row is invalid; nothing was imported.$"):
        command("orders", str(files / "bad.csv"), "--history")

    assert Order.objects.count() == 0
    job = ImportJob.objects.latest("pk")
    assert job.status == "invalid"
    assert job.report["errors"] == [[4, "", "This row has 7 cells; the header has 6."]]


def test_a_value_error_on_a_later_line_imports_nothing(ladder, files):
    command("customers", str(files / "customers.csv"), "--history")
    content = ORDER_TOTALS + "A3,c3,2025-03-14,completed,yes,12,5\n".replace("12,5", "12;5")
    err = io.StringIO()

    with pytest.raises(CommandError):
        (files / "bad.csv").write_text(content)
        call_command("import_csv", "--shop", "pl", "orders", str(files / "bad.csv"),
                     "--history", stdout=io.StringIO(), stderr=err)

    assert "Line 4, goods_total: Not an amount: “12;5”; use a dot as the decimal separator." \
        in err.getvalue().splitlines()
    assert Order.objects.count() == 0


def test_as_of_needs_history(ladder, files):
    with pytest.raises(CommandError, match="^--as-of needs --history.$"):
        command("customers", str(files / "customers.csv"), "--as-of", "2025-03-20")


def test_progress_counters_move_between_batches(ladder, monkeypatch):
    shop = ladder[0]
    monkeypatch.setattr(planning, "CHUNK_ROWS", 5)
    monkeypatch.setattr(write, "BATCH", 5)
    rows = "".join(f"c{i},Customer {i}\n" for i in range(12))
    job = jobs.job_create(shop=shop, kind="customers", file=ContentFile(
        f"external_id,name\n{rows}".encode()), file_name="c.csv", apply=True, history=True,
        queue=False)
    seen = []

    jobs.job_run(job_id=job.pk, observer=lambda c: seen.append(
        (c["status"], c["rows_checked"], c["rows_written"])))

    assert seen == [
        ("checking", 5, 0), ("checking", 10, 0), ("checking", 12, 0), ("checking", 12, 0),
        ("writing", 12, 5), ("writing", 12, 10), ("writing", 12, 12), ("finished", 12, 12),
    ]
    job.refresh_from_db()
    assert (job.status, job.rows_checked, job.rows_written, job.errors_found) == (
        "finished", 12, 12, 0)
    assert job.report["summary"] == ["customers: 12 to create, 0 to update, 0 unchanged"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_is_visible_in_the_database_while_the_job_runs(monkeypatch):
    """What the admin page reads between batches, from the database (committed while
    checking; on PostgreSQL through a second connection while writing)."""
    shop = ShopFactory(code="pl")
    monkeypatch.setattr(planning, "CHUNK_ROWS", 4)
    monkeypatch.setattr(write, "BATCH", 4)
    rows = "".join(f"c{i},Customer {i}\n" for i in range(8))
    job = jobs.job_create(shop=shop, kind="customers", file=ContentFile(
        f"external_id,name\n{rows}".encode()), file_name="c.csv", apply=True, history=True,
        queue=False)
    stored = []

    def observe(_counters):
        stored.append(ImportJob.objects.filter(pk=job.pk).values_list(
            "rows_checked", "rows_written").get())

    jobs.job_run(job_id=job.pk, observer=observe)

    assert stored[:2] == [(4, 0), (8, 0)]
    assert (8, 4) in stored and stored[-1] == (8, 8)


def test_a_job_runs_once(ladder):
    job = jobs.job_create(shop=ladder[0], kind="customers", file=ContentFile(b"external_id,"
                          b"name\nc1,Anna\n"), file_name="c.csv", apply=True, queue=False)

    assert jobs.job_run(job_id=job.pk).status == "finished"
    assert jobs.job_run(job_id=job.pk) is None  # a redelivered task
    assert Customer.objects.count() == 1


def test_manual_moves_record_the_shops_today(ladder):
    shop, member, silver = ladder
    customer = Customer.objects.create(shop=shop, external_id="x", name="X")

    change = services.customer_move(customer=customer, category=silver, staff_user=None)

    assert change.as_of == shop.today()
