
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from modeltranslation.admin import TabbedTranslationAdmin

from shops import admin as shops_admin
from shops.admin_lists import CustomerSearchAdmin, LatestRowsInline
from shops.counting import COUNTED_ORDER
from shops.labels import ShopLabelledChoiceField
from shops.models import ClientType, Customer, Order, Shop
from shops.scoping import ReadOnlyScopedAdmin, ShopScoped, ShopScopedAdmin, ShopScopedInline

from . import admin_keeping, admin_points, explain_text, selectors, services, tasks
from .admin_edited import on_edited_state
from .admin_nightly import MarksFullPass
from .admin_simulator import SimulateMixin
from .models import Category, CategoryChange, Condition, RecalculationRun, Rule, SegmentMember
from .validation import condition_errors, reevaluation_dates, reevaluation_text, until_error

PREVIEW = "_preview"


class PreviewMixin:
    """A "preview" button: saves the form as edited inside a transaction that is rolled
    back, runs a dry recalculation on that state, and shows the result. Nothing is kept."""

    #: Where the shop of the edited object is, as an attribute path.
    preview_shop = "shop"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_preview": True}
        if request.method != "POST" or PREVIEW not in request.POST:
            return super().changeform_view(request, object_id, form_url, extra_context)
        def dry_run(shop):
            summary = services.categories_recalculate(shop=shop, dry_run=True)
            return summary, _sample_rows(summary.sample)  # names of the edited state

        errors, shop, result = on_edited_state(
            request, model=self.model, object_id=object_id, shop_path=self.preview_shop,
            save=lambda: super(PreviewMixin, self).changeform_view(
                request, object_id, form_url, extra_context),
            act=dry_run,
        )
        if errors is not None:
            return errors
        summary, sample = result
        replay = [(k, v) for k, values in request.POST.lists() for v in values
                  if k not in (PREVIEW, "csrfmiddlewaretoken")]
        context = {
            **self.admin_site.each_context(request), "title": _("Preview: %(shop)s") % {
                "shop": shop}, "summary": summary, "sample": sample, "replay": replay,
            "opts": self.model._meta,
        }
        return render(request, "admin/loyalty/preview.html", context)


    def message_user(self, request, *args, **kwargs):
        if not getattr(request, "_patron_preview", False):
            super().message_user(request, *args, **kwargs)


def _sample_rows(decisions):
    names = dict(Customer.objects.filter(pk__in=[d.customer_id for d in decisions])
                 .values_list("pk", "name"))
    categories = dict(Category.objects.filter(
        pk__in={d.from_id for d in decisions} | {d.to_id for d in decisions}
    ).values_list("pk", "name"))
    return [
        {"customer": names.get(d.customer_id, d.customer_id), "customer_id": d.customer_id,
         "from": categories.get(d.from_id, "—"), "to": categories.get(d.to_id, "—"),
         "up": d.direction > 0, "figures": d.figures or {}}
        for d in decisions
    ]


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = (
            "shop", "name", "description", "rank", "is_default", "visible_to_customer",
            "program", "discount_percent", "auto_enter", "auto_leave", "grace_days",
            "reevaluate_on", "sms_welcome", "sms_after_order", "at_risk_days", "close_amount",
            "close_percent",
        )

    def clean_reevaluate_on(self):
        try:  # saved normalised: "07-01,1-1" -> "01-01, 07-01"
            return reevaluation_text(reevaluation_dates(self.cleaned_data["reevaluate_on"]))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if data.get("program") == "discount" and data.get("discount_percent") is None:
            self.add_error("discount_percent", _("A discount program needs a percentage."))
        return data


