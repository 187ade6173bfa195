"""Planning an import: read the file chunk by chunk, validate every row against the file
and the shop's data, count what applying would create / update / leave unchanged, and keep
the compact records the set-based write needs (shops.importing.write). Never writes.

Rows are read in chunks of `CHUNK_ROWS` (one query per chunk for the customers, products or
orders they name); only what must be compared across the whole file is kept between
chunks (ids already seen, an order's first row, the returns planned per order).
"""

from __future__ import annotations

import io
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import counting, validation
from ..models import Customer, Order, OrderLine, OrderStatus, Product, Return, Shop
from .cells import (
    _RECORD_MODELS,
    BAD,
    MISSING,
    PREVIEW_ROWS,
    RECORDS,
    Action,
    Counts,
    ImportKind,
    PlannedChange,
    RowError,
    _amount,
    _Cells,
    _client_type,
    _datetime,
    _email,
    _field_label,
    _language,
    _quantity,
    _Row,
    _show,
    _status,
    _text,
    _yes_no,
    chunks,
    read_rows,
)

#: Rows validated per chunk (and per progress report).
CHUNK_ROWS = 5000


@dataclass
class ImportPlan:
    shop: Shop
    kind: str
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    #: The first PREVIEW_ROWS planned changes of each kind of record and action.
    changes: list[PlannedChange] = field(default_factory=list)
    rows: int = 0
    applied: bool = False
    #: What the write creates and updates (compact records, see shops.importing.write).
    creates: list = field(default_factory=list, repr=False)
    updates: list = field(default_factory=list, repr=False)
    _listed: Counter = field(default_factory=Counter, repr=False)

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

    def note(self, change: PlannedChange) -> None:
        """Count a planned change; list it while its kind and action have room."""
        self.counts[change.record].add(change.action)
        key = (change.record, change.action)
        if self._listed[key] < PREVIEW_ROWS:
            self._listed[key] += 1
            self.changes.append(change)


# --- Customers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerCreate:
    line: int
    external_id: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    line: int
    pk: int
    changed: dict[str, Any]


class _Customers:
    def __init__(self, plan: ImportPlan) -> None:
        self.plan, self.shop = plan, plan.shop
        self.cells = _Cells(plan.shop, plan.errors)
        self.parsers: list[tuple[str, Callable[[str], Any], bool]] = [
            ("name", _text(Customer, "name"), True),
            ("email", _email, False),
            ("phone", _text(Customer, "phone"), False),
            ("language", _language, False),
            ("client_type", _client_type, True),
            ("city", _text(Customer, "city"), False),
            ("address", _text(Customer, "address"), False),
            ("is_active", _yes_no, True),
            ("registered_at", _datetime(plan.shop), True),
        ]
        self.seen: dict[str, tuple[int, dict[str, Any]]] = {}

    def feed(self, rows: list[_Row]) -> None:
        plan, shop, cells = self.plan, self.shop, self.cells
        wanted = {row.cells.get("external_id", "") for row in rows}
        existing = {
            c.external_id: c for c in Customer.objects.filter(shop=shop, external_id__in=wanted)
        }
        for row in rows:
            before = len(plan.errors)
            external_id = cells.get(row, "external_id", _text(Customer, "external_id"),
                                    required=True)
            fields = {}
            for name, parse, required in self.parsers:
                value = cells.get(row, name, parse, required=required)
                if value is not MISSING:
                    fields[name] = value
            cells.check_shop_and_currency(row)
            if len(plan.errors) > before:
                continue
            if external_id in self.seen:
                first_line, first_fields = self.seen[external_id]
                if first_fields != fields:
                    cells.error(row.line, "external_id", _(
                        "Customer %(id)s is also on line %(line)d, with different values.")
                        % {"id": external_id, "line": first_line})
                continue
            self.seen[external_id] = (row.line, fields)

            customer = existing.get(external_id)
            if customer is None:
                action, details = Action.CREATE, fields["name"]
                plan.creates.append(CustomerCreate(row.line, external_id, fields))
            else:
                changed = {k: v for k, v in fields.items() if getattr(customer, k) != v}
                action = Action.UPDATE if changed else Action.UNCHANGED
                details = "; ".join(
                    f"{_field_label(Customer, k)}: {_show(getattr(customer, k), shop)} → "
                    f"{_show(v, shop)}"
                    for k, v in changed.items()
                )
                if changed:
                    plan.updates.append(CustomerUpdate(row.line, customer.pk, changed))
            plan.note(PlannedChange(
                line=row.line, record="customers", action=action, key=external_id,
                details=details))

    def finish(self) -> None:
        pass


