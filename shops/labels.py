"""Shops told apart: wherever a choice, filter or autocomplete can hold objects of several
shops, each object is labelled with its shop's code ("Gold · pl"), and an autocomplete asked
with ``shop=<id>`` searches that shop only.

The code comes from a ``_shop_code`` annotation on the queryset (``with_shop_codes``), so
labelling adds no query per row. Used by ``shops.scoping.ShopScoped`` for every foreign-key
choice and related list filter of the scoped admins, by the admin's autocomplete view
(installed on the site by config/urls.py) and by custom forms.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.db.models import F, QuerySet

SEPARATOR = " · "


def shop_code_path(model, admin_site=None) -> str | None:
    from .scoping import shop_path_for

    path = shop_path_for(model, admin_site)
    return None if path in (None, "pk") else f"{path}__code"


def with_shop_codes(queryset: QuerySet, admin_site=None) -> QuerySet:
    """``queryset`` with each row's shop code (unchanged for models of no shop)."""
    path = shop_code_path(queryset.model, admin_site)
    if path is None or "_shop_code" in queryset.query.annotations:
        return queryset
    return queryset.annotate(_shop_code=F(path), _shop_id=F(path[: -len("__code")]))


def shop_labelled(obj) -> str:
    code = getattr(obj, "_shop_code", None)
    return f"{obj}{SEPARATOR}{code}" if code else str(obj)


class ShopOptionsSelect(forms.Select):
    """A select whose options carry ``data-shop`` (their shop's id), so that the page's
    script (static/patron/shop_choices.js) offers only the chosen shop's objects."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        shop_id = getattr(instance, "_shop_id", None)
        if shop_id is not None:
            option["attrs"]["data-shop"] = str(shop_id)
        return option


class ShopLabelledChoiceField(forms.ModelChoiceField):
    """A model choice labelled with the shop ("Gold · pl")."""

    widget = ShopOptionsSelect

    def __init__(self, queryset, **kwargs):
        super().__init__(with_shop_codes(queryset) if queryset is not None else None, **kwargs)

    def _set_queryset(self, queryset):
        super()._set_queryset(with_shop_codes(queryset) if queryset is not None else None)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def label_from_instance(self, obj):
        return shop_labelled(obj)


class ShopLabelledAutocompleteView(AutocompleteJsonView):
    """The admin's autocomplete, each result labelled with its shop; ``shop=<id>`` in the
    query (added by static/patron/shop_choices.js from the form's shop field) narrows the
    search to that shop (the searched admin's ``get_search_results`` does it)."""

    def get_queryset(self):
        return with_shop_codes(super().get_queryset(), self.admin_site)

    def serialize_result(self, obj, to_field_name):
        return {**super().serialize_result(obj, to_field_name), "text": shop_labelled(obj)}


def install(site) -> None:
    def autocomplete_view(request):
        return ShopLabelledAutocompleteView.as_view(admin_site=site)(request)

    site.autocomplete_view = autocomplete_view
