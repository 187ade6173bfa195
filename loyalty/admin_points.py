"""Admin for bonus points: programs with validated tiers, the shop's points policy, the
ledger (read-only), and the customer's balance, ledger inline and staff adjustment form.

Tiers are checked in their formset with loyalty.programs.tier_errors (no two tiers of a
program start at the same amount, percent 0..100, no negative start) and in the shop's
currency; a program must belong to a category that runs it. The adjustment form calls
loyalty.points.points_adjust, which needs a reason and never overdraws.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shops.admin import add_money_errors
from shops.admin_lists import ORDER_SEARCH_HELP, CustomerSearchAdmin, LatestRowsInline
from shops.models import Customer
from shops.scoping import ReadOnlyScopedAdmin, ShopScopedAdmin, ShopScopedInline

from . import points, programs
from .admin_nightly import MarksFullPass
from .models import (
    BonusProgram,
    BonusTier,
    DiscountProgram,
    DiscountTier,
    PointsAccount,
    PointsEntry,
    PointsPolicy,
    Program,
)

TIER_MESSAGES = {
    "negative": gettext_lazy("Must not be negative."),
    "percent": gettext_lazy("A percentage is between 0 and 100."),
    "duplicate": gettext_lazy("Another tier already starts at this value."),
}


class TierFormSet(forms.BaseInlineFormSet):
    def clean(self):
        category = getattr(self.instance, "category", None) if self.instance.category_id else None
        shop = category.shop if category is not None else None
        live = [f for f in self.forms
                if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")]
        for form in live:
            add_money_errors(form, form.cleaned_data, shop, ("min_lifetime_spend",))
        errors = programs.tier_errors(
            (getattr(f.cleaned_data.get("min_lifetime_spend"), "amount", None),
             f.cleaned_data.get("percent"))
            for f in live
        )
        for i, code in errors.items():
            field = "percent" if code == "percent" else "min_lifetime_spend"
            if field not in live[i].errors:
                live[i].add_error(field, TIER_MESSAGES[code])
        super().clean()


class ProgramForm(forms.ModelForm):
    program_kind = ""

    def clean_category(self):
        category = self.cleaned_data["category"]
        if category.program != self.program_kind:
            raise ValidationError(_("This category does not run this kind of program: set its "
                                    "program first."))
        return category


class BonusProgramForm(ProgramForm):
    program_kind = Program.BONUS

    class Meta:
        model = BonusProgram
        fields = ("category", "name", "boundary")
        widgets = {"boundary": forms.RadioSelect}


class DiscountProgramForm(ProgramForm):
    program_kind = Program.DISCOUNT

    class Meta:
        model = DiscountProgram
        fields = ("category", "name", "boundary")
        widgets = {"boundary": forms.RadioSelect}


class BonusTierInline(ShopScopedInline):
    model = BonusTier
    formset = TierFormSet
    shop_path = "program__category__shop"
    extra = 1


class DiscountTierInline(ShopScopedInline):
    model = DiscountTier
    formset = TierFormSet
    shop_path = "program__category__shop"
    extra = 1


class ProgramAdmin(ShopScopedAdmin):
    shop_path = "category__shop"
    list_display = ("name", "category", "shop", "boundary", "tiers_summary")
    list_filter = ("category__shop", "boundary")
    list_select_related = ("category__shop",)
    search_fields = ("name",)
    autocomplete_fields = ("category",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tiers")

    @admin.display(description=gettext_lazy("shop"))
    def shop(self, program):
        return program.category.shop

    @admin.display(description=gettext_lazy("tiers"))
    def tiers_summary(self, program):
        """E.g. "≥ 0.00: 2%; > 1000.00: 3%" for a program whose boundary is "above"."""
        parts = []
        for tier in program.tiers.all():
            above = program.boundary == programs.ABOVE and tier.min_lifetime_spend.amount > 0
            parts.append(f"{'>' if above else '≥'} {tier.min_lifetime_spend}: {tier.percent}%")
        return "; ".join(parts) or "—"


@admin.register(BonusProgram)
class BonusProgramAdmin(ProgramAdmin):
    form = BonusProgramForm
    inlines = (BonusTierInline,)


@admin.register(DiscountProgram)
class DiscountProgramAdmin(ProgramAdmin):
    form = DiscountProgramForm
    inlines = (DiscountTierInline,)


class PointsPolicyForm(forms.ModelForm):
    class Meta:
        model = PointsPolicy
        fields = ("shop", "point_value", "expiry_months")

    def clean(self):
        data = super().clean()
        add_money_errors(self, data, data.get("shop"), ("point_value",))
        return data


@admin.register(PointsPolicy)
class PointsPolicyAdmin(MarksFullPass, ShopScopedAdmin):
    form = PointsPolicyForm
    list_display = ("shop", "point_value", "expiry_months")
    list_select_related = ("shop",)


@admin.register(PointsEntry)
class PointsEntryAdmin(CustomerSearchAdmin, ReadOnlyScopedAdmin):
    """The whole ledger, read-only: entries are written by loyalty.points only."""

    list_display = ("created_at", "customer", "kind", "points", "order", "return_record",
                    "staff_user", "reason")
    list_filter = ("shop", "kind")
    list_select_related = ("customer", "order", "return_record", "staff_user")
    search_fields = ("customer__external_id", "customer__name", "order__number")
    search_exact = ("order__number",)
    search_help_text = ORDER_SEARCH_HELP
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")


class PointsEntryInline(LatestRowsInline, ShopScopedInline):
    model = PointsEntry
    all_rows_url_name = "admin:loyalty_pointsentry_changelist"
    fk_name = "customer"
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "points", "order", "return_record", "staff_user", "reason")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    verbose_name_plural = gettext_lazy("points ledger")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "order", "return_record", "staff_user"
        )


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(
        # 10**12: more than the largest order can earn (docs/decisions.md, maxima).
        min_value=-(10**12), max_value=10**12,
        label=gettext_lazy("Points"),
        help_text=gettext_lazy("Positive to add, negative to take away."),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)

    def clean_points(self):
        value = self.cleaned_data["points"]
        if value == 0:
            raise ValidationError(_("Enter a number of points other than zero."))
        return value


class CustomerPointsMixin:
    """For the customer admin: the balance (list column and change page, from one join),
    and the staff adjustment form at <customer>/points/adjust/."""

    # The balance comes with the list's rows (list_select_related "points_account"), not as
    # an annotation: the list's aggregates (the date drill-down's MIN/MAX) must not carry
    # the join.

    @admin.display(description=gettext_lazy("points"), ordering="points_account__balance")
    def points_balance(self, customer):
        if customer.pk is None:
            return 0
        try:
            return customer.points_account.balance
        except PointsAccount.DoesNotExist:
            return 0  # (on the change page: one query)

    @admin.display(description=gettext_lazy("points balance"))
    def points_balance_detail(self, customer):
        if customer.pk is None:
            return "—"
        balance = self.points_balance(customer)
        url = reverse("admin:shops_customer_adjust_points", args=[customer.pk])
        return format_html('{} <a class="button" href="{}">{}</a>', balance, url,
                           _("Adjust points…"))

    def get_urls(self):
        urls = [
            path("<path:object_id>/points/adjust/",
                 self.admin_site.admin_view(self.adjust_points_view),
                 name="shops_customer_adjust_points"),
        ]
        return urls + super().get_urls()

    def adjust_points_view(self, request, object_id):
        if not request.user.has_perm("loyalty.adjust_points"):
            raise PermissionDenied
        customer = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = PointsAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                points.points_adjust(
                    customer_ids=[customer.pk], points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"], staff_user=request.user,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.log_change(request, customer, _("Points adjusted: %(points)+d (%(reason)s).")
                                % {"points": form.cleaned_data["points"],
                                   "reason": form.cleaned_data["reason"]})
                self.message_user(request, _("Points adjusted: %(points)+d for %(customer)s.")
                                  % {"points": form.cleaned_data["points"],
                                     "customer": customer}, messages.SUCCESS)
                return redirect("admin:shops_customer_change", customer.pk)
        return TemplateResponse(request, "admin/loyalty/adjust_points.html", {
            **self.admin_site.each_context(request), "title": _("Adjust points"),
            "form": form, "customer": customer, "opts": Customer._meta,
            "balance": self.points_balance(customer),
        })
