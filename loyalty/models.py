from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shops.models import ClientType

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class Program(models.TextChoices):
    NONE = "none", _("None (messaging only)")
    DISCOUNT = "discount", _("Discount (a percentage off every order)")
    BONUS = "bonus", _("Bonus points")


class Category(models.Model):
    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    rank = models.PositiveIntegerField(
        _("rank"), help_text=_("Higher rank is more senior: recalculation prefers it.")
    )
    is_default = models.BooleanField(
        _("default"), default=False,
        help_text=_("New customers land here, and customers who qualify for nothing return here."),
    )
    visible_to_customer = models.BooleanField(
        _("visible to customer"), default=True,
        help_text=_("Hidden categories are never shown to customers nor announced to them."),
    )
    program = models.CharField(
        _("program"), max_length=16, choices=Program.choices, default=Program.NONE
    )
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=PERCENT,
    )
    auto_enter = models.BooleanField(
        _("customers may be moved in automatically"), default=True
    )
    auto_leave = models.BooleanField(
        _("customers may be moved out automatically"), default=True
    )
    # SMS switches per customer group (Skyservice): honoured for the category the customer
    # is in at the event; the shop's SMS channel setting stays the master switch.
    sms_welcome = models.BooleanField(
        _("send a welcome SMS after registration"), default=False,
        help_text=_("For customers who land in this category when they register; only when "
                    "the shop's SMS channel is on."),
    )
    sms_after_order = models.BooleanField(
        _("send an SMS after an order"), default=False,
        help_text=_("For customers in this category when their order is completed and paid; "
                    "only when the shop's SMS channel is on."),
    )
    # Lifecycle (loyalty.lifecycle): how customers leave the category.
    grace_days = models.PositiveIntegerField(
        _("grace period (days)"), default=0,
        help_text=_("A customer who stops qualifying keeps the category for this many days "
                    "from the first recalculation that found them not qualifying; "
                    "qualifying again ends the grace period. 0: no grace period."),
    )
    reevaluate_on = models.CharField(
        _("move down only on these dates"), max_length=200, blank=True,
        help_text=_("Month-day dates separated by commas, e.g. “01-01” or “01-01, 07-01”. "
                    "Customers may move up at any time but leave this category downwards "
                    "only at the recalculation of one of these dates. Empty: any day."),
    )
    # Notices (notifications.notices): "category at risk" this many days before the last
    # day the customer still qualifies; "close to this category" within an amount or a share.
    at_risk_days = models.PositiveSmallIntegerField(
        _("warn this many days before the category is lost"), null=True, blank=True,
        default=14,
        help_text=_("A “category at risk” message is sent this many days before the last "
                    "day a customer in this category still qualifies if they buy nothing "
                    "more. Empty or 0: off."),
    )
    close_amount = models.DecimalField(
        _("“close to this category” within an amount"), max_digits=14, decimal_places=2,
        null=True, blank=True, validators=[MinValueValidator(0)],
        help_text=_("Customers of the category below who miss at most this amount (in the "
                    "shop's currency) to reach this one get a “close to the next category” "
                    "message. Empty: not by amount."),
    )
    close_percent = models.DecimalField(
        _("“close to this category” within a share of the threshold (%)"), max_digits=5,
        decimal_places=2, null=True, blank=True, default=10, validators=PERCENT,
        help_text=_("Also close when what is missing is at most this share of the rule's "
                    "threshold (amount or number of orders). Empty or 0: not by share."),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["shop", "-rank"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "rank"], name="category_rank_unique_per_shop"),
            models.UniqueConstraint(
                fields=["shop"], condition=Q(is_default=True), name="category_one_default_per_shop"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__isnull=True)
                | (Q(discount_percent__gte=0) & Q(discount_percent__lte=100)),
                name="category_discount_percent_range",
            ),
            models.CheckConstraint(
                condition=~Q(program="discount") | Q(discount_percent__isnull=False),
                name="category_discount_program_has_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    """A rule holds when all its conditions hold; a category's (or a segment's) rules are
    OR-ed. A rule belongs to exactly one category or one segment: one condition language."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="rules",
        null=True, blank=True,
    )
    segment = models.ForeignKey(
        "loyalty.Segment", verbose_name=_("segment"), on_delete=models.CASCADE,
        related_name="rules", null=True, blank=True,
    )
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["category", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False, segment__isnull=True)
                | Q(category__isnull=True, segment__isnull=False),
                name="rule_of_one_category_or_segment",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shop_id(self) -> int | None:
        owner = self.category if self.category_id else self.segment
        return owner.shop_id if owner is not None else None


