"""Admin: templates (with preview), messages (with resend), channel settings, bulk sends,
and consent on the customer page. Wiring only: texts are checked by
`notifications.rendering`, changes go through `notifications.services`."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modeltranslation.admin import TabbedTranslationAdmin
from modeltranslation.utils import get_translation_fields

from loyalty.models import Category, Segment
from shops.admin_lists import CustomerSearchAdmin
from shops.labels import ShopLabelledChoiceField
from shops.models import Customer
from shops.scoping import ReadOnlyScopedAdmin, ShopScopedAdmin, ShopScopedInline, scope, shops_for

from . import addresses, rendering, selectors, services, sms
from .models import (
    DEFAULT_SMS_PRICES,
    BulkSend,
    BulkSendStatus,
    Channel,
    ChannelSettings,
    Consent,
    Message,
    MessageTemplate,
    Status,
)

PREVIEW, CONFIRM = "_preview", "_confirm"


def check_template_fields(form: forms.ModelForm, *names: str) -> None:
    """Why a text would not render in the sandbox (syntax, a tag, filter or variable it may
    not use, its length), as errors of the field (every language) it is in."""
    for name in names:
        for field in get_translation_fields(name):
            error = rendering.check_text(form.cleaned_data.get(field) or "")
            if error and field in form.fields:
                form.add_error(field, _("Template error: %(error)s") % {"error": error})


BODY_HELP = gettext_lazy(
    "Variables: {{ customer_name }}, {{ shop_name }}, {{ old_category }} (category "
    "messages), {{ new_category }}, {{ points_earned }} and {{ order_number }} (order "
    "completed), {{ balance }}. Tags: {% if %}…{% elif %}…{% else %}…{% endif %}, "
    "{% firstof %}, {% comment %}. Filters: default, upper, lower, title, capfirst, "
    "pluralize, yesno, truncatechars, truncatewords. Nothing else (no include, load "
    "or loops); at most 10,000 characters."
)
BODY_HELP = format_lazy("{} {}", BODY_HELP, gettext_lazy(
    "Notices: {{ keeps_until }} and {{ to_keep }} (category at risk), {{ next_category }} "
    "and {{ to_next }} (close to the next category)."
))


class TextHelpMixin:
    """The body's help text on every language's field (Meta.help_texts names the untranslated
    field only, which the admin does not show)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in get_translation_fields("body"):
            if field in self.fields:
                self.fields[field].help_text = BODY_HELP


