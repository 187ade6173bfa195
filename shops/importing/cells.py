"""Reading an import file: the kinds of file and their columns, the cell parsers (every
problem becomes a RowError naming the file's line), and the streaming reader of the rows.
The formats are documented in shops.importing."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import validation
from ..models import ClientType, Customer, Order, OrderLine, OrderStatus, Return, Shop

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
    #: (columns, alternative): the required `columns` may be left out of the file when the
    #: optional `alternative` column is there instead (never both).
    either: tuple[tuple[str, ...], str] | None = None

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
                  "shop", "goods_total"),
        either=(("sku", "quantity", "unit_price"), "goods_total"),
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
    """Reads cells of a row and records every problem in `errors`."""

    def __init__(self, shop: Shop, errors: list[RowError]) -> None:
        self.shop = shop
        self.errors = errors

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line=line, column=column, message=message))

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
        shop = self.shop
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


def _decoded_lines(stream: Iterable[bytes], errors: list[RowError]) -> Iterator[str]:
    """The file's physical lines as text; stops at the first line that is not UTF-8 (the
    error names it). Splitting on b"\n" is safe in UTF-8: no other character contains it."""
    for number, raw in enumerate(stream, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            errors.append(RowError(line=number, column="", message=_(
                "The file is not UTF-8 text; save it as “CSV UTF-8” and upload it again.")))
            return


def read_rows(stream: IO[bytes], kind: str, errors: list[RowError]) -> Iterator[_Row]:
    """The data rows, one at a time (the file is never held whole), with every problem of
    the layout recorded in `errors`; nothing when the header is wrong."""
    columns = COLUMNS[ImportKind(kind)]
    lines = _decoded_lines(stream, errors)
    first_line = next(lines, None)
    if first_line is None:
        if not errors:
            errors.append(RowError(line=1, column="", message=_("The file is empty.")))
        return
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(chain([first_line], lines), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        errors.append(RowError(line=1, column="", message=str(exc)))
        return
    if not header or not any(h.strip() for h in header):
        errors.append(RowError(line=1, column="", message=_("The file is empty.")))
        return
    names = [h.strip().lower() for h in header]
    before = len(errors)
    _check_header(names, columns, errors)
    if len(errors) > before:
        return

    rows = 0
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) != len(names):
                    errors.append(RowError(line=line, column="", message=_(
                        "This row has %(got)d cells; the header has %(want)d.")
                        % {"got": len(record), "want": len(names)}))
                else:
                    rows += 1
                    yield _Row(line=line, cells={
                        n: c.strip() for n, c in zip(names, record, strict=True)})
            line = reader.line_num + 1
    except csv.Error as exc:
        errors.append(RowError(line=line, column="", message=str(exc)))
    if not rows and not errors:
        errors.append(RowError(line=2, column="", message=_("The file has no rows.")))


def _check_header(names: list[str], columns: Columns, errors: list[RowError]) -> None:
    for name in names:
        if name not in columns.all:
            errors.append(RowError(line=1, column=name, message=_(
                "Unknown column; the columns of this file are: %(columns)s.")
                % {"columns": ", ".join(columns.all)}))
    for name, count in Counter(names).items():
        if count > 1 and name in columns.all:
            errors.append(RowError(line=1, column=name, message=_("Repeated column.")))
    required = list(columns.required)
    if columns.either:
        lines, total = columns.either
        if total in names:
            required = [name for name in required if name not in lines]
            if any(name in names for name in lines + ("discount",)):
                errors.append(RowError(line=1, column=total, message=_(
                    "Give either order lines (%(lines)s) or the order's %(total)s, not both.")
                    % {"lines": ", ".join(lines), "total": total}))
    for name in required:
        if name not in names:
            errors.append(RowError(line=1, column=name, message=_("Missing column.")))


def chunks(rows: Iterable[_Row], size: int) -> Iterator[list[_Row]]:
    chunk: list[_Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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