class ConditionKind(models.TextChoices):
    CLIENT_TYPE = "client_type", _("Client type is")
    ACTIVE = "active", _("Customer is active")
    WINDOW_SPEND = "window_spend", _("Counted spend in the last N days")
    WINDOW_ORDERS = "window_orders", _("Number of counted orders in the last N days")
    LARGEST_ORDER = "largest_order", _("Largest single counted order (ever, or in the last N days)")
    LIFETIME_SPEND = "lifetime_spend", _("Lifetime counted spend")
    DAYS_SINCE_LAST_ORDER = "days_since_last_order", _("Days since the last counted order")
    BOUGHT_PRODUCT = "bought_product", _("Has bought the product")
    BOUGHT_COLLECTION = "bought_collection", _("Has bought from the collection")
    SHIPPING_METHOD_USED = (
        "shipping_method_used", _("Has used the shipping method at least K times")
    )
    DELIVERY_CITY = "delivery_city", _("Delivery city is")
    POINTS_EARNED = "points_earned", _("Bonus points earned in the last N days")
    POINTS_BALANCE = "points_balance", _("Current bonus points balance")
    LIFETIME_ORDERS = "lifetime_orders", _("Number of counted orders (ever)")
    DISABLED = "disabled", _("Customer is disabled")
    PERIOD_SPEND = "period_spend", _("Counted spend in a calendar period")
    PERIOD_ORDERS = "period_orders", _("Number of counted orders in a calendar period")


class Period(models.TextChoices):
    """Calendar periods in the shop's time zone, as of the recalculation's date."""

    CURRENT_YEAR = "current_year", _("the current calendar year")
    PREVIOUS_YEAR = "previous_year", _("the previous calendar year")
    CURRENT_QUARTER = "current_quarter", _("the current calendar quarter")
    PREVIOUS_QUARTER = "previous_quarter", _("the previous calendar quarter")


class Operator(models.TextChoices):
    GTE = "gte", "≥"
    LT = "lt", "<"