class MessageTemplateForm(TextHelpMixin, forms.ModelForm):
    preview_customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(), required=False,
        label=gettext_lazy("Preview for customer"),
        help_text=gettext_lazy(
            "Choose a customer and press Preview: the text is rendered in their language, "
            "nothing is saved."
        ),
        widget=AutocompleteSelect(Message._meta.get_field("customer"), admin.site),
    )

    class Meta:
        model = MessageTemplate
        fields = ("shop", "event", "channel", "enabled", "subject", "body")
        help_texts = {"body": BODY_HELP}

    def clean(self):
        data = super().clean()
        check_template_fields(self, "subject", "body")
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ShopScopedAdmin, TabbedTranslationAdmin):
    form = MessageTemplateForm
    fields = ("shop", "event", "channel", "enabled", "subject", "body", "preview_customer")
    list_display = ("event", "channel", "shop_or_default", "enabled", "updated_at")
    list_filter = ("event", "channel", "enabled", "shop")
    list_select_related = ("shop",)
    change_form_template = "admin/notifications/messagetemplate/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("preview_customer")
        if field is not None:  # staff preview only their shops' customers
            field.queryset = scope(Customer.objects.all(), request.user)
        return form

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:  # the project defaults belong to no shop
            queryset = queryset | MessageTemplate.objects.filter(shop__isnull=True)
        return queryset

    def save_model(self, request, obj, form, change):
        services.template_save(template=obj, staff_user=request.user)

    @admin.display(description=gettext_lazy("shop"), ordering="shop")
    def shop_or_default(self, template):
        return template.shop or _("Default (every shop)")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and PREVIEW in request.POST:
            return self._preview(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _preview(self, request, object_id, form_url, extra_context):
        """The form as posted, re-shown with the rendered text; nothing is saved."""
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        allowed = (self.has_change_permission(request, obj) if obj
                   else self.has_add_permission(request))
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(
            request.POST, request.FILES, instance=obj
        )
        preview = None
        if form.is_valid():
            customer = form.cleaned_data.get("preview_customer")
            if customer is None:
                form.add_error("preview_customer", _("Choose a customer to preview for."))
            else:
                preview = services.preview(template=form.instance, customer=customer)
                if preview.error:
                    form.add_error(None, preview.error)
        admin_form = helpers.AdminForm(
            form, list(self.get_fieldsets(request, obj)), {},
            self.get_readonly_fields(request, obj), model_admin=self,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(template)s") % {"template": form.instance},
            "subtitle": None, "adminform": admin_form, "object_id": object_id,
            "original": obj, "is_popup": False, "to_field": None,
            "media": self.media + admin_form.media, "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "preview": preview, **(extra_context or {}),
        }
        return self.render_change_form(
            request, context, add=obj is None, change=obj is not None, obj=obj,
            form_url=form_url,
        )


@admin.register(Message)
class MessageAdmin(CustomerSearchAdmin, ReadOnlyScopedAdmin):
    list_display = ("created_at", "shop", "customer", "event", "channel", "status", "attempts",
                    "cost", "sent_at", "short_error")
    list_filter = ("status", "channel", "event", "shop")
    list_select_related = ("shop", "customer")
    search_fields = ("recipient", "customer__external_id", "customer__name")
    search_exact = ("recipient",)
    search_help_text = gettext_lazy(
        "A recipient's address or number (exact), a customer's external id (exact), or part "
        "of the customer's name, email or phone."
    )
    date_hierarchy = "created_at"
    ordering = ("-pk",)
    actions = ("resend_selected",)
    fields = ("shop", "customer", "event", "channel", "language", "recipient", "subject",
              "body", "segments", "cost", "status", "attempts", "next_attempt_at", "sent_at",
              "last_error", "idempotency_key", "dedup_key", "category_change", "order",
              "bulk_send", "created_at")
    readonly_fields = fields

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.resend_message")

    @admin.display(description=gettext_lazy("last error"))
    def short_error(self, message):
        return message.last_error[:80]

    @admin.action(description=gettext_lazy("Resend failed messages"), permissions=["resend"])
    def resend_selected(self, request, queryset):
        ids = list(queryset.filter(status=Status.FAILED).values_list("pk", flat=True))
        count = services.messages_resend(message_ids=ids, staff_user=request.user)
        self.message_user(request, _("%(n)d failed messages queued again.") % {"n": count})


class ChannelSettingsForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label=gettext_lazy("webhook URL"), required=False, assume_scheme="https",
        help_text=ChannelSettings._meta.get_field("webhook_url").help_text,
    )

    class Meta:
        model = ChannelSettings
        fields = ("shop", "email_enabled", "sms_enabled", "sms_sender", "sms_billing",
                  "sms_billing_characters", "sms_price", "webhook_url", "webhook_secret")
        widgets = {"sms_billing": forms.RadioSelect}

    def clean_webhook_url(self):
        url = self.cleaned_data.get("webhook_url")
        if url:
            try:
                addresses.check_url(url)
            except addresses.UnsafeURL as exc:
                raise forms.ValidationError(str(exc)) from None
        return url

    def clean(self):
        data = super().clean()
        price, shop = data.get("sms_price"), data.get("shop")
        if price is not None and price < 0:
            self.add_error("sms_price", _("A price cannot be negative."))
        elif (price is None and data.get("sms_enabled") and shop is not None
              and shop.currency not in DEFAULT_SMS_PRICES):
            self.add_error("sms_price", services.sms_price_missing(shop.currency))
        if data.get("webhook_url") and not data.get("webhook_secret"):
            self.add_error("webhook_secret", _("A webhook needs a secret to sign its posts."))
        return data