# --- Orders --------------------------------------------------------------------------------

_ORDER_COLUMNS = ("customer_external_id", "placed_at", "status", "paid_in_full",
                  "shipping_method", "shipping_cost", "delivery_city")
#: Columns whose values repeat from order to order (one string object each).
_REPEATED = frozenset({"customer_external_id", "status", "shipping_method", "delivery_city"})
_NO_DISCOUNT = Decimal(0)


class OrderValues:
    """An order's first-row values, read as `values[name]`. A million orders stay in memory
    until the file is checked: slots instead of a dict, and repeated strings (statuses,
    methods, cities, customers) shared, keep an order at a few hundred bytes."""

    __slots__ = _ORDER_COLUMNS

    def __init__(self, values: dict[str, Any]) -> None:
        for name in _ORDER_COLUMNS:
            value = values[name]
            if name in _REPEATED and type(value) is str:
                value = sys.intern(value)
            setattr(self, name, value)

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(slots=True)
class OrderDraft:
    """An order of the file: its first row's values, and its lines (product id, quantity,
    unit price, discount) or, in a file of order totals, its goods value."""

    line: int
    number: str
    values: OrderValues
    lines: list[tuple[int, int, Decimal, Decimal]] = field(default_factory=list)
    total: Decimal | None = None
    customer_id: int = 0
    bad: bool = False

    @property
    def goods(self) -> Decimal:
        if self.total is not None:
            return self.total
        return sum((price * qty - discount for _p, qty, price, discount in self.lines),
                   Decimal(0))


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    line: int
    pk: int
    customer_id: int
    was_counted: bool
    now_counted: bool
    changed: dict[str, Any]