class Condition(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="conditions")
    kind = models.CharField(_("condition"), max_length=32, choices=ConditionKind.choices)
    operator = models.CharField(
        _("operator"), max_length=3, choices=Operator.choices, default=Operator.GTE
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)], help_text=_("In the shop's currency."),
    )
    count = models.PositiveIntegerField(_("count / days"), null=True, blank=True)
    days = models.PositiveIntegerField(
        _("window (days)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    period = models.CharField(
        _("calendar period"), max_length=16, choices=Period.choices, blank=True,
        help_text=_("For the calendar period conditions."),
    )
    client_type = models.CharField(
        _("client type"), max_length=16, choices=ClientType.choices, blank=True
    )
    text = models.CharField(
        _("city / shipping method"), max_length=120, blank=True
    )
    product = models.ForeignKey(
        "shops.Product", verbose_name=_("product"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="+",
    )
    collection = models.ForeignKey(
        "shops.Collection", verbose_name=_("collection"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="+",
    )

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["rule", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="condition_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class MoveDirection(models.IntegerChoices):
    # Choices, so that the history list's filter offers them without a DISTINCT over
    # millions of rows.
    UP = 1, _("Up")
    DOWN = -1, _("Down")
    NONE = 0, _("No move (placement or lock)")


class ChangeReason(models.TextChoices):
    RULE = "rule", _("Rule")
    FALLBACK = "fallback", _("No rule holds: default category")
    MANUAL = "manual", _("Moved by staff")
    LOCKED = "locked", _("Automatic movement locked")
    UNLOCKED = "unlocked", _("Automatic movement unlocked")
    REGISTERED = "registered", _("Registered")
    TEMPORARY_ENDED = "temporary_ended", _("Temporary manual move or lock ended: back to the rules")
    GRACE_ENDED = "grace_ended", _("Grace period ended")


#: History rows that are moves between categories, as the statistics and the home page count
#: them: not a lock or unlock (direction 0), and not a first placement (a new customer landing
#: in the default category, or a customer without a category placed by the rules): those come
#: from no category. (A move out of a category deleted since also reads as coming from none.)
MOVES = Q(from_category__isnull=False) & ~Q(direction=0)


class CategoryChange(models.Model):
    """History: one row per change of a customer's category or lock."""

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="category_changes",
    )
    from_category = models.ForeignKey(
        Category, verbose_name=_("from"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_category = models.ForeignKey(
        Category, verbose_name=_("to"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("when"), default=timezone.now)
    #: The day the change was decided for, in the shop's time zone: a recalculation's as_of
    #: (a backfill replayed to a past date records that date), the shop's today otherwise.
    as_of = models.DateField(_("decided for"))
    reason = models.CharField(_("why"), max_length=16, choices=ChangeReason.choices)
    direction = models.SmallIntegerField(
        _("direction"), default=0, choices=MoveDirection.choices,
        help_text=_("1 up, -1 down, 0 no move"),
    )
    rule = models.ForeignKey(
        Rule, verbose_name=_("rule"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    figures = models.JSONField(_("measured figures"), default=dict, blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff user"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    #: A temporary manual move or lock: the date on which the customer returns to the rules.
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("category change")
        verbose_name_plural = _("category history")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "changed_at"], name="change_customer_idx"),
            models.Index(fields=["changed_at", "shop"], name="change_when_idx"),
            # The statistics' moves of the days not rolled up yet, counted from the index.
            models.Index(fields=["shop", "changed_at"], include=["direction"],
                         condition=MOVES, name="change_moves_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_category or '—'} → {self.to_category or '—'}"


class CustomerLifecycle(models.Model):
    """A customer's time-driven category state (loyalty.lifecycle); no row means none.

    - `grace_since`: the date of the first recalculation that found the customer no longer
      qualifying for `grace_category` (their category then); cleared when they qualify
      again or leave that category.
    - `manual_until`: the customer is locked (moved or locked by hand) until this date; the
      first recalculation dated on or after it unlocks them and applies the rules.
    """

    customer = models.OneToOneField(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        primary_key=True, related_name="lifecycle",
    )
    grace_category = models.ForeignKey(
        Category, verbose_name=_("in grace in"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    grace_since = models.DateField(_("not qualifying since"), null=True, blank=True)
    manual_until = models.DateField(_("held by hand until"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer lifecycle")
        verbose_name_plural = _("customer lifecycles")
        indexes = [
            models.Index(fields=["manual_until"], condition=Q(manual_until__isnull=False),
                         name="lifecycle_manual_until_idx"),
            models.Index(fields=["grace_since"], condition=Q(grace_since__isnull=False),
                         name="lifecycle_grace_since_idx"),
        ]

    def __str__(self) -> str:
        return str(self.customer_id)


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")
    #: Refused because another run of the shop was alive; the reason is in `error`.
    SKIPPED = "skipped", _("Skipped")


class RecalculationRun(models.Model):
    """A full recalculation of one shop: its progress, its summary, and its lock.

    At most one run per shop may be *running* (a partial unique constraint): that row is
    the database lock that stops two runs for the same shop from both writing. How a dead
    run is told from a live one, and skipped runs: loyalty.runs.
    """

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("last progress"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("triggered by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    total = models.PositiveIntegerField(_("customers"), default=0)
    examined = models.PositiveIntegerField(_("examined"), default=0)
    moved_up = models.PositiveIntegerField(_("moved up"), default=0)
    moved_down = models.PositiveIntegerField(_("moved down"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped_locked = models.PositiveIntegerField(_("skipped (locked)"), default=0)
    error = models.TextField(_("error or reason"), blank=True)
    #: host:pid of the process executing the run; empty while it waits for a worker.
    worker = models.CharField(_("running in"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("recalculation run")
        verbose_name_plural = _("recalculation runs")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop"], condition=Q(status="running", dry_run=False),
                name="one_running_recalculation_per_shop",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.started_at:%Y-%m-%d %H:%M}"


class BuiltInSegment(models.TextChoices):
    DISABLED = "disabled", _("Disabled customers")
    WITHOUT_ORDERS = "without_orders", _("Customers without orders")
    FIRST_ORDER_RECENTLY = "first_order_recently", _("First order recently")
    LOYAL = "loyal", _("Loyal customers")
    CUSTOMERS = "customers", _("Customers")


class Segment(models.Model):
    """A dynamic, overlapping set of a shop's customers: those for whom one of its rules
    holds. Membership is computed by loyalty.segments and stored in SegmentMember."""

    shop = models.ForeignKey(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="segments"
    )
    code = models.SlugField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    built_in = models.CharField(
        _("built in"), max_length=32, choices=BuiltInSegment.choices, blank=True,
        help_text=_("Built-in segments keep their definition; their rules cannot be edited."),
    )
    computed_at = models.DateTimeField(
        _("last computed"), null=True, blank=True, editable=False,
        help_text=_("When membership was last computed for every customer."),
    )
    member_count = models.PositiveIntegerField(_("members"), default=0, editable=False)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["shop", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="segment_code_unique_per_shop"),
            models.UniqueConstraint(
                fields=["shop", "built_in"], condition=~Q(built_in=""),
                name="segment_built_in_once_per_shop",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A customer is in a segment (since `computed_at`, when the refresh that put them there
    ran). Written only by loyalty.segments."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        "shops.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="segment_memberships",
    )
    computed_at = models.DateTimeField(_("member since"), default=timezone.now)

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        ordering = ["segment", "customer"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.customer_id}"


class SegmentRule(Rule):
    """Segments' rules, for their own admin page (categories' rules have theirs)."""

    class Meta:
        proxy = True
        verbose_name = _("segment rule")
        verbose_name_plural = _("segment rules")


class NightlyState(models.Model):
    """Where a shop's nightly pass stands: what the last pass covered (so the next one
    re-examines only what can have changed since, see loyalty.incremental) and whether the
    next one must be a full pass. Written only by loyalty.nightly; the mark is set by
    `loyalty.nightly.full_pass_needed` (rule, category, segment and policy edits)."""

    shop = models.OneToOneField(
        "shops.Shop", verbose_name=_("shop"), on_delete=models.CASCADE,
        related_name="nightly_state",
    )
    full_needed = models.BooleanField(_("full pass needed"), default=True)
    full_reason = models.CharField(_("why a full pass"), max_length=200, blank=True)
    #: When the mark was last set (a mark set while a night runs survives its end).
    marked_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: The last finished pass: its day, when it started (changes since then are candidates),
    #: the moment its points expiry used, and the highest ids it had seen.
    last_as_of = models.DateField(_("last night's day"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("last night started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last night finished"), null=True, blank=True)
    last_now = models.DateTimeField(null=True, blank=True, editable=False)
    last_entry_id = models.BigIntegerField(default=0, editable=False)
    last_customer_id = models.BigIntegerField(default=0, editable=False)
    last_change_id = models.BigIntegerField(default=0, editable=False)
    last_event_id = models.BigIntegerField(default=0, editable=False)
    #: A digest of what the pass's results depend on besides the facts (rules, categories,
    #: segments, points policy, time zone): a difference forces a full pass.
    config_digest = models.CharField(max_length=64, blank=True, editable=False)
    #: The last pass's JSON summary (steps, wall times, row counts).
    last_summary = models.JSONField(_("last night's summary"), default=dict, blank=True)
    #: Key-range tasks of a full pass spread over workers still to finish (loyalty.tasks).
    pending_ranges = models.IntegerField(default=0, editable=False)
    #: The night under way when it is spread over workers (loyalty.nightly.Night.as_json).
    running = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("nightly state")
        verbose_name_plural = _("nightly states")

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.last_as_of}"


# Bonus points and programs live in their own module (see its docstring).
from .models_points import (  # noqa: E402, F401
    BonusProgram,
    BonusTier,
    DiscountProgram,
    DiscountTier,
    OrderPointsTerms,
    PointsAccount,
    PointsEntry,
    PointsKind,
    PointsPolicy,
    TierBoundary,
)
from .models_simulator import LadderSource, SimulationRun, SimulationStatus  # noqa: E402, F401

# The statistics rollup (loyalty.rollup writes it, loyalty.statistics reads it).
from .models_statistics import DailyActivity, DailyOrders, StatisticsRollup  # noqa: E402, F401
