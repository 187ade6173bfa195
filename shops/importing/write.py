"""Writing a valid import plan, set-based, in one transaction (all or nothing per file).

Rows go in with `shops.bulk.rows_insert` (one multi-row statement per batch of `BATCH`),
updates with one UPDATE per batch and set of changed fields; the ids of new rows are read
back per batch by their natural keys (external id, order number). Nothing is written per
row through `shops.services`: the plan has already checked every value the services check.

The effects of the file:
- an ordinary import is the storefront's present: every order that started or stopped
  counting, and every counted order whose value a return lowered, gets its `IntakeEvent`,
  written in bulk, and the intake drain applies them after commit in its batches (points,
  category, segments, messages), exactly as for orders recorded one by one; each new
  customer is registered (default category, welcome message);
- a history import (`history=True`) writes no intake event and registers nobody: after the
  rows, `shops.events.history_imported` is called once with every customer and order the
  file touched, and the reacting apps apply it set-based without messages (loyalty: one
  recalculation of those customers at `as_of`, their orders' points, their segments).

The plan was made before the transaction; a concurrent write that makes it stale (an order
number recorded meanwhile, a return that leaves no room) hits a database constraint, and the
whole file is rolled back with a clear error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import IO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import counting, events, intake
from ..bulk import rows_copy as rows_insert
from ..models import (
    Customer,
    IntakeEvent,
    IntakeKind,
    IntakeStatus,
    Order,
    OrderLine,
    Return,
)
from .cells import MISSING, ImportKind, RowError
from .plan import ImportPlan, Progress, import_plan

#: Records written per statement (and per progress report).
BATCH = 5000

#: From this many records written, PostgreSQL's statistics of the tables are refreshed
#: before the effects run: the planner would otherwise still see the tables as they were
#: (an empty shop's history import then gets nested loops over seq scans).
ANALYZE_AFTER = 1000

#: Called with the number of records written so far.
Written = Callable[[int], None]


def _batches(items: Sequence) -> Iterator[Sequence]:
    size = BATCH
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Writer:
    def __init__(self, plan: ImportPlan, *, history: bool, as_of: date | None,
                 written: Written | None) -> None:
        self.plan, self.shop = plan, plan.shop
        self.currency = plan.shop.currency
        self.history, self.as_of = history, as_of
        self._written, self.count = written, 0
        self.intake: list[tuple[int, int, str]] = []  # (order id, customer id, kind)
        self.customers: set[int] = set()
        self.orders: set[int] = set()

    def wrote(self, n: int) -> None:
        self.count += n
        if self._written is not None:
            self._written(self.count)

    # --- customers ---

    def customers_file(self) -> None:
        plan, shop = self.plan, self.shop
        new_ids: list[int] = []
        for batch in _batches(plan.creates):
            rows_insert(Customer, (
                {"shop_id": shop.pk, "external_id": c.external_id, **c.fields} for c in batch))
            new_ids += Customer.objects.filter(
                shop=shop, external_id__in=[c.external_id for c in batch]
            ).values_list("pk", flat=True)
            self.wrote(len(batch))
        for batch in _batches(plan.updates):
            by_fields: dict[tuple[str, ...], list[Customer]] = defaultdict(list)
            for u in batch:
                by_fields[tuple(sorted(u.changed))].append(Customer(pk=u.pk, **u.changed))
            for fields, objects in by_fields.items():
                Customer.objects.bulk_update(objects, fields)
            self.wrote(len(batch))
        if self.history:
            self.customers.update(new_ids)
            return
        # A registration is the customer's own event (default category, welcome message).
        for pk in sorted(new_ids):
            events.figures_changed(events.FiguresChanged(
                shop_id=shop.pk, customer_id=pk, order_id=None, what="registered"))

    # --- orders ---

    def _order_row(self, draft) -> dict:
        v, cur = draft.values, self.currency

        def given(name, default):
            value = v[name]
            return default if value is MISSING else value

        return {
            "shop_id": self.shop.pk, "number": draft.number, "customer_id": draft.customer_id,
            "placed_at": v["placed_at"], "status": v["status"], "paid_in_full": v["paid_in_full"],
            "shipping_method": given("shipping_method", ""),
            "shipping_cost": given("shipping_cost", Decimal(0)), "shipping_cost_currency": cur,
            "delivery_city": given("delivery_city", ""),
            "goods_total": draft.goods, "goods_total_currency": cur,
            "returned_total": Decimal(0), "returned_total_currency": cur,
        }

    def orders_file(self) -> None:
        plan, shop, cur = self.plan, self.shop, self.currency
        for batch in _batches(plan.creates):
            rows_insert(Order, (self._order_row(d) for d in batch))
            ids = dict(Order.objects.filter(
                shop=shop, number__in=[d.number for d in batch]).values_list("number", "pk"))
            rows_insert(OrderLine, (
                {"order_id": ids[d.number], "product_id": product_id, "quantity": quantity,
                 "unit_price": price, "unit_price_currency": cur,
                 "discount": discount, "discount_currency": cur}
                for d in batch for product_id, quantity, price, discount in d.lines
            ))
            for d in batch:
                order_id = ids[d.number]
                self.orders.add(order_id)
                self.customers.add(d.customer_id)
                if counting.is_counted(status=d.values["status"],
                                       paid_in_full=d.values["paid_in_full"]):
                    self.intake.append((order_id, d.customer_id, IntakeKind.COUNTED))
            self.wrote(len(batch))
        for batch in _batches(plan.updates):
            by_change: dict[tuple, list[int]] = defaultdict(list)
            for u in batch:
                by_change[tuple(sorted(u.changed.items()))].append(u.pk)
                self.orders.add(u.pk)
                self.customers.add(u.customer_id)
                if u.now_counted != u.was_counted:
                    kind = IntakeKind.COUNTED if u.now_counted else IntakeKind.UNCOUNTED
                    self.intake.append((u.pk, u.customer_id, kind))
            for change, pks in by_change.items():
                Order.objects.filter(pk__in=pks).update(**dict(change))
            self.wrote(len(batch))

    # --- returns ---

    def returns_file(self) -> None:
        plan, cur = self.plan, self.currency
        order_table = connection.ops.quote_name(Order._meta.db_table)
        return_table = connection.ops.quote_name(Return._meta.db_table)
        for batch in _batches(plan.creates):
            rows_insert(Return, (
                {"order_id": r.order_id, "value": r.value, "value_currency": cur,
                 "returned_at": r.returned_at, "reference": r.reference} for r in batch))
            order_ids = sorted({r.order_id for r in batch})
            with connection.cursor() as cursor:  # the totals from what is stored
                cursor.execute(
                    f"UPDATE {order_table} SET returned_total = ("  # noqa: S608 (model names)
                    f"SELECT COALESCE(SUM(r.value), 0) FROM {return_table} r "
                    f"WHERE r.order_id = {order_table}.id) "
                    f"WHERE id IN ({', '.join(['%s'] * len(order_ids))})", order_ids)
            for r in batch:
                if r.order_id not in self.orders:
                    self.orders.add(r.order_id)
                    self.customers.add(r.customer_id)
                    if r.counted:
                        self.intake.append((r.order_id, r.customer_id, IntakeKind.VALUE))
            self.wrote(len(batch))

    # --- effects ---

    def effects(self) -> None:
        if self.history:
            if self.customers or self.orders:
                events.history_imported(events.HistoryImported(
                    shop_id=self.shop.pk, customer_ids=tuple(sorted(self.customers)),
                    order_ids=tuple(sorted(self.orders)), as_of=self.as_of))
            return
        if not self.intake:
            return
        now = timezone.now()
        rows_insert(IntakeEvent, (
            {"shop_id": self.shop.pk, "customer_id": customer_id, "order_id": order_id,
             "kind": kind, "created_at": now, "status": IntakeStatus.PENDING}
            for order_id, customer_id, kind in self.intake
        ))
        intake.schedule_drain()


def _analyze() -> None:
    # ANALYZE inside the import's transaction samples its own new rows too.
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table)
                       for m in (Customer, Order, OrderLine, Return))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


_FILES = {
    ImportKind.CUSTOMERS: _Writer.customers_file,
    ImportKind.ORDERS: _Writer.orders_file,
    ImportKind.RETURNS: _Writer.returns_file,
}


def plan_write(plan: ImportPlan, *, history: bool = False, as_of: date | None = None,
               written: Written | None = None) -> ImportPlan:
    """Write a valid plan in one transaction (see the module docstring); a write that fails
    on the database's constraints writes nothing and is reported as the plan's error."""
    if plan.errors:
        return plan
    writer = _Writer(plan, history=history, as_of=as_of, written=written)
    try:
        with transaction.atomic():
            _FILES[ImportKind(plan.kind)](writer)
            if connection.vendor == "postgresql" and writer.count >= ANALYZE_AFTER:
                _analyze()
            writer.effects()
    except IntegrityError:
        plan.errors.append(RowError(line=0, column="", message=_(
            "The shop's data changed while importing; nothing was imported. Try again.")))
        return plan
    except ValidationError as exc:
        plan.errors.append(RowError(line=0, column="", message=" ".join(exc.messages)))
        return plan
    plan.applied = True
    return plan


def import_apply(
    *, shop, kind: str, content: str | bytes | None = None, stream: IO[bytes] | None = None,
    history: bool = False, as_of: date | None = None, progress: Progress | None = None,
    written: Written | None = None,
) -> ImportPlan:
    """Validate the whole file, then import it in one transaction if every row is valid;
    otherwise write nothing. With `history` the rows are past history (see the module
    docstring); `as_of` is the day the categories are then decided for."""
    plan = import_plan(shop=shop, kind=kind, content=content, stream=stream,
                       progress=progress)
    return plan_write(plan, history=history, as_of=as_of, written=written)
