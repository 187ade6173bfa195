import zoneinfo
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from . import counting

MONEY = {"max_digits": 14, "decimal_places": 2, "default_currency": "PLN"}


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


class ClientType(models.TextChoices):
    RETAIL = "retail", _("Retail")
    WHOLESALE = "wholesale", _("Wholesale (professional)")


class Shop(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, choices=settings.CURRENCY_CHOICES)
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def today(self) -> date:
        """Today's date in the shop's time zone: the day rules, windows and quotes use."""
        return timezone.localdate(timezone=self.tz)


class Collection(models.Model):
    """A tag or collection of products, used by special offers and rules."""

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="collections"
    )
    code = models.SlugField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        ordering = ["shop", "code"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="collection_code_unique_per_shop")
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="customers"
    )
    external_id = models.CharField(_("external id"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
        help_text=_("Empty means the shop's default language."),
    )
    client_type = models.CharField(
        _("client type"), max_length=16, choices=ClientType.choices, default=ClientType.RETAIL
    )
    city = models.CharField(_("city"), max_length=120, blank=True)
    address = models.CharField(_("delivery address"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    # The category a customer is in. Written only by loyalty services.
    category = models.ForeignKey(
        "loyalty.Category", verbose_name=_("category"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="customers",
    )
    category_locked = models.BooleanField(
        _("do not move automatically"), default=False,
        help_text=_("Locked customers keep their category until staff move them by hand."),
    )
    # When an order of this customer last started or stopped counting, or a counted
    # order's value changed, or a field rules read changed (set by shops.services). Lets a
    # long recalculation know whose figures moved after it took its snapshot, and an
    # incremental night whom to look at again.
    orders_changed_at = models.DateTimeField(
        _("orders last changed"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["shop", "external_id"]
        indexes = [
            # Keyset batches of one shop's customers (recalculation, exports).
            models.Index(fields=["shop", "id"], include=["category_locked"],
                         name="customer_shop_keyset_idx"),
            # The admin's search by external id in every shop (shops.admin_lists); name,
            # email and phone have trigram indexes on PostgreSQL (migration 0009).
            models.Index(fields=["external_id"], name="customer_external_id_idx"),
            # The admin's date drill-down reads the first and last registration.
            models.Index(fields=["registered_at"], name="customer_registered_idx"),
            # Customers per category of a shop (statistics), from the index alone.
            models.Index(fields=["shop", "category"], name="customer_shop_category_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"], name="customer_external_id_unique_per_shop"
            ),
            models.CheckConstraint(
                condition=Q(client_type__in=ClientType.values), name="customer_client_type_valid"
            ),
        ]
        permissions = [
            ("lock_customer", _("Can lock or unlock automatic category movement")),
            ("move_customer_category", _("Can move a customer to a category by hand")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @property
    def effective_language(self) -> str:
        return self.language or self.shop.default_language


class Product(models.Model):
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="products"
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    price = MoneyField(_("price"), **MONEY)
    min_price = MoneyField(
        _("minimum price"), **MONEY, default=0,
        help_text=_("No discount may bring a unit below this price."),
    )
    collections = models.ManyToManyField(
        Collection, verbose_name=_("collections"), blank=True, related_name="products"
    )
    is_active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Untick when the product is out of stock or withdrawn: it is then no "
                    "longer offered or accepted as a gift."),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["shop", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="product_sku_unique_per_shop"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(
                condition=Q(min_price__gte=0) & Q(min_price__lte=F("price")),
                name="product_min_price_between_zero_and_price",
            ),
            models.CheckConstraint(
                condition=Q(min_price_currency=F("price_currency")),
                name="product_min_price_same_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    COMPLETED = counting.COMPLETED, _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="orders"
    )
    number = models.CharField(_("number"), max_length=64)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    placed_at = models.DateTimeField(_("placed at"))
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.NEW
    )
    paid_in_full = models.BooleanField(_("paid in full"), default=False)
    shipping_method = models.CharField(_("shipping method"), max_length=64, blank=True)
    shipping_cost = MoneyField(_("shipping cost"), **MONEY, default=0)
    delivery_city = models.CharField(_("delivery city"), max_length=120, blank=True)
    # Maintained by shops.services from the lines and returns (never edited directly), so
    # that the database can check "returned never above goods" and aggregate spend cheaply.
    goods_total = MoneyField(_("goods value"), **MONEY, default=0, editable=False)
    returned_total = MoneyField(_("returned value"), **MONEY, default=0, editable=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="order_number_unique_per_shop"),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(goods_total__gte=0) & Q(shipping_cost__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(returned_total__gte=0) & Q(returned_total__lte=F("goods_total")),
                name="order_returned_not_above_goods",
            ),
        ]
        indexes = [
            # Rule windows filter by date first: an index that starts with the date.
            models.Index(fields=["placed_at", "shop"], name="order_placed_shop_idx"),
            models.Index(fields=["shop", "customer", "placed_at"], name="order_customer_idx"),
            # A customer's counted orders with their values, read without the table
            # (index-only scans on PostgreSQL): the figures of a few thousand customers by
            # id (an incremental night, the intake's recalculation) read a page or two per
            # customer instead of one per order.
            models.Index(fields=["shop", "customer", "placed_at"],
                         include=["goods_total", "returned_total"],
                         condition=counting.COUNTED_ORDER, name="order_counted_figures_idx"),
            # The admin's search by order number in every shop (shops.admin_lists).
            models.Index(fields=["number"], name="order_number_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_counted(self) -> bool:
        return counting.is_counted(status=self.status, paid_in_full=self.paid_in_full)

    @property
    def net_value(self):
        return self.goods_total - self.returned_total


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = MoneyField(_("unit price"), **MONEY)
    discount = MoneyField(
        _("discount applied"), **MONEY, default=0,
        help_text=_("Total discount on this line (all units)."),
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(discount__gte=0),
                name="order_line_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def total(self):
        return self.unit_price * self.quantity - self.discount


class Return(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    value = MoneyField(_("returned goods value"), **MONEY)
    returned_at = models.DateTimeField(_("returned at"), default=timezone.now)
    reference = models.CharField(
        _("reference"), max_length=64, blank=True,
        help_text=_("The storefront's return id; makes repeated imports idempotent."),
    )

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["returned_at"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="return_value_positive"),
            models.UniqueConstraint(
                fields=["order", "reference"], condition=~Q(reference=""),
                name="return_reference_unique_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.value}"


class ShopStaff(models.Model):
    """A staff user's access to a shop: in the admin they see and change only the objects of
    the shops they are bound to (superusers see every shop)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff user"), on_delete=models.CASCADE,
        related_name="shop_access",
    )
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="staff_access"
    )

    class Meta:
        verbose_name = _("staff access")
        verbose_name_plural = _("staff access")
        ordering = ["shop", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "shop"], name="shop_staff_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.shop}"


class ApiToken(models.Model):
    """A storefront's key to the HTTP API of one shop.

    Only a SHA-256 hash of the key is stored; the key is shown once, when it is created
    (shops.tokens). `prefix` is the key's public first part, used to find the row.
    """

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses it, e.g. "
                                                                    "“web storefront”."))
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, blank=True, editable=False, related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["shop", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffPreference(models.Model):
    """What a staff user chose for themselves in the admin (today: its language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("staff user"), on_delete=models.CASCADE,
        related_name="admin_preference",
    )
    language = models.CharField(_("admin language"), max_length=8, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("staff preference")
        verbose_name_plural = _("staff preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


class IntakeKind(models.TextChoices):
    """What an order change did to its customer's figures (see shops.services)."""

    COUNTED = "counted", _("Order started counting")
    UNCOUNTED = "uncounted", _("Order stopped counting")
    VALUE = "value", _("Counted order's value changed")


class IntakeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Applied")
    FAILED = "failed", _("Failed")


class IntakeEvent(models.Model):
    """A change to an order, written in the order's own transaction, whose effects (points,
    category, segments, messages) the intake drain applies afterwards (shops.intake)."""

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="intake_events"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("change"), max_length=16, choices=IntakeKind.choices)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=16, choices=IntakeStatus.choices, default=IntakeStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    #: The drain run that claimed the event last (on SQLite the claim is this conditional
    #: write; on PostgreSQL a row lock taken with SKIP LOCKED).
    claim = models.CharField(max_length=32, blank=True, editable=False)
    processed_at = models.DateTimeField(_("applied"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["-pk"]
        indexes = [
            # The drain's claim: the oldest pending events.
            models.Index(fields=["id"], condition=Q(status="pending"),
                         name="intake_event_pending_idx"),
            models.Index(fields=["shop", "status", "-id"], name="intake_event_shop_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=IntakeStatus.values), name="intake_event_status_valid"
            ),
        ]
        permissions = [("retry_intakeevent", _("Can retry failed order events"))]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.kind}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    CHECKING = "checking", _("Checking the rows")
    WRITING = "writing", _("Writing")
    FINISHED = "finished", _("Finished")
    INVALID = "invalid", _("Invalid rows: nothing imported")
    FAILED = "failed", _("Failed")


def _import_upload_to(job: "ImportJob", filename: str) -> str:
    return f"imports/{job.shop_id}/{timezone.now():%Y%m%d-%H%M%S}-{filename}"


class ImportJob(models.Model):
    """One CSV file to check (a preview) or to import, run in the background
    (shops.importing.jobs); the counters move while it runs, the report is written at the end."""

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(_("the file holds"), max_length=16)
    file = models.FileField(_("CSV file"), upload_to=_import_upload_to, max_length=300)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    #: Write the file (False: only check it and say what it would change).
    apply = models.BooleanField(_("import"), default=False)
    history = models.BooleanField(
        _("past history"), default=False,
        help_text=_("The rows are past history: no messages to customers, one recalculation "
                    "of the affected customers at the end."),
    )
    as_of = models.DateField(
        _("categories as of"), null=True, blank=True,
        help_text=_("History only: decide the categories for this day (empty: today)."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    rows_written = models.PositiveIntegerField(_("records written"), default=0)
    errors_found = models.PositiveIntegerField(_("errors so far"), default=0)
    #: The final report: counts, the first planned changes, the first errors (JSON).
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    started_at = models.DateTimeField(_("running since"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="import_job_shop_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="import_job_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.WRITING)
