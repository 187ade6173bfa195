"""Admin for segments: definition (rules in the categories' condition language), members and
counts. Segment rules have their own page (conditions as inlines), like categories' rules."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modeltranslation.admin import TabbedTranslationAdmin

from shops.admin_lists import CustomerSearchAdmin
from shops.scoping import ReadOnlyScopedAdmin, ShopScoped, ShopScopedAdmin, ShopScopedInline

from . import tasks
from .admin import ConditionInline, _conditions_text
from .admin_nightly import MarksFullPass
from .models import Segment, SegmentMember, SegmentRule

#: Members shown on a segment's page; the full list is the member list, filtered.
MEMBER_SAMPLE = 20


class SegmentRuleInline(ShopScopedInline):
    model = SegmentRule
    fk_name = "segment"
    shop_path = "segment__shop"
    extra = 0
    fields = ("name", "conditions_summary")
    readonly_fields = ("conditions_summary",)
    show_change_link = True
    verbose_name = gettext_lazy("rule")
    verbose_name_plural = gettext_lazy("definition: a customer is in when one rule holds")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("conditions")

    @admin.display(description=gettext_lazy("conditions"))
    def conditions_summary(self, rule):
        return _conditions_text(rule.conditions.all()) if rule.pk else "—"

    def _editable(self, obj):
        return obj is None or not obj.built_in

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


def members_url(segment: Segment) -> str:
    return reverse("admin:loyalty_segmentmember_changelist") + "?" + urlencode(
        {"segment__id__exact": segment.pk}
    )


@admin.register(Segment)
class SegmentAdmin(MarksFullPass, ShopScoped, TabbedTranslationAdmin):
    shop_path = "shop"
    inlines = (SegmentRuleInline,)
    list_display = ("display_name", "shop", "built_in", "members_link", "computed_at")
    list_filter = ("shop", "built_in")
    list_select_related = ("shop",)
    readonly_fields = ("built_in", "members_link", "computed_at", "member_sample")
    fields = ("shop", "code", "name", "description", "built_in", "members_link", "computed_at",
              "member_sample")
    actions = ("refresh_now",)
    search_fields = ("name", "code")

    def get_search_fields(self, request):
        from modeltranslation.utils import get_translation_fields
        return (*get_translation_fields("name"), "code")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.built_in:
            fields = (*fields, "shop", "code")
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.built_in:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=gettext_lazy("name"), ordering="name")
    def display_name(self, segment):
        return segment.get_built_in_display() if segment.built_in else segment.name

    @admin.display(description=gettext_lazy("members"), ordering="member_count")
    def members_link(self, segment):
        if segment.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', members_url(segment), segment.member_count)

    @admin.display(description=gettext_lazy("some members"))
    def member_sample(self, segment):
        if segment.pk is None:
            return "—"
        members = (
            SegmentMember.objects.filter(segment=segment).select_related("customer")
            .order_by("customer_id")[:MEMBER_SAMPLE]
        )
        items = format_html_join(
            "", '<li><a href="{}">{}</a></li>',
            ((reverse("admin:shops_customer_change", args=[m.customer_id]), m.customer)
             for m in members),
        )
        return format_html("<ul>{}</ul>", items) if items else _("no members")

    @admin.action(description=gettext_lazy("Recompute membership now"))
    def refresh_now(self, request, queryset):
        shop_ids = sorted(set(queryset.values_list("shop_id", flat=True)))
        for shop_id in shop_ids:
            transaction.on_commit(
                lambda shop_id=shop_id: tasks.refresh_shop_segments.delay(shop_id)
            )
        self.message_user(request, _("Membership is being recomputed for %(n)d shops.") % {
            "n": len(shop_ids)})


class SegmentRuleForm(forms.ModelForm):
    class Meta:
        model = SegmentRule
        fields = ("segment", "name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "segment" in self.fields:  # read-only on built-in segments' rules
            self.fields["segment"].required = True


@admin.register(SegmentRule)
class SegmentRuleAdmin(MarksFullPass, ShopScopedAdmin):
    form = SegmentRuleForm
    shop_path = "segment__shop"
    inlines = (ConditionInline,)
    list_display = ("name", "segment", "shop")
    list_filter = ("segment__shop",)
    list_select_related = ("segment__shop",)
    search_fields = ("name",)
    autocomplete_fields = ("segment",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(segment__isnull=False)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.segment.built_in:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.segment.built_in:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=gettext_lazy("shop"))
    def shop(self, rule):
        return rule.segment.shop


@admin.register(SegmentMember)
class SegmentMemberAdmin(CustomerSearchAdmin, ReadOnlyScopedAdmin):
    shop_path = "segment__shop"
    list_display = ("customer", "segment", "computed_at")
    list_filter = ("segment__shop", "segment")
    list_select_related = ("customer", "segment")
    search_fields = ("customer__external_id", "customer__name")  # CustomerSearchAdmin's
    ordering = ("-pk",)