@admin.register(ChannelSettings)
class ChannelSettingsAdmin(ShopScopedAdmin):
    form = ChannelSettingsForm
    list_display = ("shop", "email_enabled", "sms_enabled", "sms_billing", "sms_price",
                    "webhook_url")
    list_select_related = ("shop",)


def tariff_text(tariff, currency: str) -> str:
    """The billing rule in the merchant's words, e.g. "1.01 UAH per 70 characters"."""
    if tariff is None:
        return _("No SMS price set")
    exact = tariff.price.normalize()
    price = f"{tariff.price:.2f}" if exact.as_tuple().exponent > -2 else f"{exact:f}"
    if tariff.rule == sms.PER_SEGMENT:
        return _("%(price)s %(currency)s per SMS segment (GSM-7 160/153, UCS-2 70/67 "
                 "characters)") % {"price": price, "currency": currency}
    return _("%(price)s %(currency)s per %(n)d characters") % {
        "price": price, "currency": currency, "n": tariff.characters}


class BulkSendForm(TextHelpMixin, forms.ModelForm):
    class Meta:
        model = BulkSend
        fields = ("shop", "category", "segment", "channel", "subject", "body")
        # "Gold · pl": each target labelled with its shop; the page offers the chosen
        # shop's only (static/patron/shop_choices.js).
        field_classes = {"category": ShopLabelledChoiceField, "segment": ShopLabelledChoiceField}
        help_texts = {
            **MessageTemplateForm.Meta.help_texts,
            "category": gettext_lazy("Send to this category's customers, or…"),
            "segment": gettext_lazy(
                "…to this segment's members (as of its last refresh). Choose one of the two."
            ),
        }

    def clean(self):
        data = super().clean()
        check_template_fields(self, "subject", "body")
        shop, category, segment = data.get("shop"), data.get("category"), data.get("segment")
        targets = "category" in self.fields and "segment" in self.fields  # read-only on drafts
        if targets and category and segment:
            self.add_error("segment", _("Choose either a category or a segment."))
        elif targets and not (category or segment or self.has_error("category")
                              or self.has_error("segment")):
            self.add_error("category", _("Choose either a category or a segment."))
        if shop and category and category.shop_id != shop.pk:
            self.add_error("category", _("The category belongs to another shop."))
        if shop and segment and segment.shop_id != shop.pk:
            self.add_error("segment", _("The segment belongs to another shop."))
        if shop and data.get("channel") == Channel.WEBHOOK and not (
            selectors.channel_settings(shop.pk).webhook_url
        ):
            self.add_error("channel", _("This shop has no webhook URL."))
        return data