class RuleInline(ShopScopedInline):
    model = Rule
    shop_path = "category__shop"
    extra = 0
    fields = ("name", "conditions_summary")
    readonly_fields = ("conditions_summary",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("conditions")

    @admin.display(description=gettext_lazy("conditions"))
    def conditions_summary(self, rule):
        return _conditions_text(rule.conditions.all()) if rule.pk else "—"


def _conditions_text(conditions) -> str:
    parts = []
    for c in conditions:
        bits = [str(c.get_kind_display())]
        if c.days:
            bits.append(_("%(days)s days") % {"days": c.days})
        bits.append(c.get_operator_display())
        for value in (c.amount, c.count, c.client_type, c.text, c.product_id, c.collection_id):
            if value not in (None, ""):
                bits.append(str(value))
        parts.append(" ".join(bits))
    return _(" AND ").join(parts) or _("(no conditions: never holds)")


@admin.register(Category)
class CategoryAdmin(
    SimulateMixin, MarksFullPass, PreviewMixin, ShopScoped, TabbedTranslationAdmin
):
    form = CategoryForm
    inlines = (RuleInline,)
    list_display = (
        "name", "shop", "rank", "is_default", "visible_to_customer", "program", "auto_enter",
        "auto_leave",
    )
    list_filter = ("shop", "program", "visible_to_customer")
    list_select_related = ("shop",)
    search_fields = ("name",)
    change_form_template = "admin/loyalty/change_form_preview.html"

    def get_search_fields(self, request):
        from modeltranslation.utils import get_translation_fields
        return tuple(get_translation_fields("name"))


class ConditionForm(forms.ModelForm):
    class Meta:
        model = Condition
        fields = (
            "kind", "operator", "amount", "count", "days", "period", "client_type", "text",
            "product", "collection",
        )

    def clean(self):
        data = super().clean()
        rule = getattr(self, "parent_rule", None)
        errors = condition_errors(
            kind=data.get("kind"), operator=data.get("operator"), amount=data.get("amount"),
            count=data.get("count"), days=data.get("days"),
            client_type=data.get("client_type"), text=data.get("text"),
            product=data.get("product"), collection=data.get("collection"),
            shop_id=rule.shop_id if rule is not None and rule.pk else None,
            period=data.get("period") or "",
        )
        if errors:
            raise ValidationError(errors)
        return data


class ConditionFormSet(forms.BaseInlineFormSet):
    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.parent_rule = self.instance
        return form


class ConditionInline(ShopScopedInline):
    model = Condition
    shop_path = "rule__category__shop"
    form = ConditionForm
    formset = ConditionFormSet
    extra = 1
    autocomplete_fields = ("product", "collection")


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ("category", "name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].required = True  # segments' rules have their own page


@admin.register(Rule)
class RuleAdmin(SimulateMixin, MarksFullPass, PreviewMixin, ShopScopedAdmin):
    shop_path = "category__shop"
    form = RuleForm
    inlines = (ConditionInline,)
    list_display = ("name", "category", "shop")
    list_filter = ("category__shop",)
    list_select_related = ("category__shop",)
    search_fields = ("name",)
    autocomplete_fields = ("category",)
    change_form_template = "admin/loyalty/change_form_preview.html"
    preview_shop = "category.shop"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(category__isnull=False)

    @admin.display(description=gettext_lazy("shop"))
    def shop(self, rule):
        return rule.category.shop


#: How many of a customer's orders their page lists (newest first; a link opens them all).
LATEST_ORDERS = 20


class CategoryChangeInline(LatestRowsInline, ShopScopedInline):
    model = CategoryChange
    all_rows_url_name = "admin:loyalty_categorychange_changelist"
    fk_name = "customer"
    extra = 0
    can_delete = False
    fields = ("changed_at", "as_of", "from_category", "to_category", "reason", "until", "rule",
              "figures_text", "staff_user", "note")
    readonly_fields = fields
    ordering = ("-changed_at", "-id")
    verbose_name_plural = gettext_lazy("category history")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "shop", "from_category", "to_category", "rule", "staff_user"
        )

    @admin.display(description=gettext_lazy("measured figures"))
    def figures_text(self, change):
        if not change.figures:
            return "—"
        if getattr(self, "_names", None) is None:  # once per page: the shop's names
            self._names = explain_names(change.shop)
        return format_html_join(mark_safe("<br>"), "{}", (
            (line,) for line in explain_text.figure_sentences(change.figures, self._names)))


def explain_names(shop) -> explain_text.Names:
    """What explanation sentences name besides figures: the currency, and the products and
    collections the shop's rules refer to (two queries, bounded by the rules)."""
    conditions = Condition.objects.filter(rule__category__shop=shop)
    return explain_text.Names(
        currency=shop.currency,
        products=dict(conditions.filter(product__isnull=False).values_list(
            "product_id", "product__name")),
        collections=dict(conditions.filter(collection__isnull=False).values_list(
            "collection_id", "collection__name")),
        client_types={str(k): str(v) for k, v in ClientType.choices},
    )


class MoveForm(forms.Form):
    category = ShopLabelledChoiceField(
        queryset=Category.objects.none(), label=gettext_lazy("Move to category")
    )
    lock = forms.BooleanField(
        label=gettext_lazy("and lock them in this category"), required=False, initial=True,
        help_text=gettext_lazy(
            "Keeps the customers in this category: recalculations (the nightly one too) do "
            "not move locked customers until staff unlock them. Untick to let the rules "
            "move them again at the next recalculation."
        ),
    )
    until = forms.DateField(
        label=gettext_lazy("until (optional)"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "A temporary move: the customers are locked in the category until this date; "
            "the recalculation of that date (or the first one after it) returns them to the "
            "rules. Must be in the future."
        ),
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)

    def __init__(self, *args, shop_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.shops = list(Shop.objects.filter(pk__in=shop_ids))
        self.fields["category"].queryset = Category.objects.filter(
            shop_id__in=shop_ids
        ).select_related("shop")

    def clean_until(self):
        return clean_until(self.cleaned_data["until"], self.shops)


def clean_until(until, shops):
    """The same check as the services', against each selected shop's today."""
    if until is not None:
        for shop in shops:
            if error := until_error(until, shop.today()):
                raise ValidationError(error)
    return until


class LockUntilForm(forms.Form):
    until = forms.DateField(
        label=gettext_lazy("Lock until"), widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "The recalculation of this date (or the first one after it) unlocks the "
            "customers and applies the rules. Must be in the future."
        ),
    )

    def __init__(self, *args, shop_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.shops = list(Shop.objects.filter(pk__in=shop_ids))

    def clean_until(self):
        return clean_until(self.cleaned_data["until"], self.shops)


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerAdmin(admin_keeping.CustomerKeepingMixin, admin_points.CustomerPointsMixin,
                    shops_admin.CustomerAdmin):
    """The commerce customer admin, with loyalty's history, explanation and actions."""

    inlines = (CategoryChangeInline, admin_points.PointsEntryInline)
    list_display = (*shops_admin.CustomerAdmin.list_display, "points_balance")
    list_select_related = (*shops_admin.CustomerAdmin.list_select_related, "points_account")
    readonly_fields = ("category", "category_locked", "lifecycle_state", "explanation",
                       "points_balance_detail", "segments_summary", "orders_summary",
                       "keeping_summary")
    actions = ("lock_selected", "lock_until_selected", "unlock_selected", "move_selected",
               "recalculate_selected")

    def has_lock_permission(self, request):
        return request.user.has_perm("shops.lock_customer")

    def has_move_permission(self, request):
        return request.user.has_perm("shops.move_customer_category")

    @admin.display(description=gettext_lazy("segments"))
    def segments_summary(self, customer):
        if customer.pk is None:
            return "—"
        names = list(SegmentMember.objects.filter(customer=customer).order_by(
            "segment__name").values_list("segment__name", flat=True))
        return ", ".join(names) or _("in no segment")

    @admin.display(description=gettext_lazy("latest orders"))
    def orders_summary(self, customer):
        """The latest orders, newest first, each said counted or not (two queries)."""
        if customer.pk is None:
            return "—"
        orders = list(
            Order.objects.filter(customer=customer).order_by("-placed_at", "-pk")
            .annotate(counted=Case(When(COUNTED_ORDER, then=Value(True)), default=Value(False),
                                   output_field=BooleanField()))[:LATEST_ORDERS]
        )
        if not orders:
            return _("no orders yet")
        total = Order.objects.filter(customer=customer).count()
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("Order"), _("Placed"), _("Status"), _("Value"), _("Counts for loyalty"),
        )
        rows = format_html_join("", (
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'
        ), (
            (reverse("admin:shops_order_change", args=[o.pk]), o.number,
             date_format(timezone.localtime(o.placed_at, customer.shop.tz),
                         "SHORT_DATETIME_FORMAT"),
             o.get_status_display(), explain_text.money(
                 o.goods_total.amount - o.returned_total.amount, customer.shop.currency),
             "✔" if o.counted else _("no (not completed and paid)"))
            for o in orders
        ))
        every = format_html(
            '<a href="{}?customer__id__exact={}">{}</a>',
            reverse("admin:shops_order_changelist"), customer.pk,
            ngettext("All %(n)s order", "All %(n)s orders", total) % {"n": total},
        )
        return format_html("<table>{}{}</table><p>{}</p>", head, rows, every)

    @admin.display(description=gettext_lazy("grace period / temporary move"))
    def lifecycle_state(self, customer):
        if customer.pk is None:
            return "—"
        return selectors.customer_lifecycle_text(customer) or "—"

    @admin.display(description=gettext_lazy("Why this category"))
    def explanation(self, customer):
        if customer.pk is None:
            return "—"
        entries = selectors.customer_explain(customer)
        names = explain_names(customer.shop)
        state = selectors.customer_lifecycle_text(customer)
        rows = []
        for entry in entries:
            category = entry["category"]
            for rule in entry["rules"] or [{"rule": None, "checks": [], "holds": False}]:
                checks = format_html_join(
                    "", '<div class="{}">{} {}</div>',
                    (("met" if ch.met else "unmet", "✔" if ch.met else "✘",
                      explain_text.check_sentence(ch, names))
                     for ch in rule["checks"]),
                ) or _("no rules")
                rows.append(format_html(
                    "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    category.name, " ★" if entry["current"] else "",
                    rule["rule"].name if rule["rule"] else "—", checks,
                    _("all conditions met") if rule["holds"] else _("not met"),
                ))
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("Category"), _("Rule"), _("Conditions"), _("Result"),
        )
        table = format_html("<table>{}{}</table>", header, format_html_join("", "{}", (
            (r,) for r in rows)))
        if state:
            return format_html('<p class="lifecycle">{}</p>{}', state, table)
        return table

    @admin.action(description=gettext_lazy("Lock automatic category movement"),
                  permissions=("lock",))
    def lock_selected(self, request, queryset):
        self._set_lock(request, queryset, True)

    @admin.action(description=gettext_lazy("Lock automatic category movement until a date…"),
                  permissions=("lock",))
    def lock_until_selected(self, request, queryset):
        if not self.has_lock_permission(request):
            raise PermissionDenied
        shop_ids = set(queryset.values_list("shop_id", flat=True))
        form = LockUntilForm(request.POST if "apply" in request.POST else None,
                             shop_ids=shop_ids)
        if form.is_valid():
            until, changed = form.cleaned_data["until"], 0
            with transaction.atomic():
                for customer in queryset.order_by("pk"):
                    if services.customer_lock(customer=customer, locked=True,
                                              staff_user=request.user, until=until):
                        changed += 1
                        self.log_change(request, customer, _(
                            "Locked automatic category movement until %(date)s."
                        ) % {"date": until.isoformat()})
            self.message_user(request, ngettext(
                "%(n)d customer locked until %(date)s.",
                "%(n)d customers locked until %(date)s.", changed,
            ) % {"n": changed, "date": until.isoformat()})
            return None
        return TemplateResponse(request, "admin/loyalty/lock_until.html", {
            **self.admin_site.each_context(request), "title": _("Lock customers until a date"),
            "form": form, "customers": queryset[:100], "count": queryset.count(),
            "ids": queryset.values_list("pk", flat=True), "opts": self.model._meta,
            "action": "lock_until_selected",
        })

    @admin.action(description=gettext_lazy("Unlock automatic category movement"),
                  permissions=("lock",))
    def unlock_selected(self, request, queryset):
        self._set_lock(request, queryset, False)

    def _set_lock(self, request, queryset, locked):
        if not self.has_lock_permission(request):
            raise PermissionDenied
        changed = 0
        with transaction.atomic():
            for customer in queryset.order_by("pk"):
                if services.customer_lock(
                    customer=customer, locked=locked, staff_user=request.user
                ):
                    changed += 1
                    self.log_change(request, customer, _("Locked automatic category movement.")
                                    if locked else _("Unlocked automatic category movement."))
        self.message_user(request, ngettext(
            "%(n)d customer changed.", "%(n)d customers changed.", changed) % {"n": changed})

    @admin.action(description=gettext_lazy("Move to a category…"), permissions=("move",))
    def move_selected(self, request, queryset):
        if not self.has_move_permission(request):
            raise PermissionDenied
        shop_ids = set(queryset.values_list("shop_id", flat=True))
        form = MoveForm(request.POST if "apply" in request.POST else None, shop_ids=shop_ids)
        if form.is_valid():
            category, lock = form.cleaned_data["category"], form.cleaned_data["lock"]
            until = form.cleaned_data["until"]
            moved = 0
            with transaction.atomic():
                for customer in queryset.filter(shop_id=category.shop_id).order_by("pk"):
                    if services.customer_move(
                        customer=customer, category=category, staff_user=request.user,
                        note=form.cleaned_data["note"], lock=lock, until=until,
                    ):
                        moved += 1
                        self.log_change(request, customer, (
                            _("Moved to category %(category)s until %(date)s.") if until
                            else _("Moved to category %(category)s and locked.") if lock
                            else _("Moved to category %(category)s.")
                        ) % {"category": category, "date": until and until.isoformat()})
            if until:
                self.message_user(request, ngettext(
                    "%(n)d customer moved to %(category)s until %(date)s.",
                    "%(n)d customers moved to %(category)s until %(date)s.", moved,
                ) % {"n": moved, "category": category, "date": until.isoformat()})
                return None
            message = ngettext(
                "%(n)d customer moved to %(category)s and locked.",
                "%(n)d customers moved to %(category)s and locked.", moved,
            ) if lock else ngettext(
                "%(n)d customer moved to %(category)s.",
                "%(n)d customers moved to %(category)s.", moved,
            )
            self.message_user(request, message % {"n": moved, "category": category})
            return None
        return TemplateResponse(request, "admin/loyalty/move_customers.html", {
            **self.admin_site.each_context(request), "title": _("Move customers"),
            "form": form, "customers": queryset[:100], "count": queryset.count(),
            "ids": queryset.values_list("pk", flat=True), "opts": self.model._meta,
            "action": "move_selected",
        })

    @admin.action(description=gettext_lazy("Recalculate category now"))
    def recalculate_selected(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:1000])
        for customer_id in ids:
            transaction.on_commit(
                lambda customer_id=customer_id: tasks.recalculate_customer.delay(customer_id)
            )
        self.message_user(request, ngettext(
            "Recalculation requested for %(n)d customer.",
            "Recalculation requested for %(n)d customers.", len(ids)) % {"n": len(ids)})