class _Orders:
    def __init__(self, plan: ImportPlan) -> None:
        self.plan, self.shop = plan, plan.shop
        self.cells = _Cells(plan.shop, plan.errors)
        self.parsers: dict[str, Callable[[str], Any]] = {
            "customer_external_id": _text(Customer, "external_id"),
            "placed_at": _datetime(plan.shop),
            "status": _status,
            "paid_in_full": _yes_no,
            "shipping_method": _text(Order, "shipping_method"),
            "shipping_cost": _amount,
            "delivery_city": _text(Order, "delivery_city"),
        }
        self.required = {"customer_external_id", "placed_at", "status", "paid_in_full"}
        self.customers: dict[str, int] = {}  # external id -> pk, of those found
        self.products: dict[str, int] = {}  # SKU -> pk, of those found
        self.drafts: dict[str, OrderDraft] = {}

    def _look_up(self, rows: list[_Row]) -> None:
        shop = self.shop
        wanted = {r.cells.get("customer_external_id", "") for r in rows} - self.customers.keys()
        if wanted:
            self.customers.update(Customer.objects.filter(
                shop=shop, external_id__in=wanted).values_list("external_id", "pk"))
        skus = {r.cells.get("sku", "") for r in rows} - self.products.keys() - {""}
        if skus:
            self.products.update(
                Product.objects.filter(shop=shop, sku__in=skus).values_list("sku", "pk"))

    def feed(self, rows: list[_Row]) -> None:
        plan, shop, cells = self.plan, self.shop, self.cells
        self._look_up(rows)
        for row in rows:
            before = len(plan.errors)
            number = cells.get(row, "order_number", _text(Order, "number"), required=True)
            if number is BAD:
                continue
            draft = self.drafts.get(number)
            by_total = "goods_total" in row.cells
            if draft is None:
                values = {name: cells.get(row, name, parse, required=name in self.required)
                          for name, parse in self.parsers.items()}
                draft = self.drafts[number] = OrderDraft(line=row.line, number=number,
                                                         values=OrderValues(values))
                customer_id = values["customer_external_id"]
                if customer_id is not BAD and customer_id not in self.customers:
                    cells.error(row.line, "customer_external_id", _(
                        "Unknown customer “%(id)s” in shop %(shop)s.")
                        % {"id": customer_id, "shop": shop.code})
            elif by_total:
                cells.error(row.line, "order_number", _(
                    "Order %(number)s is also on line %(line)d; a file of order totals has "
                    "one row per order.") % {"number": number, "line": draft.line})
            else:
                for name, parse in self.parsers.items():
                    if row.cells.get(name, "") == "":
                        continue  # later rows of an order may leave order columns empty
                    value = cells.get(row, name, parse)
                    first = draft.values[name]
                    if BAD not in (value, first) and value != first:
                        cells.error(row.line, name, _(
                            "Differs from line %(line)d of the same order.")
                            % {"line": draft.line})

            if by_total:
                total = cells.get(row, "goods_total", _amount, required=True)
                cells.check_shop_and_currency(row)
                if len(plan.errors) > before:
                    draft.bad = True
                else:
                    draft.total = total
                continue
            sku = cells.get(row, "sku", _text(Product, "sku"), required=True)
            product_id = self.products.get(sku)
            if sku is not BAD and product_id is None:
                cells.error(row.line, "sku", _("Unknown product “%(sku)s” in shop %(shop)s.")
                            % {"sku": sku, "shop": shop.code})
            quantity = cells.get(row, "quantity", _quantity, required=True)
            unit_price = cells.get(row, "unit_price", _amount, required=True)
            discount = cells.get(row, "discount", _amount)
            discount = _NO_DISCOUNT if discount is MISSING else discount
            if BAD not in (quantity, unit_price, discount) and discount > unit_price * quantity:
                cells.error(row.line, "discount", _("A line's discount cannot exceed its value."))
            cells.check_shop_and_currency(row)
            if len(plan.errors) > before:
                draft.bad = True
                continue
            draft.lines.append((product_id, quantity, unit_price, discount))

    def finish(self) -> None:
        good = [d for d in self.drafts.values() if not d.bad]
        self.drafts = {}
        size = CHUNK_ROWS
        for start in range(0, len(good), size):
            batch = good[start:start + size]
            existing = {o.number: o for o in Order.objects.filter(
                shop=self.shop, number__in=[d.number for d in batch],
            ).prefetch_related("lines")}
            for draft in batch:
                draft.customer_id = self.customers[draft.values["customer_external_id"]]
                self._plan_order(draft, existing.get(draft.number))

    def _plan_order(self, draft: OrderDraft, order: Order | None) -> None:
        plan, shop, values = self.plan, self.shop, draft.values
        goods = draft.goods
        if order is None:
            count = len(draft.lines)
            if draft.total is not None:
                details = _("customer %(customer)s, %(date)s, %(status)s, goods %(goods)s")
            else:
                details = ngettext(
                    "customer %(customer)s, %(date)s, %(status)s, %(count)d line, goods "
                    "%(goods)s",
                    "customer %(customer)s, %(date)s, %(status)s, %(count)d lines, goods "
                    "%(goods)s",
                    count,
                )
            details %= {
                "customer": values["customer_external_id"],
                "date": _show(values["placed_at"], shop),
                "status": OrderStatus(values["status"]).label, "count": count,
                "goods": f"{goods:.2f} {shop.currency}"}
            plan.note(PlannedChange(
                line=draft.line, record="orders", action=Action.CREATE, key=draft.number,
                details=details))
            plan.counts["lines"].add(Action.CREATE, count)
            plan.creates.append(draft)
            return

        facts = {
            "customer": order.customer_id == draft.customer_id,
            "placed_at": order.placed_at == values["placed_at"],
            "shipping_method": values["shipping_method"] in (MISSING, order.shipping_method),
            "shipping_cost": values["shipping_cost"] in (MISSING, order.shipping_cost.amount),
            "delivery_city": values["delivery_city"] in (MISSING, order.delivery_city),
        }
        differ = [_field_label(Order, name) for name, same in facts.items() if not same]
        if draft.total is not None:
            if order.goods_total.amount != draft.total:
                differ.append(_field_label(Order, "goods_total"))
        else:
            recorded = Counter(
                (ln.product_id, ln.quantity, ln.unit_price.amount, ln.discount.amount)
                for ln in order.lines.all())
            if recorded != Counter(draft.lines):
                differ.append(str(OrderLine._meta.verbose_name_plural))
        if differ:
            plan.errors.append(RowError(line=draft.line, column="order_number", message=_(
                "Order %(number)s already exists and differs in: %(fields)s. An import may "
                "only change an order's status and payment.")
                % {"number": draft.number, "fields": ", ".join(differ)}))
            return

        state = {"status": values["status"], "paid_in_full": values["paid_in_full"]}
        changed = {k: v for k, v in state.items() if getattr(order, k) != v}
        action = Action.UPDATE if changed else Action.UNCHANGED
        plan.counts["lines"].add(Action.UNCHANGED, len(draft.lines))
        plan.note(PlannedChange(
            line=draft.line, record="orders", action=action, key=draft.number,
            details="; ".join(
                f"{_field_label(Order, k)}: {_show(getattr(order, k), shop)} → "
                f"{_show(v, shop)}" for k, v in changed.items())))
        if changed:
            plan.updates.append(OrderUpdate(
                line=draft.line, pk=order.pk, customer_id=order.customer_id,
                was_counted=order.is_counted,
                now_counted=counting.is_counted(**state), changed=changed))


