"""CSV import of customers, orders and returns into one shop.

Contract
--------
``import_plan(shop=, kind=, content=)`` reads the file and the shop's data and returns an
:class:`ImportPlan`. It never writes, so it is the preview. The plan holds every problem as a
:class:`RowError` ``(line, column, reason)`` -- all of them, not only the first -- and, for a
valid file, what applying would do: counts *to create / to update / unchanged* per kind of
record and one :class:`PlannedChange` per record.

``import_apply(shop=, kind=, content=)`` plans again inside one transaction (the data may have
changed since the preview) and, only when the whole file is valid, writes it through
``shops.services``. A file with any invalid row writes nothing. Importing the same file a
second time changes nothing and its plan says everything is unchanged.

The file
--------
UTF-8 (an Excel byte-order mark is fine); comma-separated, or semicolon- or tab-separated
(detected from the header line). The first line is the header: column names are
case-insensitive and may come in any order; a missing required column or an unknown column is
an error. Reported line numbers are the file's own (the header is line 1); blank lines are
skipped. ``*`` marks a required column.

Values: dates ``YYYY-MM-DD`` or date-times ``YYYY-MM-DD HH:MM[:SS]`` (ISO 8601, ``T`` and an
offset such as ``+01:00`` allowed); without an offset they are in the shop's time zone, and a
bare date means midnight there. Amounts are in the shop's currency: a dot as the decimal
separator, at most two decimals, never negative. Yes/no cells: ``1/0``, ``true/false``,
``yes/no``. Every file may have a ``shop`` column (must equal the shop's code); orders and
returns may have a ``currency`` column (must equal the shop's currency). Empty cells in those
two columns are allowed.

``customers`` -- one row per customer, keyed by ``external_id``:
    external_id*, name*, email, phone, language, client_type, city, address, is_active,
    registered_at
    ``language`` is a configured language code (empty: the shop's default); ``client_type`` is
    ``retail`` or ``wholesale`` (``professional`` is read as wholesale). A column left out of
    the file is not touched on existing customers (model default for new ones); an empty
    cell clears a text field, and is an error in ``client_type``, ``is_active`` and
    ``registered_at``. An existing customer is compared field by field and updated only
    where the file differs. The same external id twice with identical values is read once;
    with different values it is an error.

``orders`` -- one row per order line; rows sharing ``order_number`` form one order (they need
not be adjacent):
    order_number*, customer_external_id*, placed_at*, status*, paid_in_full*,
    shipping_method, shipping_cost, delivery_city, sku*, quantity*, unit_price*, discount,
    currency
    Order columns (``customer_external_id`` to ``delivery_city``) are read from the order's
    first row; later rows may leave them empty or repeat them, and a different value is an
    error. ``status`` is ``new``, ``completed`` or ``cancelled``; ``discount`` is the total
    discount of the line (all units, default 0, at most the line's value); ``shipping_cost``
    defaults to 0. Customers and products (by SKU) must already exist in the shop: import
    customers first. Two rows with the same SKU are two lines.
    An order number that already exists is compared with the file: same customer, date,
    shipping and lines (as a multiset) and the same status and payment -> unchanged; only
    status and/or payment differ -> updated (the file is the truth for the order's state,
    which is how a storefront export reports completions and payments); anything else
    differs -> an error, because facts of a recorded order (its lines, hence its value and
    its returns' bound) are corrected in the admin, not overwritten by a file.

``returns`` -- one row per return:
    order_number*, reference*, value*, returned_at*, currency
    ``reference`` is the storefront's return id; it is required because it is what makes a
    re-import idempotent (a return without one could not be recognised the second time).
    The order must exist; ``value`` must be above zero; the order's recorded returns plus the
    file's returns must not exceed its goods value; a return may not be dated before the
    order's date. An existing (order, reference) with the same value and date is unchanged;
    with a different value or date it is an error (recorded returns are not edited by
    import).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import services, validation
from .models import ClientType, Customer, Order, OrderLine, OrderStatus, Product, Return, Shop

#: How many planned changes of each kind the preview lists.
PREVIEW_ROWS = 20


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", gettext_lazy("Customers")
    ORDERS = "orders", gettext_lazy("Orders (one row per order line)")
    RETURNS = "returns", gettext_lazy("Returns")


class Action(models.TextChoices):
    CREATE = "create", gettext_lazy("create")
    UPDATE = "update", gettext_lazy("update")
    UNCHANGED = "unchanged", gettext_lazy("unchanged")


@dataclass(frozen=True)
class Columns:
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


#: The columns of each kind of file, in the order the documentation lists them.
COLUMNS = {
    ImportKind.CUSTOMERS: Columns(
        required=("external_id", "name"),
        optional=("email", "phone", "language", "client_type", "city", "address", "is_active",
                  "registered_at", "shop"),
    ),
    ImportKind.ORDERS: Columns(
        required=("order_number", "customer_external_id", "placed_at", "status",
                  "paid_in_full", "sku", "quantity", "unit_price"),
        optional=("shipping_method", "shipping_cost", "delivery_city", "discount", "currency",
                  "shop"),
    ),
    ImportKind.RETURNS: Columns(
        required=("order_number", "reference", "value", "returned_at"),
        optional=("currency", "shop"),
    ),
}

#: Which kinds of record each kind of file counts, in display order.
RECORDS = {
    ImportKind.CUSTOMERS: ("customers",),
    ImportKind.ORDERS: ("orders", "lines"),
    ImportKind.RETURNS: ("returns",),
}
_RECORD_MODELS = {"customers": Customer, "orders": Order, "lines": OrderLine, "returns": Return}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("Line %(line)d, %(column)s: %(message)s") % {
                "line": self.line, "column": self.column, "message": self.message}
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class Counts:
    create: int = 0
    update: int = 0
    unchanged: int = 0

    def add(self, action: str, n: int = 1) -> None:
        setattr(self, action, getattr(self, action) + n)


@dataclass(frozen=True)
class PlannedChange:
    line: int
    record: str  # a key of RECORDS' tuples: "customers", "orders", "returns"
    action: str  # an Action value
    key: str  # external id, order number, or "order number / reference"
    details: str

    @property
    def action_label(self) -> str:
        return str(Action(self.action).label)


@dataclass(frozen=True)
class _Step:
    line: int
    run: Callable[[], Any]


@dataclass
class ImportPlan:
    shop: Shop
    kind: str
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    changes: list[PlannedChange] = field(default_factory=list)
    rows: int = 0
    applied: bool = False
    steps: list[_Step] = field(default_factory=list, repr=False)

    @property
    def kind_label(self) -> str:
        return str(ImportKind(self.kind).label)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return any(c.create or c.update for c in self.counts.values())

    @property
    def invalid_rows(self) -> int:
        return len({e.line for e in self.errors})

    @property
    def count_rows(self) -> list[tuple[str, Counts]]:
        """(label, counts) per kind of record, for display."""
        return [
            (str(_RECORD_MODELS[record]._meta.verbose_name_plural), self.counts[record])
            for record in RECORDS[ImportKind(self.kind)]
        ]

    @property
    def samples(self) -> list[tuple[str, list[PlannedChange]]]:
        """The first PREVIEW_ROWS creations and updates of each kind of record."""
        out = []
        for record in RECORDS[ImportKind(self.kind)]:
            rows = [c for c in self.changes if c.record == record and c.action != Action.UNCHANGED]
            if rows:
                label = str(_RECORD_MODELS[record]._meta.verbose_name_plural)
                out.append((label, rows[:PREVIEW_ROWS]))
        return out

    def summary(self) -> list[str]:
        """One line per kind of record: "orders: 2 to create, 1 to update, 0 unchanged"."""
        return [
            _("%(records)s: %(create)d to create, %(update)d to update, %(unchanged)d unchanged")
            % {"records": label, "create": c.create, "update": c.update,
               "unchanged": c.unchanged}
            for label, c in self.count_rows
        ]


# --- Reading cells -------------------------------------------------------------------------


class _Bad(Exception):
    """A cell that cannot be read; the message is shown to the merchant."""


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: The column is not in the file.
MISSING = _Sentinel("MISSING")
#: The cell is invalid (the error is already recorded).
BAD = _Sentinel("BAD")


def _text(model: type[models.Model], name: str) -> Callable[[str], str]:
    max_length = model._meta.get_field(name).max_length

    def parse(raw: str) -> str:
        if max_length and len(raw) > max_length:
            raise _Bad(ngettext("At most %(count)d character.", "At most %(count)d characters.",
                                max_length) % {"count": max_length})
        return raw

    return parse


def _amount(raw: str) -> Decimal:
    if raw == "":
        return Decimal(0)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise _Bad(_("Not an amount: “%(value)s”; use a dot as the decimal separator.")
                   % {"value": raw})
    try:
        validation.check_not_negative(amount=value, field="amount")
    except ValidationError as exc:
        raise _Bad(exc.messages[0]) from None
    if value.as_tuple().exponent < -2:
        raise _Bad(_("At most two decimal places."))
    if value >= 10**12:
        raise _Bad(_("The amount is too large."))
    return value


def _quantity(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise _Bad(_("Not a whole number: “%(value)s”.") % {"value": raw}) from None
    if value < 1:
        raise _Bad(_("Quantity must be at least 1."))
    if value > 2**31 - 1:
        raise _Bad(_("The quantity is too large."))
    return value


_YES = {"1", "true", "yes", "y"}
_NO = {"0", "false", "no", "n"}


def _yes_no(raw: str) -> bool:
    if raw.lower() in _YES:
        return True
    if raw.lower() in _NO:
        return False
    raise _Bad(_("Expected yes or no (1/0, true/false), got “%(value)s”.") % {"value": raw})


def _datetime(shop: Shop) -> Callable[[str], datetime]:
    def parse(raw: str) -> datetime:
        try:
            value = parse_datetime(raw)
            if value is None:
                day = parse_date(raw)
                value = datetime.combine(day, time()) if day else None
            if value is not None and timezone.is_naive(value):
                value = timezone.make_aware(value, shop.tz)
            if value is not None:
                value.astimezone(shop.tz)  # out-of-range years fail here, not when saving
        except (ValueError, OverflowError):
            value = None
        if value is None:
            raise _Bad(_("Not a date: “%(value)s”; use YYYY-MM-DD or YYYY-MM-DD HH:MM.")
                       % {"value": raw})
        return value

    return parse


def _status(raw: str) -> str:
    if raw.lower() not in OrderStatus.values:
        raise _Bad(_("Unknown status “%(value)s”; use one of: %(choices)s.")
                   % {"value": raw, "choices": ", ".join(OrderStatus.values)})
    return raw.lower()


def _client_type(raw: str) -> str:
    value = raw.lower()
    if value == "professional":
        return ClientType.WHOLESALE
    if value not in ClientType.values:
        raise _Bad(_("Unknown client type “%(value)s”; use one of: %(choices)s.")
                   % {"value": raw, "choices": ", ".join(ClientType.values)})
    return value


def _language(raw: str) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if raw and raw.lower() not in codes:
        raise _Bad(_("Unknown language “%(value)s”; use one of: %(choices)s.")
                   % {"value": raw, "choices": ", ".join(codes)})
    return raw.lower()


def _email(raw: str) -> str:
    if raw:
        try:
            validate_email(raw)
        except ValidationError as exc:
            raise _Bad(exc.messages[0]) from None
    return _text(Customer, "email")(raw)


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]


class _Cells:
    """Reads cells of a row and records every problem in the plan."""

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan

    def error(self, line: int, column: str, message: str) -> None:
        self.plan.errors.append(RowError(line=line, column=column, message=message))

    def get(self, row: _Row, column: str, parse: Callable[[str], Any], *,
            required: bool = False) -> Any:
        """The parsed value, MISSING when the column is not in the file, or BAD."""
        raw = row.cells.get(column)
        if raw is None:
            return MISSING
        if raw == "" and required:
            self.error(row.line, column, _("A value is required."))
            return BAD
        try:
            return parse(raw)
        except _Bad as exc:
            self.error(row.line, column, str(exc))
            return BAD

    def check_shop_and_currency(self, row: _Row) -> None:
        shop = self.plan.shop
        code = row.cells.get("shop", "")
        if code and code != shop.code:
            self.error(row.line, "shop", _("This row is for shop “%(got)s”, not “%(want)s”.")
                       % {"got": code, "want": shop.code})
        currency = row.cells.get("currency", "")
        if currency:
            try:
                validation.check_currency(
                    currency=currency.upper(), shop_currency=shop.currency, field="currency")
            except ValidationError as exc:
                self.error(row.line, "currency", exc.messages[0])


def _decode(content: str | bytes, plan: ImportPlan) -> str | None:
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        plan.errors.append(RowError(line=line, column="", message=_(
            "The file is not UTF-8 text; save it as “CSV UTF-8” and upload it again.")))
        return None


def _read(text: str, plan: ImportPlan) -> list[_Row]:
    """The data rows, or [] with errors recorded when the header or the layout is wrong."""
    columns = COLUMNS[ImportKind(plan.kind)]
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        plan.errors.append(RowError(line=1, column="", message=str(exc)))
        return []
    if not header or not any(h.strip() for h in header):
        plan.errors.append(RowError(line=1, column="", message=_("The file is empty.")))
        return []
    names = [h.strip().lower() for h in header]
    for name in names:
        if name not in columns.all:
            plan.errors.append(RowError(line=1, column=name, message=_(
                "Unknown column; the columns of this file are: %(columns)s.")
                % {"columns": ", ".join(columns.all)}))
    for name, count in Counter(names).items():
        if count > 1 and name in columns.all:
            plan.errors.append(RowError(line=1, column=name, message=_("Repeated column.")))
    for name in columns.required:
        if name not in names:
            plan.errors.append(RowError(line=1, column=name, message=_("Missing column.")))
    if plan.errors:
        return []

    rows = []
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) != len(names):
                    plan.errors.append(RowError(line=line, column="", message=_(
                        "This row has %(got)d cells; the header has %(want)d.")
                        % {"got": len(record), "want": len(names)}))
                else:
                    cells = {n: c.strip() for n, c in zip(names, record, strict=True)}
                    rows.append(_Row(line=line, cells=cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        plan.errors.append(RowError(line=line, column="", message=str(exc)))
    if not rows and not plan.errors:
        plan.errors.append(RowError(line=2, column="", message=_("The file has no rows.")))
    plan.rows = len(rows)
    return rows


def _show(value: Any, shop: Shop) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return value.astimezone(shop.tz).strftime("%Y-%m-%d %H:%M")
    if value == "":
        return "—"
    return str(value)


def _field_label(model: type[models.Model], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


# --- Customers -----------------------------------------------------------------------------


def _plan_customers(plan: ImportPlan, rows: list[_Row]) -> None:
    shop, cells = plan.shop, _Cells(plan)
    parsers: list[tuple[str, Callable[[str], Any], bool]] = [
        ("name", _text(Customer, "name"), True),
        ("email", _email, False),
        ("phone", _text(Customer, "phone"), False),
        ("language", _language, False),
        ("client_type", _client_type, True),
        ("city", _text(Customer, "city"), False),
        ("address", _text(Customer, "address"), False),
        ("is_active", _yes_no, True),
        ("registered_at", _datetime(shop), True),
    ]
    wanted = {row.cells.get("external_id", "") for row in rows}
    existing = {
        c.external_id: c for c in Customer.objects.filter(shop=shop, external_id__in=wanted)
    }
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    counts = plan.counts["customers"]

    for row in rows:
        before = len(plan.errors)
        external_id = cells.get(row, "external_id", _text(Customer, "external_id"), required=True)
        fields = {}
        for name, parse, required in parsers:
            value = cells.get(row, name, parse, required=required)
            if value is not MISSING:
                fields[name] = value
        cells.check_shop_and_currency(row)
        if len(plan.errors) > before:
            continue
        if external_id in seen:
            first_line, first_fields = seen[external_id]
            if first_fields != fields:
                cells.error(row.line, "external_id", _(
                    "Customer %(id)s is also on line %(line)d, with different values.")
                    % {"id": external_id, "line": first_line})
            continue
        seen[external_id] = (row.line, fields)

        customer = existing.get(external_id)
        if customer is None:
            action, details = Action.CREATE, fields["name"]
        else:
            changed = {k: v for k, v in fields.items() if getattr(customer, k) != v}
            action = Action.UPDATE if changed else Action.UNCHANGED
            details = "; ".join(
                f"{_field_label(Customer, k)}: {_show(getattr(customer, k), shop)} → "
                f"{_show(v, shop)}"
                for k, v in changed.items()
            )
        counts.add(action)
        plan.changes.append(PlannedChange(
            line=row.line, record="customers", action=action, key=external_id, details=details))
        if action != Action.UNCHANGED:
            plan.steps.append(_Step(line=row.line, run=partial(
                services.customer_upsert, shop=shop, external_id=external_id, **fields)))


# --- Orders --------------------------------------------------------------------------------

_ORDER_COLUMNS = ("customer_external_id", "placed_at", "status", "paid_in_full",
                  "shipping_method", "shipping_cost", "delivery_city")


@dataclass
class _OrderDraft:
    line: int
    number: str
    values: dict[str, Any]
    lines: list[services.LineInput] = field(default_factory=list)
    bad: bool = False


def _plan_orders(plan: ImportPlan, rows: list[_Row]) -> None:
    shop, cells = plan.shop, _Cells(plan)
    parsers: dict[str, Callable[[str], Any]] = {
        "customer_external_id": _text(Customer, "external_id"),
        "placed_at": _datetime(shop),
        "status": _status,
        "paid_in_full": _yes_no,
        "shipping_method": _text(Order, "shipping_method"),
        "shipping_cost": _amount,
        "delivery_city": _text(Order, "delivery_city"),
    }
    required = {"customer_external_id", "placed_at", "status", "paid_in_full"}
    customers = {c.external_id: c for c in Customer.objects.filter(
        shop=shop, external_id__in={r.cells.get("customer_external_id", "") for r in rows})}
    products = {p.sku: p for p in Product.objects.filter(
        shop=shop, sku__in={r.cells.get("sku", "") for r in rows})}
    drafts: dict[str, _OrderDraft] = {}

    for row in rows:
        before = len(plan.errors)
        number = cells.get(row, "order_number", _text(Order, "number"), required=True)
        if number is BAD:
            continue
        draft = drafts.get(number)
        if draft is None:
            values = {name: cells.get(row, name, parse, required=name in required)
                      for name, parse in parsers.items()}
            draft = drafts[number] = _OrderDraft(line=row.line, number=number, values=values)
            customer_id = values["customer_external_id"]
            if customer_id is not BAD and customer_id not in customers:
                cells.error(row.line, "customer_external_id", _(
                    "Unknown customer “%(id)s” in shop %(shop)s.")
                    % {"id": customer_id, "shop": shop.code})
        else:
            for name, parse in parsers.items():
                if row.cells.get(name, "") == "":
                    continue  # later rows of an order may leave order columns empty
                value = cells.get(row, name, parse)
                first = draft.values[name]
                if BAD not in (value, first) and value != first:
                    cells.error(row.line, name, _(
                        "Differs from line %(line)d of the same order.") % {"line": draft.line})

        sku = cells.get(row, "sku", _text(Product, "sku"), required=True)
        product = products.get(sku)
        if sku is not BAD and product is None:
            cells.error(row.line, "sku", _("Unknown product “%(sku)s” in shop %(shop)s.")
                        % {"sku": sku, "shop": shop.code})
        quantity = cells.get(row, "quantity", _quantity, required=True)
        unit_price = cells.get(row, "unit_price", _amount, required=True)
        discount = cells.get(row, "discount", _amount)
        discount = Decimal(0) if discount is MISSING else discount
        if BAD not in (quantity, unit_price, discount) and discount > unit_price * quantity:
            cells.error(row.line, "discount", _("A line's discount cannot exceed its value."))
        cells.check_shop_and_currency(row)
        if len(plan.errors) > before:
            draft.bad = True
            continue
        draft.lines.append(services.LineInput(
            product=product, quantity=quantity, unit_price=unit_price, discount=discount))

    existing = {o.number: o for o in Order.objects.filter(
        shop=shop, number__in=[d.number for d in drafts.values() if not d.bad],
    ).prefetch_related("lines")}
    for draft in drafts.values():
        if not draft.bad:
            _plan_order(plan, draft, customers, existing.get(draft.number))


def _plan_order(plan: ImportPlan, draft: _OrderDraft, customers: dict[str, Customer],
                order: Order | None) -> None:
    shop, values = plan.shop, draft.values
    customer = customers[values["customer_external_id"]]
    goods = sum((ln.unit_price * ln.quantity - ln.discount for ln in draft.lines), Decimal(0))
    if order is None:
        kwargs = {k: v for k, v in values.items()
                  if k != "customer_external_id" and v is not MISSING}
        plan.counts["orders"].add(Action.CREATE)
        plan.counts["lines"].add(Action.CREATE, len(draft.lines))
        details = ngettext(
            "customer %(customer)s, %(date)s, %(status)s, %(count)d line, goods %(goods)s",
            "customer %(customer)s, %(date)s, %(status)s, %(count)d lines, goods %(goods)s",
            len(draft.lines),
        ) % {"customer": customer.external_id, "date": _show(values["placed_at"], shop),
             "status": OrderStatus(values["status"]).label, "count": len(draft.lines),
             "goods": f"{goods:.2f} {shop.currency}"}
        plan.changes.append(PlannedChange(
            line=draft.line, record="orders", action=Action.CREATE, key=draft.number,
            details=details))
        plan.steps.append(_Step(line=draft.line, run=partial(
            services.order_record, shop=shop, number=draft.number, customer=customer,
            lines=draft.lines, **kwargs)))
        return

    facts = {
        "customer": order.customer_id == customer.pk,
        "placed_at": order.placed_at == values["placed_at"],
        "shipping_method": values["shipping_method"] in (MISSING, order.shipping_method),
        "shipping_cost": values["shipping_cost"] in (MISSING, order.shipping_cost.amount),
        "delivery_city": values["delivery_city"] in (MISSING, order.delivery_city),
    }
    differ = [_field_label(Order, name) for name, same in facts.items() if not same]
    recorded = Counter((ln.product_id, ln.quantity, ln.unit_price.amount, ln.discount.amount)
                       for ln in order.lines.all())
    in_file = Counter((ln.product.pk, ln.quantity, ln.unit_price, ln.discount)
                      for ln in draft.lines)
    if recorded != in_file:
        differ.append(str(OrderLine._meta.verbose_name_plural))
    if differ:
        plan.errors.append(RowError(line=draft.line, column="order_number", message=_(
            "Order %(number)s already exists and differs in: %(fields)s. An import may only "
            "change an order's status and payment.")
            % {"number": draft.number, "fields": ", ".join(differ)}))
        return

    state = {"status": values["status"], "paid_in_full": values["paid_in_full"]}
    changed = {k: v for k, v in state.items() if getattr(order, k) != v}
    action = Action.UPDATE if changed else Action.UNCHANGED
    plan.counts["orders"].add(action)
    plan.counts["lines"].add(Action.UNCHANGED, len(draft.lines))
    plan.changes.append(PlannedChange(
        line=draft.line, record="orders", action=action, key=draft.number,
        details="; ".join(
            f"{_field_label(Order, k)}: {_show(getattr(order, k), shop)} → {_show(v, shop)}"
            for k, v in changed.items())))
    if changed:
        plan.steps.append(_Step(line=draft.line, run=partial(
            services.order_update, order=order, **changed)))


# --- Returns -------------------------------------------------------------------------------


def _plan_returns(plan: ImportPlan, rows: list[_Row]) -> None:
    shop, cells = plan.shop, _Cells(plan)
    orders = {o.number: o for o in Order.objects.filter(
        shop=shop, number__in={r.cells.get("order_number", "") for r in rows},
    ).prefetch_related("returns")}
    seen: dict[tuple[str, str], tuple[int, Decimal, datetime]] = {}
    returned: dict[int, Decimal] = {}  # order id -> recorded plus planned returns
    counts = plan.counts["returns"]

    for row in rows:
        before = len(plan.errors)
        number = cells.get(row, "order_number", _text(Order, "number"), required=True)
        reference = cells.get(row, "reference", _text(Return, "reference"), required=True)
        value = cells.get(row, "value", _amount, required=True)
        returned_at = cells.get(row, "returned_at", _datetime(shop), required=True)
        cells.check_shop_and_currency(row)
        order = orders.get(number)
        if number is not BAD and order is None:
            cells.error(row.line, "order_number", _("Unknown order %(number)s in shop %(shop)s.")
                        % {"number": number, "shop": shop.code})
        if value is not BAD and value == 0:
            cells.error(row.line, "value", _("A returned value must be above zero."))
        if order is not None and returned_at is not BAD:
            placed = order.placed_at.astimezone(shop.tz).date()
            if returned_at.astimezone(shop.tz).date() < placed:
                cells.error(row.line, "returned_at", _(
                    "The return is dated before the order was placed (%(date)s).")
                    % {"date": placed.isoformat()})
        if len(plan.errors) > before:
            continue

        key = (number, reference)
        if key in seen:
            first_line, first_value, first_at = seen[key]
            if (first_value, first_at) != (value, returned_at):
                cells.error(row.line, "reference", _(
                    "Return %(reference)s of order %(number)s is also on line %(line)d, with "
                    "a different value or date.")
                    % {"reference": reference, "number": number, "line": first_line})
            continue
        seen[key] = (row.line, value, returned_at)

        label = f"{number} / {reference}"
        recorded = next((r for r in order.returns.all() if r.reference == reference), None)
        if recorded is not None:
            if recorded.value.amount != value or recorded.returned_at != returned_at:
                cells.error(row.line, "reference", _(
                    "Return %(reference)s of order %(number)s is already recorded with a "
                    "different value or date; recorded returns are not changed by import.")
                    % {"reference": reference, "number": number})
                continue
            counts.add(Action.UNCHANGED)
            plan.changes.append(PlannedChange(
                line=row.line, record="returns", action=Action.UNCHANGED, key=label, details=""))
            continue

        total = returned.get(order.pk, order.returned_total.amount) + value
        try:
            validation.check_returns_within_goods(
                goods_total=order.goods_total.amount, returns=[total])
        except ValidationError as exc:
            cells.error(row.line, "value", exc.messages[0])
            continue
        returned[order.pk] = total
        counts.add(Action.CREATE)
        plan.changes.append(PlannedChange(
            line=row.line, record="returns", action=Action.CREATE, key=label,
            details=f"{value:.2f} {shop.currency}, {_show(returned_at, shop)}"))
        plan.steps.append(_Step(line=row.line, run=partial(
            services.return_record, order=order, value=value, returned_at=returned_at,
            reference=reference)))


_PLANNERS = {
    ImportKind.CUSTOMERS: _plan_customers,
    ImportKind.ORDERS: _plan_orders,
    ImportKind.RETURNS: _plan_returns,
}


# --- Entry points --------------------------------------------------------------------------


def import_plan(*, shop: Shop, kind: str, content: str | bytes) -> ImportPlan:
    """Validate the whole file and say what importing it would change. Writes nothing."""
    kind = ImportKind(kind)
    plan = ImportPlan(shop=shop, kind=kind,
                      counts={record: Counts() for record in RECORDS[kind]})
    text = _decode(content, plan)
    if text is None:
        return plan
    rows = _read(text, plan)
    if rows:  # planned even after a malformed row, so that every bad row is reported
        _PLANNERS[kind](plan, rows)
    plan.errors.sort(key=lambda e: e.line)
    if plan.errors:
        plan.steps.clear()
    return plan


def import_apply(*, shop: Shop, kind: str, content: str | bytes) -> ImportPlan:
    """Import the file in one transaction if every row is valid; otherwise write nothing.

    The file is planned again here, so a preview made earlier cannot apply stale decisions.
    """
    step: _Step | None = None
    try:
        with transaction.atomic():
            plan = import_plan(shop=shop, kind=kind, content=content)
            if plan.errors:
                return plan
            for step in plan.steps:
                step.run()
    except ValidationError as exc:
        plan.errors.append(RowError(
            line=step.line if step else 0, column="", message=" ".join(exc.messages)))
        return plan
    except IntegrityError:
        plan.errors.append(RowError(line=step.line if step else 0, column="", message=_(
            "The shop's data changed while importing; nothing was imported. Try again.")))
        return plan
    plan.applied = True
    return plan
