"""What keeps the admin's lists of huge tables (customers, orders, the points ledger, history,
messages, order events) fast at millions of rows, for every app's admin:

- `BoundedCountPaginator`: the unfiltered list of a table past `ESTIMATE_FROM` rows shows
  PostgreSQL's estimate of its size (pg_class, labelled "about"); a filtered or searched list
  counts at most `COUNT_CAP` rows (labelled "more than" past it). Pages stay exact.
- `bounded_date_hierarchy`: the date drill-down's years, months and days from the first and
  last date of the list (two index look-ups) instead of a DISTINCT over
  every row; a month or day without rows is offered and shows an empty list.
- `RecentValuesFilter`: a filter whose choices are the values seen in the latest
  `RECENT_ROWS` rows (a bounded index scan), e.g. the shipping methods in use.
- `customers_matching`: the one search over customers (external id exactly, name, email and
  phone by substring), looked up first, so that a list of orders or ledger entries searches
  the customers' trigram indexes once instead of OR-ing joined columns.
- `LatestRowsInline`: an object's page lists the latest rows of a long history inline.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

#: A filtered list counts at most this many rows.
COUNT_CAP = 10_000
#: An unfiltered list of a table estimated above this many rows shows the estimate.
ESTIMATE_FROM = 100_000
#: The rows `RecentValuesFilter` reads its choices from.
RECENT_ROWS = 5_000
#: The most choices `RecentValuesFilter` offers.
RECENT_CHOICES = 30


def estimated_rows(model) -> int | None:
    """PostgreSQL's estimate of the number of rows of `model`'s table (None elsewhere, or
    before the table was ever analysed)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] >= 0 else None


class BoundedCountPaginator(Paginator):
    """A paginator whose count costs a bounded amount of work (see the module docstring).
    `count_kind` is "exact", "about" (an estimate) or "more" (more than `count`)."""

    count_kind = "exact"

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = estimated_rows(queryset.model)
            if estimate is not None and estimate > ESTIMATE_FROM:
                self.count_kind = "about"
                return estimate
        counted = queryset.order_by()[: COUNT_CAP + 1].count()
        if counted > COUNT_CAP:
            self.count_kind = "more"
            return COUNT_CAP
        return counted


class HugeListAdmin:
    """For a ModelAdmin of a table with millions of rows: the bounded paginator, no full
    count. The date drill-down is bounded by the project's change_list.html for every
    admin (`bounded_date_hierarchy`)."""

    paginator = BoundedCountPaginator
    show_full_result_count = False
    # Django renders a list row in ~8 ms here (links, money, the action checkbox): 100 rows
    # are most of a second whatever the SQL costs; 25 keep a page under 300 ms.
    list_per_page = 25


def customers_matching(term: str, *, exact_only: bool = False) -> Q:
    """Customers a staff search term finds, relative to Customer: the external id exactly,
    or the name, email or phone containing the term (case-insensitive; trigram indexes on
    PostgreSQL)."""
    term = term.strip()
    found = Q(external_id=term)
    if not exact_only:
        found |= Q(name__icontains=term) | Q(email__icontains=term) | Q(phone__icontains=term)
    return found


#: A search word finds the orders (ledger entries, ...) of at most this many customers.
SEARCH_CUSTOMERS = 1000


def search_by_customer(queryset: QuerySet, search_term: str, *, customer_path: str = "customer",
                       extra: tuple[str, ...] = ()) -> QuerySet:
    """`queryset` (of rows with a customer) narrowed to each word of the search: the rows
    whose customer matches it (`customers_matching`: at most `SEARCH_CUSTOMERS` of them, looked
    up first, one query per word) or one of whose `extra` fields equals it (e.g. an order
    number). A list of ids, not a subquery: PostgreSQL then ORs two index scans instead of
    scanning the table for a semi-join OR-ed with a column."""
    from .models import Customer

    for word in search_term.split():
        customers = list(
            Customer.objects.filter(customers_matching(word)).order_by()
            .values_list("pk", flat=True)[:SEARCH_CUSTOMERS]
        )
        match = Q(**{f"{customer_path}__in": customers})
        for name in extra:
            match |= _exactly(queryset.model, name, word)
        queryset = queryset.filter(match)
    return queryset


def _exactly(model, name: str, word: str) -> Q:
    """`name` equal to `word`; through a relation ("order__number"), the related rows are
    looked up first and matched by id (an OR across a join would scan the table)."""
    relation, _sep, field = name.partition("__")
    if not field or "__" in field:
        return Q(**{name: word})
    related = model._meta.get_field(relation).related_model
    ids = list(related._default_manager.filter(**{field: word}).order_by()
               .values_list("pk", flat=True)[:SEARCH_CUSTOMERS])
    return Q(**{f"{relation}__in": ids})


#: The search help of lists of rows with an order and a customer.
ORDER_SEARCH_HELP = gettext_lazy(
    "An order number (exact), a customer's external id (exact), or part of the customer's "
    "name, email or phone."
)


class CustomerSearchAdmin(HugeListAdmin):
    """A huge list searched by customer (`search_by_customer`): `customer_path` from the
    model to its customer ("" for Customer itself), `search_exact` fields matched exactly
    (an order number). Mixed in before the shop-scoped admin, whose autocomplete narrowing
    still applies."""

    customer_path = "customer"
    search_exact: tuple[str, ...] = ()
    search_help_text = gettext_lazy(
        "A customer's external id (exact), or part of their name, email or phone."
    )

    def get_search_results(self, request, queryset, search_term):
        queryset, _duplicates = super().get_search_results(request, queryset, "")
        if not search_term.strip():
            return queryset, False
        if not self.customer_path:  # the customers found, looked up first (as below)
            return search_by_customer(queryset, search_term, customer_path="pk"), False
        return search_by_customer(
            queryset, search_term, customer_path=self.customer_path, extra=self.search_exact
        ), False