@admin.register(BulkSend)
class BulkSendAdmin(ShopScopedAdmin, TabbedTranslationAdmin):
    """Add a draft: the page then shows its recipients and total cost with a confirm
    button; once confirmed it shows the progress of its messages."""

    form = BulkSendForm
    list_display = ("created_at", "shop", "target", "channel", "status", "recipients",
                    "total_cost", "queued")
    list_filter = ("status", "channel", "shop")
    list_select_related = ("shop", "category", "segment")
    change_form_template = "admin/notifications/bulksend/change_form.html"

    summary = ("status", "recipients", "total_cost", "progress", "created_by", "confirmed_by",
               "confirmed_at")

    def get_fields(self, request, obj=None):
        fields = ["shop", "category", "segment", "channel", "subject", "body"]
        return fields if obj is None else [*fields, *self.summary]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("shop", "category", "segment", "channel", *self.summary)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Targets of the user's shops only; of one shop when the add page is opened with
        # ?shop=<id> (the form checks that the target belongs to the chosen shop). A draft's
        # target is read-only, so its own shop needs no narrowing here.
        if db_field.name in ("category", "segment"):
            shops = shops_for(request.user)
            if request.GET.get("shop", "").isdigit():
                shops = shops.filter(pk=int(request.GET["shop"]))
            if db_field.name == "category":
                kwargs["queryset"] = Category.objects.filter(
                    shop__in=shops, visible_to_customer=True  # hidden ones are never messaged
                ).select_related("shop")
            else:
                kwargs["queryset"] = Segment.objects.filter(shop__in=shops).select_related(
                    "shop").order_by("shop__name", "name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("to"))
    def target(self, bulk):
        return bulk.target

    def has_change_permission(self, request, obj=None):
        # A confirmed bulk send is history: its page shows it and its progress, read-only.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status == BulkSendStatus.DRAFT)

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.status == BulkSendStatus.DRAFT

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, bulk):
        counts = selectors.bulk_progress(bulk)
        return format_html(
            _("{queued} of {recipients} queued: {sent} sent, {failed} failed, {waiting} waiting"),
            queued=bulk.queued, recipients=bulk.recipients, sent=counts["sent"],
            failed=counts["failed"], waiting=counts["pending"] + counts["sending"],
        )

    def save_model(self, request, obj, form, change):
        services.bulk_send_prepare(bulk=obj, staff_user=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        # Always to the draft's page: it shows the recipients and cost before confirming.
        return HttpResponseRedirect(self._change_url(obj))

    def response_change(self, request, obj):
        return HttpResponseRedirect(self._change_url(obj))

    def _change_url(self, obj):
        return reverse("admin:notifications_bulksend_change", args=[obj.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Which billing rule the shown cost uses (the one it was counted with).
        bulk = self.get_object(request, unquote(object_id))
        if bulk is not None and bulk.channel == Channel.SMS:
            tariff = bulk.tariff or selectors.sms_tariff(
                selectors.channel_settings(bulk.shop_id), bulk.shop.currency
            )
            extra_context = {**(extra_context or {}),
                             "sms_billing": tariff_text(tariff, bulk.shop.currency)}
        return super().change_view(request, object_id, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and CONFIRM in request.POST and object_id:
            obj = self.get_object(request, unquote(object_id))
            if obj is None:  # missing or another shop's: a 404, like every foreign object
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
            if self._text_edited(request, obj):
                # Confirm only what was counted: an edited text is saved and counted again.
                self.message_user(request, _(
                    "The text was edited: check the new recipients and cost, then confirm."
                ), messages.WARNING)
                return super().changeform_view(request, object_id, form_url, extra_context)
            if services.bulk_send_confirm(bulk=obj, staff_user=request.user):
                self.message_user(request, _(
                    "Confirmed: %(n)d messages are being queued. Progress is shown below."
                ) % {"n": obj.recipients}, messages.SUCCESS)
            return HttpResponseRedirect(self._change_url(obj))
        return super().changeform_view(request, object_id, form_url, extra_context)


    @staticmethod
    def _text_edited(request, obj) -> bool:
        fields = (*get_translation_fields("subject"), *get_translation_fields("body"))
        return any(
            f in request.POST and request.POST[f].strip() != (getattr(obj, f) or "").strip()
            for f in fields
        )


class ConsentInline(ShopScopedInline):
    model = Consent
    shop_path = "customer__shop"
    fields = ("email", "sms", "webhook", "updated_at")
    readonly_fields = ("updated_at",)
    max_num = 1
    can_delete = False
    verbose_name_plural = gettext_lazy("notification consent (unticked: opted out)")


# The customer page gets the consent inline. Subclass whatever customer admin is registered
# (shops', extended by loyalty and maybe others) so this stays one small addition.
_RegisteredCustomerAdmin = type(admin.site.get_model_admin(Customer))
admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerAdmin(_RegisteredCustomerAdmin):
    inlines = (*_RegisteredCustomerAdmin.inlines, ConsentInline)