# --- Returns -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReturnCreate:
    line: int
    order_id: int
    customer_id: int
    counted: bool
    value: Decimal
    returned_at: datetime
    reference: str


class _Returns:
    def __init__(self, plan: ImportPlan) -> None:
        self.plan, self.shop = plan, plan.shop
        self.cells = _Cells(plan.shop, plan.errors)
        self.seen: dict[tuple[str, str], tuple[int, Decimal, datetime]] = {}
        self.returned: dict[int, Decimal] = {}  # order id -> recorded plus planned returns
        self.when = _datetime(plan.shop)

    def feed(self, rows: list[_Row]) -> None:
        plan, shop, cells = self.plan, self.shop, self.cells
        orders = {o.number: o for o in Order.objects.filter(
            shop=shop, number__in={r.cells.get("order_number", "") for r in rows},
        ).prefetch_related("returns")}
        for row in rows:
            before = len(plan.errors)
            number = cells.get(row, "order_number", _text(Order, "number"), required=True)
            reference = cells.get(row, "reference", _text(Return, "reference"), required=True)
            value = cells.get(row, "value", _amount, required=True)
            returned_at = cells.get(row, "returned_at", self.when, required=True)
            cells.check_shop_and_currency(row)
            order = orders.get(number)
            if number is not BAD and order is None:
                cells.error(row.line, "order_number", _(
                    "Unknown order %(number)s in shop %(shop)s.")
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
            if key in self.seen:
                first_line, first_value, first_at = self.seen[key]
                if (first_value, first_at) != (value, returned_at):
                    cells.error(row.line, "reference", _(
                        "Return %(reference)s of order %(number)s is also on line %(line)d, "
                        "with a different value or date.")
                        % {"reference": reference, "number": number, "line": first_line})
                continue
            self.seen[key] = (row.line, value, returned_at)

            label = f"{number} / {reference}"
            recorded = next((r for r in order.returns.all() if r.reference == reference), None)
            if recorded is not None:
                if recorded.value.amount != value or recorded.returned_at != returned_at:
                    cells.error(row.line, "reference", _(
                        "Return %(reference)s of order %(number)s is already recorded with a "
                        "different value or date; recorded returns are not changed by import.")
                        % {"reference": reference, "number": number})
                    continue
                plan.note(PlannedChange(line=row.line, record="returns",
                                        action=Action.UNCHANGED, key=label, details=""))
                continue

            total = self.returned.get(order.pk, order.returned_total.amount) + value
            try:
                validation.check_returns_within_goods(
                    goods_total=order.goods_total.amount, returns=[total])
            except ValidationError as exc:
                cells.error(row.line, "value", exc.messages[0])
                continue
            self.returned[order.pk] = total
            plan.note(PlannedChange(
                line=row.line, record="returns", action=Action.CREATE, key=label,
                details=f"{value:.2f} {shop.currency}, {_show(returned_at, shop)}"))
            plan.creates.append(ReturnCreate(
                line=row.line, order_id=order.pk, customer_id=order.customer_id,
                counted=order.is_counted, value=value, returned_at=returned_at,
                reference=reference))

    def finish(self) -> None:
        pass


_PLANNERS = {
    ImportKind.CUSTOMERS: _Customers,
    ImportKind.ORDERS: _Orders,
    ImportKind.RETURNS: _Returns,
}

Progress = Callable[["ImportPlan"], None]


def import_plan(
    *, shop: Shop, kind: str, content: str | bytes | None = None,
    stream: IO[bytes] | None = None, progress: Progress | None = None,
    chunk_rows: int | None = None,
) -> ImportPlan:
    """Validate the whole file (`content`, or a binary `stream` read line by line) and say
    what importing it would change. Writes nothing. `progress(plan)` is called after each
    chunk of rows."""
    kind = ImportKind(kind)
    plan = ImportPlan(shop=shop, kind=kind,
                      counts={record: Counts() for record in RECORDS[kind]})
    if stream is None:
        raw = content.encode() if isinstance(content, str) else (content or b"")
        stream = io.BytesIO(raw)
    planner = _PLANNERS[kind](plan)
    for chunk in chunks(read_rows(stream, kind, plan.errors), chunk_rows or CHUNK_ROWS):
        plan.rows += len(chunk)
        # planned even after a malformed row, so that every bad row is reported
        planner.feed(chunk)
        if progress is not None:
            progress(plan)
    if plan.rows:
        planner.finish()
    plan.errors.sort(key=lambda e: e.line)
    if plan.errors:
        plan.creates.clear()
        plan.updates.clear()
    return plan