admin.site.unregister(Shop)


@admin.register(Shop)
class ShopAdmin(shops_admin.ShopAdmin):
    actions = ("recalculate_now",)

    @admin.action(description=gettext_lazy("Recalculate categories now"))
    def recalculate_now(self, request, queryset):
        for shop in queryset:
            try:
                run = services.run_request(shop=shop, triggered_by=request.user)
            except services.RecalculationBusy as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            transaction.on_commit(
                lambda shop_id=shop.pk, run_id=run.pk: tasks.recalculate_shop.delay(
                    shop_id, run_id)
            )
            self.log_change(request, shop, _("Requested a recalculation of categories."))
            self.message_user(request, _(
                "Recalculation of %(shop)s started: follow it under Recalculation runs."
            ) % {"shop": shop})
        # From the home page's button: back to the home page, which shows the run's state.
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            return HttpResponseRedirect(target)
        return None


@admin.register(RecalculationRun)
class RecalculationRunAdmin(ShopScopedAdmin):
    list_display = ("shop", "status", "progress", "moved_up", "moved_down", "unchanged",
                    "skipped_locked", "started_at", "heartbeat_at", "finished_at",
                    "triggered_by", "worker", "outcome")
    list_filter = ("shop", "status")
    list_select_related = ("shop", "triggered_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("error or reason"))
    def outcome(self, run):
        return run.error if len(run.error) <= 160 else f"{run.error[:159]}…"

    @admin.display(description=gettext_lazy("examined"))
    def progress(self, run):
        percent = 100 * run.examined // run.total if run.total else 100
        return f"{run.examined} / {run.total} ({percent}%)"


@admin.register(CategoryChange)
class CategoryChangeAdmin(CustomerSearchAdmin, ReadOnlyScopedAdmin):
    list_display = ("changed_at", "as_of", "customer", "from_category", "to_category", "reason",
                    "direction", "staff_user")
    list_filter = ("shop", "reason", "direction")
    list_select_related = ("customer", "from_category", "to_category", "staff_user")
    search_fields = ("customer__external_id", "customer__name")  # CustomerSearchAdmin's
    date_hierarchy = "changed_at"
    ordering = ("-changed_at", "-id")


from . import admin_segments  # noqa: E402, F401  (segments' admin pages register themselves)
