"""CSV import of customers, orders and returns into one shop.

Contract
--------
``import_plan(shop=, kind=, content= | stream=)`` reads the file (streamed line by line, in
chunks of rows) and the shop's data and returns an :class:`ImportPlan`. It never writes, so
it is the preview. The plan holds every problem as a :class:`RowError` ``(line, column,
reason)`` -- all of them, not only the first -- and, for a valid file, what applying would
do: counts *to create / to update / unchanged* per kind of record and the first
``PREVIEW_ROWS`` :class:`PlannedChange` of each kind and action.

``import_apply(shop=, kind=, content= | stream=, history=, as_of=)`` plans, and only when
the whole file is valid writes it set-based in one transaction (``write.py``: bulk
statements, COPY on PostgreSQL, and the file's effects; ``history`` imports past history
without messages and with one recalculation at ``as_of``). A file with any invalid row
writes nothing. Importing the same file a second time changes nothing and its plan says
everything is unchanged. In the admin and the command a file is an ``ImportJob`` run in
the background (``jobs.py``). Modules: ``cells`` (columns, cell parsers, the reader),
``plan``, ``write``, ``jobs``.

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
    currency, goods_total
    A file of order totals (an old system that exports totals only) has ``goods_total``
    (the order's goods value) instead of ``sku``, ``quantity``, ``unit_price`` and
    ``discount`` (never both), and one row per order; such an order has no lines.
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

from .cells import (  # noqa: E402
    COLUMNS,
    PREVIEW_ROWS,
    RECORDS,
    Action,
    Columns,
    Counts,
    ImportKind,
    PlannedChange,
    RowError,
)
from .plan import CHUNK_ROWS, ImportPlan, import_plan  # noqa: E402
from .write import BATCH, import_apply, plan_write  # noqa: E402

__all__ = [
    "BATCH", "CHUNK_ROWS", "COLUMNS", "PREVIEW_ROWS", "RECORDS", "Action", "Columns", "Counts",
    "ImportKind", "ImportPlan", "PlannedChange", "RowError", "import_apply", "import_plan",
    "plan_write",
]
