"""CSV import: whole file or nothing, every bad row reported, idempotent, preview first."""

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from djmoney.money import Money

from shops import importing, services
from shops.models import (
    Customer,
    ImportJob,
    Order,
    OrderLine,
    Product,
    Return,
    Shop,
    ShopStaff,
)

FIXTURES = Path(__file__).parent / "import_fixtures"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploaded import files are stored; keep them out of the repository."""
    settings.MEDIA_ROOT = str(tmp_path)


URL = "/admin/shops/import/"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def shop():
    shop = Shop.objects.create(code="pl", name="Sklep PL", currency="PLN",
                               timezone="Europe/Warsaw", default_language="pl")
    for sku, price in [("TEE", "50.00"), ("CAP", "30.00"), ("BOOT", "300.00")]:
        Product.objects.create(shop=shop, sku=sku, name=sku.title(), price=Money(price, "PLN"))
    return shop


@pytest.fixture
def customers(shop):
    return {
        ext: services.customer_upsert(shop=shop, external_id=ext, name=name)[0]
        for ext, name in [("c1", "Anna Nowak"), ("c2", "Jean Dupont")]
    }


@pytest.fixture
def orders(shop, customers):
    """The orders of orders_good.csv, recorded through the services."""
    tee, cap, boot = (Product.objects.get(shop=shop, sku=s) for s in ("TEE", "CAP", "BOOT"))
    line = services.LineInput
    services.order_record(
        shop=shop, number="1001", customer=customers["c1"],
        placed_at=datetime(2025, 3, 1, 9, tzinfo=UTC), status="completed", paid_in_full=True,
        shipping_method="dpd", shipping_cost=Decimal("15"), delivery_city="Warszawa",
        lines=[line(tee, 2, Decimal("50"), Decimal("10")), line(cap, 1, Decimal("30")),
               line(tee, 1, Decimal("50"))],
    )
    services.order_record(
        shop=shop, number="1002", customer=customers["c2"],
        placed_at=datetime(2025, 3, 1, 23, tzinfo=UTC), shipping_method="inpost",
        delivery_city="Paris", lines=[line(boot, 1, Decimal("300"))],
    )


def errors_of(plan) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.message) for e in plan.errors]


def counts_of(plan) -> dict[str, tuple[int, int, int]]:
    return {k: (c.create, c.update, c.unchanged) for k, c in plan.counts.items()}


def snapshot() -> dict:
    return {
        "customers": sorted(Customer.objects.values_list(
            "external_id", "name", "email", "phone", "language", "client_type", "city",
            "address", "is_active", "registered_at")),
        "orders": sorted(Order.objects.values_list(
            "number", "status", "paid_in_full", "goods_total", "returned_total")),
        "lines": OrderLine.objects.count(),
        "returns": sorted(Return.objects.values_list("order__number", "reference", "value")),
    }


# --- Good files ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_customers_file_creates_each_customer_with_its_values(shop):
    plan = importing.import_apply(shop=shop, kind="customers", content=read("customers_good.csv"))

    assert plan.applied and plan.errors == []
    assert counts_of(plan) == {"customers": (3, 0, 0)}
    c1, c2, c3 = Customer.objects.filter(shop=shop).order_by("external_id")
    assert (c1.name, c1.email, c1.phone, c1.language, c1.client_type, c1.city, c1.address,
            c1.is_active) == ("Anna Nowak", "anna@example.com", "+48 600 000 001", "pl",
                              "retail", "Warszawa", "ul. Prosta 1", True)
    # A bare date is midnight in the shop's time zone (Warsaw, UTC+1 in January).
    assert c1.registered_at == datetime(2025, 1, 9, 23, tzinfo=UTC)
    assert (c2.client_type, c2.language, c2.phone) == ("wholesale", "fr", "")
    assert c2.registered_at == datetime(2025, 2, 1, 8, 30, tzinfo=UTC)
    assert (c3.name, c3.city, c3.address, c3.is_active) == (
        "Kowalski, Jan", "Kraków", "ul. Długa 5, m. 2", False)
    assert c3.registered_at == datetime(2025, 3, 5, 11, tzinfo=UTC)


@pytest.mark.django_db
def test_orders_file_records_orders_lines_and_goods_totals(shop, customers):
    plan = importing.import_apply(shop=shop, kind="orders", content=read("orders_good.csv"))

    assert plan.applied and plan.errors == []
    assert counts_of(plan) == {"orders": (2, 0, 0), "lines": (4, 0, 0)}
    o1 = Order.objects.get(shop=shop, number="1001")
    assert (o1.customer, o1.status, o1.paid_in_full, o1.shipping_method, o1.delivery_city) == (
        customers["c1"], "completed", True, "dpd", "Warszawa")
    assert o1.placed_at == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert o1.shipping_cost == Money("15.00", "PLN")
    # 2 x 50 - 10 + 30 + 50; shipping excluded.
    assert o1.goods_total == Money("170.00", "PLN")
    assert o1.returned_total == Money("0", "PLN")
    assert sorted(o1.lines.values_list("product__sku", "quantity", "unit_price", "discount")) == [
        ("CAP", 1, Decimal("30.00"), Decimal("0.00")),
        ("TEE", 1, Decimal("50.00"), Decimal("0.00")),
        ("TEE", 2, Decimal("50.00"), Decimal("10.00")),
    ]
    o2 = Order.objects.get(shop=shop, number="1002")
    assert (o2.customer, o2.status, o2.paid_in_full, o2.goods_total) == (
        customers["c2"], "new", False, Money("300.00", "PLN"))
    assert o2.placed_at == datetime(2025, 3, 1, 23, tzinfo=UTC)
    assert OrderLine.objects.count() == 4


@pytest.mark.django_db
def test_returns_file_records_returns_and_lowers_order_values(shop, orders):
    plan = importing.import_apply(shop=shop, kind="returns", content=read("returns_good.csv"))

    assert plan.applied and plan.errors == []
    assert counts_of(plan) == {"returns": (3, 0, 0)}
    o1 = Order.objects.get(number="1001")
    o2 = Order.objects.get(number="1002")
    assert o1.returned_total == Money("70.00", "PLN")
    assert o1.net_value == Money("100.00", "PLN")
    assert o2.returned_total == Money("100.50", "PLN")
    assert sorted(Return.objects.values_list("order__number", "reference", "value",
                                             "returned_at")) == [
        ("1001", "R-1", Decimal("50.00"), datetime(2025, 3, 4, 23, tzinfo=UTC)),
        ("1001", "R-2", Decimal("20.00"), datetime(2025, 3, 6, 11, tzinfo=UTC)),
        ("1002", "R-3", Decimal("100.50"), datetime(2025, 3, 1, 23, tzinfo=UTC)),
    ]


@pytest.mark.django_db
def test_plan_is_a_preview_and_writes_nothing(shop, customers):
    plan = importing.import_plan(shop=shop, kind="orders", content=read("orders_good.csv"))

    assert plan.is_valid and plan.has_changes and not plan.applied
    assert counts_of(plan) == {"orders": (2, 0, 0), "lines": (4, 0, 0)}
    assert plan.summary() == ["orders: 2 to create, 0 to update, 0 unchanged",
                              "order lines: 4 to create, 0 to update, 0 unchanged"]
    assert [(c.line, c.key, c.details) for c in plan.changes] == [
        (2, "1001", "customer c1, 2025-03-01 10:00, Completed, 3 lines, goods 170.00 PLN"),
        (4, "1002", "customer c2, 2025-03-02 00:00, New, 1 line, goods 300.00 PLN"),
    ]
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0


# --- Re-import -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_reimporting_the_same_files_changes_nothing(shop):
    files = [("customers", "customers_good.csv"), ("orders", "orders_good.csv"),
             ("returns", "returns_good.csv")]
    for kind, name in files:
        assert importing.import_apply(shop=shop, kind=kind, content=read(name)).applied
    before = snapshot()
    assert (len(before["customers"]), len(before["orders"]), before["lines"],
            len(before["returns"])) == (3, 2, 4, 3)

    plans = {kind: importing.import_apply(shop=shop, kind=kind, content=read(name))
             for kind, name in files}

    assert snapshot() == before
    assert {kind: counts_of(plan) for kind, plan in plans.items()} == {
        "customers": {"customers": (0, 0, 3)},
        "orders": {"orders": (0, 0, 2), "lines": (0, 0, 4)},
        "returns": {"returns": (0, 0, 3)},
    }
    assert not any(plan.has_changes or plan.errors for plan in plans.values())


@pytest.mark.django_db
def test_reimported_customer_is_updated_only_where_the_file_differs(shop):
    importing.import_apply(shop=shop, kind="customers", content=read("customers_good.csv"))
    registered = Customer.objects.get(external_id="c1").registered_at
    content = ("external_id,name,city,is_active\n"
               "c1,Anna Nowak,Gdańsk,yes\n"
               "c2,Jean Dupont,Paris,1\n")

    plan = importing.import_apply(shop=shop, kind="customers", content=content)

    assert counts_of(plan) == {"customers": (0, 1, 1)}
    assert [(c.key, c.action, c.details) for c in plan.changes] == [
        ("c1", "update", "city: Warszawa → Gdańsk"), ("c2", "unchanged", "")]
    c1 = Customer.objects.get(external_id="c1")
    # Columns left out of the file are not touched.
    assert (c1.city, c1.email, c1.registered_at) == ("Gdańsk", "anna@example.com", registered)


@pytest.mark.django_db
def test_reimported_order_with_new_status_and_payment_is_updated(shop, customers):
    importing.import_apply(shop=shop, kind="orders", content=read("orders_good.csv"))
    content = read("orders_good.csv").replace(b"1002,c2,2025-03-02,new,no",
                                              b"1002,c2,2025-03-02,completed,yes")

    plan = importing.import_apply(shop=shop, kind="orders", content=content)

    assert counts_of(plan) == {"orders": (0, 1, 1), "lines": (0, 0, 4)}
    assert [c.details for c in plan.changes if c.action == "update"] == [
        "status: new → completed; paid in full: no → yes"]
    o2 = Order.objects.get(number="1002")
    assert (o2.status, o2.paid_in_full, o2.goods_total) == (
        "completed", True, Money("300.00", "PLN"))
    assert OrderLine.objects.count() == 4


@pytest.mark.django_db
def test_existing_order_with_other_lines_or_customer_is_a_conflict(shop, orders):
    content = read("orders_good.csv").replace(b"TEE,1,50.00", b"TEE,3,50.00").replace(
        b"1002,c2", b"1002,c1")

    plan = importing.import_apply(shop=shop, kind="orders", content=content)

    assert not plan.applied
    assert errors_of(plan) == [
        (2, "order_number", "Order 1001 already exists and differs in: order lines. An import "
                            "may only change an order's status and payment."),
        (4, "order_number", "Order 1002 already exists and differs in: customer. An import "
                            "may only change an order's status and payment."),
    ]
    assert Order.objects.get(number="1001").goods_total == Money("170.00", "PLN")


# --- Bad files -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_orders_file_imports_nothing_and_reports_every_bad_row(shop, customers):
    plan = importing.import_apply(shop=shop, kind="orders", content=read("orders_bad.csv"))

    assert not plan.applied and plan.invalid_rows == 4
    assert errors_of(plan) == [
        (3, "customer_external_id", "Unknown customer “nobody” in shop pl."),
        (4, "placed_at", "Not a date: “2025-13-01”; use YYYY-MM-DD or YYYY-MM-DD HH:MM."),
        (4, "status", "Unknown status “shipped”; use one of: new, completed, cancelled."),
        (4, "paid_in_full", "Expected yes or no (1/0, true/false), got “maybe”."),
        (4, "sku", "Unknown product “NOPE” in shop pl."),
        (4, "quantity", "Quantity must be at least 1."),
        (4, "unit_price", "Must not be negative."),
        (4, "currency", "Currency EUR does not match the shop's currency PLN."),
        (5, "customer_external_id", "Differs from line 2 of the same order."),
        (5, "discount", "A line's discount cannot exceed its value."),
        (6, "shipping_cost", "Must not be negative."),
        (6, "unit_price", "Not an amount: “12,50”; use a dot as the decimal separator."),
    ]
    # Line 2 alone is valid, yet nothing is written.
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0


@pytest.mark.django_db
def test_bad_customers_file_imports_nothing_and_reports_every_bad_row(shop):
    plan = importing.import_apply(shop=shop, kind="customers", content=read("customers_bad.csv"))

    assert errors_of(plan) == [
        (3, "name", "A value is required."),
        (3, "email", "Enter a valid email address."),
        (3, "language", "Unknown language “de”; use one of: en, pl, uk, ru, fr."),
        (3, "client_type", "Unknown client type “vip”; use one of: retail, wholesale."),
        (3, "is_active", "Expected yes or no (1/0, true/false), got “perhaps”."),
        (3, "registered_at", "Not a date: “yesterday”; use YYYY-MM-DD or YYYY-MM-DD HH:MM."),
        (4, "external_id", "Customer k1 is also on line 2, with different values."),
        (5, "external_id", "A value is required."),
    ]
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_bad_returns_file_imports_nothing_and_reports_every_bad_row(shop, orders):
    plan = importing.import_apply(shop=shop, kind="returns", content=read("returns_bad.csv"))

    assert errors_of(plan) == [
        (3, "value", "Returned value 180.00 is above the order's goods value 170.00."),
        (4, "order_number", "Unknown order 9999 in shop pl."),
        (5, "value", "A returned value must be above zero."),
        (5, "returned_at", "The return is dated before the order was placed (2025-03-02)."),
        (6, "reference", "Return R-1 of order 1001 is also on line 2, with a different value "
                         "or date."),
    ]
    assert Return.objects.count() == 0
    assert Order.objects.get(number="1001").returned_total == Money("0", "PLN")


@pytest.mark.django_db
def test_returns_count_already_recorded_returns_against_the_goods_value(shop, orders):
    order = Order.objects.get(number="1001")
    services.return_record(order=order, value=Decimal("150"), reference="R-0")
    content = ("order_number,reference,value,returned_at,currency\n"
               "1001,R-0,150,2025-03-05,PLN\n"
               "1001,R-9,20.01,2025-03-05,PLN\n")

    plan = importing.import_plan(shop=shop, kind="returns", content=content)

    assert errors_of(plan) == [
        (2, "reference", "Return R-0 of order 1001 is already recorded with a different value "
                         "or date; recorded returns are not changed by import."),
        (3, "value", "Returned value 170.01 is above the order's goods value 170.00."),
    ]


@pytest.mark.django_db
def test_header_must_name_every_required_column_and_no_unknown_one(shop):
    content = "external_id,nmae,e-mail\nc1,Anna,a@example.com\n"

    plan = importing.import_plan(shop=shop, kind="customers", content=content)

    columns = ", ".join(importing.COLUMNS[importing.ImportKind.CUSTOMERS].all)
    unknown = f"Unknown column; the columns of this file are: {columns}."
    assert errors_of(plan) == [
        (1, "nmae", unknown), (1, "e-mail", unknown), (1, "name", "Missing column."),
    ]


@pytest.mark.django_db
def test_empty_file_and_header_only_file_are_errors(shop):
    assert errors_of(importing.import_plan(shop=shop, kind="customers", content=b"")) == [
        (1, "", "The file is empty.")]
    assert errors_of(importing.import_plan(
        shop=shop, kind="customers", content=b"external_id,name\n\n")) == [
        (2, "", "The file has no rows.")]


@pytest.mark.django_db
def test_line_numbers_count_physical_lines_and_semicolons_and_bom_are_read(shop):
    content = ("\ufeffexternal_id;name;address;shop\r\n"
               "c1;Anna;\"ul. Prosta 1\r\nm. 2\";pl\r\n"
               "\r\n"
               "c2;Jean;;fr\r\n"
               "c3;Jan\r\n").encode()

    plan = importing.import_plan(shop=shop, kind="customers", content=content)

    assert errors_of(plan) == [
        (5, "shop", "This row is for shop “fr”, not “pl”."),
        (6, "", "This row has 2 cells; the header has 4."),
    ]


@pytest.mark.django_db
def test_file_that_is_not_utf8_is_reported_with_its_line(shop):
    content = "external_id,name\nc1,Anna\nc2,Kraków\n".encode("cp1250")

    plan = importing.import_plan(shop=shop, kind="customers", content=content)

    assert errors_of(plan) == [
        (3, "", "The file is not UTF-8 text; save it as “CSV UTF-8” and upload it again.")]


@pytest.mark.django_db
def test_amount_with_more_than_two_decimals_is_rejected(shop, orders):
    content = "order_number,reference,value,returned_at\n1001,R-1,10.005,2025-03-05\n"

    plan = importing.import_plan(shop=shop, kind="returns", content=content)

    assert errors_of(plan) == [(2, "value", "At most two decimal places.")]


# --- Management command --------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_the_preview_then_imports(shop):
    out = io.StringIO()

    call_command("import_csv", "--shop", "pl", "customers",
                 str(FIXTURES / "customers_good.csv"), stdout=out)

    assert out.getvalue().splitlines() == [
        "customers: 3 to create, 0 to update, 0 unchanged", "Imported."]
    assert Customer.objects.filter(shop=shop).count() == 3


@pytest.mark.django_db
def test_command_dry_run_writes_nothing(shop, customers):
    out = io.StringIO()

    call_command("import_csv", "--shop", "pl", "orders", str(FIXTURES / "orders_good.csv"),
                 "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        "orders: 2 to create, 0 to update, 0 unchanged",
        "order lines: 4 to create, 0 to update, 0 unchanged",
        "Dry run: nothing was written.",
    ]
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_command_on_a_bad_file_lists_errors_fails_and_imports_nothing(shop, customers):
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="^4 rows are invalid; nothing was imported.$"):
        call_command("import_csv", "--shop", "pl", "orders", str(FIXTURES / "orders_bad.csv"),
                     stdout=out, stderr=err)

    lines = [line for line in err.getvalue().splitlines() if line.startswith("Line ")]
    assert err.getvalue().splitlines()[0] == "Checked: 5 rows, 12 errors so far."
    assert len(lines) == 12
    assert lines[0] == "Line 3, customer_external_id: Unknown customer “nobody” in shop pl."
    assert lines[-1] == ("Line 6, unit_price: Not an amount: “12,50”; use a dot as the "
                         "decimal separator.")
    assert out.getvalue() == ""
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_command_rejects_an_unknown_shop(shop):
    with pytest.raises(CommandError, match="^Unknown shop “xx”.$"):
        call_command("import_csv", "--shop", "xx", "customers",
                     str(FIXTURES / "customers_good.csv"))


# --- Admin ---------------------------------------------------------------------------------


def upload(client, shop, kind, name, content=None):
    file = SimpleUploadedFile(name, content if content is not None else read(name),
                              content_type="text/csv")
    return client.post(URL, {"shop": shop.pk, "kind": kind, "file": file})


def run_jobs(capture, action):
    """Do `action` (a request) and run the jobs it queued, as the task does after commit."""
    with capture(execute=True):
        return action()


def job_page(client, response):
    assert response.status_code == 302 and response.url.startswith(f"{URL}?job=")
    return client.get(response.url)


@pytest.mark.django_db
@pytest.mark.urls("tests.shops.import_urls")
def test_admin_upload_preview_confirm_imports_the_file(
    admin_client, shop, customers, django_capture_on_commit_callbacks
):
    assert admin_client.get(URL).status_code == 200

    uploaded = run_jobs(django_capture_on_commit_callbacks,
                        lambda: upload(admin_client, shop, "orders", "orders_good.csv"))
    preview = job_page(admin_client, uploaded)

    assert [t.name for t in preview.templates][0] == "admin/shops/import_job.html"
    html = preview.content.decode()
    counts = re.search(r'<table id="import-counts">.*?</table>', html, re.S).group(0)
    assert re.findall(r"<th>(.*?)</th><td>(\d+)</td><td>(\d+)</td>\s*<td>(\d+)</td>",
                      counts) == [("Orders", "2", "0", "0"), ("Order lines", "4", "0", "0")]
    assert "customer c1, 2025-03-01 10:00, Completed, 3 lines, goods 170.00 PLN" in html
    assert 'http-equiv="refresh"' not in html  # finished: the page stops refreshing
    assert Order.objects.count() == 0

    job = preview.context["job"]
    confirmed = run_jobs(django_capture_on_commit_callbacks,
                         lambda: admin_client.post(URL, {"job": job.pk, "confirm": "1"}))
    done = job_page(admin_client, confirmed)

    assert done.context["job"].status == "finished" and done.context["job"].apply
    assert '<p id="import-done">Imported.</p>' in done.content.decode()
    assert done.context["job"].rows_written == 2
    assert Order.objects.get(number="1001").goods_total == Money("170.00", "PLN")
    assert OrderLine.objects.count() == 4
    assert LogEntry.objects.get().change_message == (
        "Orders (one row per order line): orders: 2 to create, 0 to update, 0 unchanged; "
        "order lines: 4 to create, 0 to update, 0 unchanged")


@pytest.mark.django_db
@pytest.mark.urls("tests.shops.import_urls")
def test_admin_page_of_a_running_job_refreshes_and_shows_the_counters(admin_client, shop):
    """Before the task has run (a worker would take it): the page shows the counters and
    refreshes itself."""
    job = job_page(admin_client, upload(admin_client, shop, "customers", "customers_good.csv"))

    html = job.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<td id="import-status">Queued</td>' in html
    assert "<th>Rows checked</th><td>0</td>" in html


@pytest.mark.django_db
@pytest.mark.urls("tests.shops.import_urls")
def test_admin_bad_file_shows_every_error_and_writes_nothing(
    admin_client, shop, customers, django_capture_on_commit_callbacks
):
    response = job_page(admin_client, run_jobs(
        django_capture_on_commit_callbacks,
        lambda: upload(admin_client, shop, "orders", "orders_bad.csv")))

    html = response.content.decode()
    assert "4 rows are invalid. Nothing was imported" in html
    assert "<th>Errors so far</th><td>12</td>" in html
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w*)</td><td>(.*?)</td></tr>", html)
    assert len(rows) == 12
    assert rows[0] == ("3", "customer_external_id", "Unknown customer “nobody” in shop pl.")
    assert 'name="confirm"' not in html
    assert Order.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.urls("tests.shops.import_urls")
def test_admin_revalidates_before_applying(
    admin_client, shop, orders, django_capture_on_commit_callbacks
):
    preview = job_page(admin_client, run_jobs(
        django_capture_on_commit_callbacks,
        lambda: upload(admin_client, shop, "returns", "returns_good.csv")))
    assert preview.context["job"].status == "finished"
    # Meanwhile someone records a return that leaves no room for the file's returns.
    services.return_record(order=Order.objects.get(number="1002"), value=Decimal("250"))

    response = job_page(admin_client, run_jobs(
        django_capture_on_commit_callbacks,
        lambda: admin_client.post(URL, {"job": preview.context["job"].pk, "confirm": "1"})))

    assert response.context["job"].status == "invalid"
    assert response.context["report"]["errors"] == [
        [4, "value", "Returned value 350.50 is above the order's goods value 300.00."]]
    assert Return.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.urls("tests.shops.import_urls")
def test_admin_job_of_another_shop_is_refused(client, django_user_model, shop):
    other = Shop.objects.create(code="fr", name="Boutique", currency="EUR")
    job = ImportJob.objects.create(shop=other, kind="customers", file="x.csv")
    user = django_user_model.objects.create_user(username="staff", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["add_customer", "change_customer"]))
    ShopStaff.objects.create(user=user, shop=shop)
    client.force_login(user)

    assert client.get(f"{URL}?job={job.pk}").status_code == 403
    assert client.post(URL, {"job": job.pk, "confirm": "1"}).status_code == 403


@pytest.mark.django_db
@pytest.mark.urls("tests.shops.import_urls")
def test_admin_import_needs_a_staff_user(client, django_user_model, shop):
    user = django_user_model.objects.create_user(username="shopper", password="x")
    client.force_login(user)

    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


@pytest.mark.django_db
@pytest.mark.urls("tests.shops.import_urls")
def test_admin_import_needs_the_model_permissions(client, django_user_model, shop):
    user = django_user_model.objects.create_user(username="staff", password="x", is_staff=True)
    ShopStaff.objects.create(user=user, shop=shop)
    client.force_login(user)

    response = upload(client, shop, "customers", "customers_good.csv")

    assert response.context["form"].errors == {
        "kind": ["You may not import this kind of file."]}
    assert Customer.objects.count() == 0


def test_command_help_renders():
    from shops.management.commands.import_csv import Command

    help_text = Command().create_parser("manage.py", "import_csv").format_help()

    assert "A file with any invalid row imports nothing." in " ".join(help_text.split())
