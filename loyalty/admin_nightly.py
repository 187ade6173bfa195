"""Admin saves that change what a night decides on mark the shop for a full pass.

Categories, rules (with their conditions), segments and the points policy: after a save
(with its inlines) or a delete, the shop's next night is a full pass (loyalty.nightly).
The night's configuration digest would notice these edits anyway; the mark also says why.
"""

from django.utils.translation import gettext as _

from . import nightly


class MarksFullPass:
    """Mixin for a ModelAdmin whose objects have a `shop_id`."""

    #: Why the next night is full, e.g. "Category Gold changed in the admin."
    full_pass_reason = ""

    def _mark(self, obj) -> None:
        shop_id = getattr(obj, "shop_id", None)
        if shop_id is not None:
            nightly.full_pass_needed(shop_id=shop_id, reason=_(
                "%(what)s “%(name)s” changed in the admin.") % {
                    "what": str(self.model._meta.verbose_name).capitalize(), "name": obj})

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._mark(form.instance)

    def delete_model(self, request, obj):
        self._mark(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:  # an admin selection: a page of rows at most
            self._mark(obj)
        super().delete_queryset(request, queryset)