class RecentValuesFilter(admin.SimpleListFilter):
    """Choices from the latest rows only (`RECENT_ROWS` by `recent_order`), for a free-text
    column such as the shipping method: a DISTINCT over millions of rows costs seconds."""

    field_name = ""
    recent_order = "-pk"

    def lookups(self, request, model_admin):
        latest = model_admin.get_queryset(request).order_by(self.recent_order)[:RECENT_ROWS]
        values = (
            latest.model.objects.filter(pk__in=latest.values("pk"))
            .exclude(**{self.field_name: ""}).order_by(self.field_name)
            .values_list(self.field_name, flat=True).distinct()[:RECENT_CHOICES]
        )
        return [(value, value) for value in values]

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            return queryset.filter(**{self.field_name: value})
        return queryset


class ShippingMethodFilter(RecentValuesFilter):
    title = gettext_lazy("shipping method")
    parameter_name = "shipping_method"
    field_name = "shipping_method"
    recent_order = "-placed_at"


# --- the date drill-down -----------------------------------------------------------------------


def _local(value):
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value


def bounded_date_hierarchy(cl) -> dict | None:
    """Django's date hierarchy (same links and template), its choices spanning the first to
    the last date of the list instead of the distinct dates of every row."""
    if not cl.date_hierarchy:
        return None
    name = cl.date_hierarchy
    year_field, month_field, day_field = f"{name}__year", f"{name}__month", f"{name}__day"
    year = cl.params.get(year_field)
    month = cl.params.get(month_field)
    day = cl.params.get(day_field)
    year, month, day = (
        (v[-1] if isinstance(v, list) else v) for v in (year, month, day)
    )

    def link(filters):
        return cl.get_query_string(filters, [f"{name}__"])

    # Two ORDER BY ... LIMIT 1 (an index scan each, also under a shop filter), not one
    # MIN/MAX aggregate, which PostgreSQL turns into a scan of every row under a semi-join.
    dates = cl.queryset.values_list(name, flat=True)
    first = _local(dates.order_by(name).first())
    last = _local(dates.order_by(f"-{name}").first())
    if not (year or month or day) and first and last and first.year == last.year:
        year = first.year
        if first.month == last.month:
            month = first.month
    if year and month and day:
        shown = date(int(year), int(month), int(day))
        return {
            "show": True,
            "back": {"link": link({year_field: year, month_field: month}),
                     "title": capfirst(formats.date_format(shown, "YEAR_MONTH_FORMAT"))},
            "choices": [{"title": capfirst(formats.date_format(shown, "MONTH_DAY_FORMAT"))}],
        }
    if first is None or last is None:
        return {"show": True, "back": {"link": link({}), "title": _("All dates")}
                if year else None, "choices": []}
    first, last = _as_date(first), _as_date(last)
    if year and month:
        days = []
        current = max(first, date(int(year), int(month), 1))
        while current <= last and current.month == int(month):
            days.append(current)
            current += timedelta(days=1)
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {"link": link({year_field: year, month_field: month, day_field: d.day}),
                 "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT"))}
                for d in days
            ],
        }
    if year:
        start = first.month if first.year == int(year) else 1
        end = last.month if last.year == int(year) else 12
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {"link": link({year_field: year, month_field: m}),
                 "title": capfirst(formats.date_format(date(int(year), m, 1),
                                                       "YEAR_MONTH_FORMAT"))}
                for m in range(start, end + 1)
            ],
        }
    return {
        "show": True,
        "back": None,
        "choices": [{"link": link({year_field: str(y)}), "title": str(y)}
                    for y in range(first.year, last.year + 1)],
    }


# --- an object's page: the latest rows of a long inline --------------------------------------

#: How many rows a long inline shows (the newest; a link opens them all).
LATEST_ROWS = 20


class LatestRowsFormSet(BaseInlineFormSet):
    """An inline formset of the first `latest_rows` rows of its (ordered) queryset."""

    latest_rows = LATEST_ROWS

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[: self.latest_rows]
        return self._latest


class LatestRowsInline:
    """A read-only inline of an object's history (a customer's 683 ledger entries): only the
    latest `latest_rows` (its `ordering` says which), with a line saying so and linking to
    the changelist of them all (`all_rows_url_name`, filtered by `fk_name`)."""

    template = "admin/edit_inline/latest_tabular.html"
    formset = LatestRowsFormSet
    latest_rows = LATEST_ROWS
    all_rows_url_name = ""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.latest_rows = self.latest_rows
        self.latest_note = ""
        if obj is not None and obj.pk is not None:
            total = self.get_queryset(request).filter(**{self.fk_name: obj}).count()
            if total > self.latest_rows:
                url = f"{reverse(self.all_rows_url_name)}?{self.fk_name}__id__exact={obj.pk}"
                self.latest_note = format_html(
                    '{} <a href="{}">{}</a>',
                    _("The latest %(shown)d of %(total)d.")
                    % {"shown": self.latest_rows, "total": total},
                    url, _("Show all"),
                )
        return formset
