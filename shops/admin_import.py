"""Admin pages for the CSV import: upload -> preview (or the list of errors) -> confirm.

Mounted by config/urls.py as ``admin/shops/import/`` (name ``shops_import``). The uploaded
file travels from the preview to the confirmation in a signed, compressed hidden field, so
what is applied is exactly what was previewed; it is validated again before applying, because
the shop's data may have changed in between. The formats are documented in shops.importing.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import importing
from .models import Shop
from .scoping import shops_for

_SALT = "shops.admin_import"
#: How long a preview stays confirmable, in seconds.
PREVIEW_MAX_AGE = 3600

#: The permissions a user needs to import each kind of file.
PERMISSIONS = {
    importing.ImportKind.CUSTOMERS: ("shops.add_customer", "shops.change_customer"),
    importing.ImportKind.ORDERS: ("shops.add_order", "shops.change_order"),
    importing.ImportKind.RETURNS: ("shops.add_return",),
}


class ImportForm(forms.Form):
    shop = forms.ModelChoiceField(queryset=Shop.objects.none(), label=gettext_lazy("Shop"))
    kind = forms.ChoiceField(
        choices=importing.ImportKind.choices, label=gettext_lazy("The file holds")
    )
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("UTF-8, with a header line. Nothing is written before you "
                               "confirm the preview."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["shop"].queryset = shops_for(user)

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if not self.user.has_perms(PERMISSIONS[importing.ImportKind(kind)]):
            raise forms.ValidationError(_("You may not import this kind of file."))
        return kind


def _columns() -> list[tuple[str, list[str], list[str]]]:
    return [
        (importing.ImportKind(kind).label, list(cols.required), list(cols.optional))
        for kind, cols in importing.COLUMNS.items()
    ]


def _render(request: HttpRequest, template: str, **context) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Import from CSV"),
        "formats": _columns(),
        **context,
    }
    return TemplateResponse(request, f"admin/shops/{template}", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    try:
        data = signing.loads(request.POST["payload"], salt=_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired:
        messages.error(request, _("The preview has expired; upload the file again."))
        return redirect(request.path)
    except signing.BadSignature:
        messages.error(request, _("The preview could not be read; upload the file again."))
        return redirect(request.path)
    shop = shops_for(request.user).filter(pk=data["shop"]).first()
    kind = importing.ImportKind(data["kind"])
    if shop is None or not request.user.has_perms(PERMISSIONS[kind]):
        raise PermissionDenied
    plan = importing.import_apply(shop=shop, kind=kind, content=data["content"])
    if not plan.is_valid:
        return _render(request, "import_preview.html", plan=plan, payload=None, stale=True)
    summary = _("Imported into %(shop)s: %(summary)s.") % {
        "shop": shop.name, "summary": "; ".join(plan.summary())}
    # The import is a manual change: the shop's history names who imported what.
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[shop], action_flag=CHANGE,
        change_message=f"{kind.label}: {summary}",
    )
    messages.success(request, summary)
    return redirect(request.path)


def _import_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "payload" in request.POST:
        return _confirm(request)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user,
                      initial={"shop": request.GET.get("shop")})
    if not form.is_valid():
        return _render(request, "import_form.html", form=form)
    shop, kind = form.cleaned_data["shop"], form.cleaned_data["kind"]
    content = form.cleaned_data["file"].read()
    plan = importing.import_plan(shop=shop, kind=kind, content=content)
    payload = None
    if plan.is_valid and plan.has_changes:
        # A valid plan means the content decoded as UTF-8.
        payload = signing.dumps(
            {"shop": shop.pk, "kind": kind, "content": content.decode("utf-8-sig")},
            salt=_SALT, compress=True,
        )
    return _render(request, "import_preview.html", plan=plan, payload=payload,
                   file_name=form.cleaned_data["file"].name)


#: The view to mount; admin_view requires an active staff user and adds CSRF protection.
import_view = admin.site.admin_view(_import_view)
