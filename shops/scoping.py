"""Shop-scoped admin: staff users see and change only their shops' objects (SPEC section 8).

Contract
- A staff user is bound to shops by `ShopStaff` rows; `shops_for(user)` is what they may
  see. Superusers see every shop; inactive or anonymous users see none.
- Every ModelAdmin and inline of a shop-owned model inherits `ShopScopedAdmin` or
  `ShopScopedInline` (or mixes in `ShopScoped`) and names the ORM path from its model to
  the shop in `shop_path` ("shop", "customer__shop", "order__customer__shop"; "pk" for Shop
  itself). tests/test_scoping_registry.py fails for any shop-owned admin that does not.
- The mixin narrows, for non-superusers: the changelist, search, date hierarchy, actions and
  exports (all built on `get_queryset`); object pages (another shop's object is a 404, never
  a redirect that tells it exists); autocomplete (the searched admin's `get_queryset`);
  choices of foreign keys and many-to-many fields in forms and inlines (`get_field_queryset`,
  so a posted foreign id fails validation); and related-field list filters.
- Custom views and forms outside a ModelAdmin call `shops_for(user)` or `scope(queryset,
  user)` themselves.
"""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .autocomplete import SelectedOnce
from .models import Shop

#: The script that narrows a form's choices and searches to its chosen shop.
SHOP_CHOICES_JS = ("admin/js/jquery.init.js", "patron/shop_choices.js")


def sees_every_shop(user) -> bool:
    return bool(user is not None and user.is_active and user.is_superuser)


def shops_for(user) -> QuerySet[Shop]:
    """The shops a staff user may see and change."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Shop.objects.none()
    if user.is_superuser:
        return Shop.objects.all()
    return Shop.objects.filter(staff_access__user=user)


def shop_path_for(model: type[Model], admin_site=None) -> str | None:
    """The path from ``model`` to its shop, or None when the model belongs to no shop.

    The model's registered scoped admin says it; otherwise a direct ``shop`` foreign key."""
    if model is Shop:
        return "pk"
    model_admin = (admin_site or admin.site)._registry.get(model)
    if isinstance(model_admin, ShopScoped):
        return model_admin.shop_path
    try:
        field = model._meta.get_field("shop")
    except FieldDoesNotExist:
        return None
    return "shop" if getattr(field, "related_model", None) is Shop else None


def scope(queryset: QuerySet, user, shop_path: str | None = None, admin_site=None) -> QuerySet:
    """``queryset`` narrowed to the user's shops (unchanged for superusers and for models
    that belong to no shop). One subquery, no extra round trip."""
    path = shop_path or shop_path_for(queryset.model, admin_site)
    if path is None or sees_every_shop(user):
        return queryset
    return queryset.filter(**{f"{path}__in": shops_for(user)})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field filter offering only the user's shops' objects, each labelled with
    its shop ("Gold · pl"), and only the chosen shop's when the list is filtered by shop."""

    def field_choices(self, field, request, model_admin):
        from .labels import shop_labelled, with_shop_codes

        model = field.related_model
        path = shop_path_for(model, model_admin.admin_site)
        if path is None:
            return super().field_choices(field, request, model_admin)
        queryset = scope(model._default_manager.all(), request.user, path)
        chosen = _chosen_shop(request, model_admin)
        if chosen is not None and path != "pk":
            queryset = queryset.filter(**{f"{path}__pk": chosen})
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        queryset = with_shop_codes(queryset, model_admin.admin_site)
        remote = getattr(field, "remote_field", None)
        attname = (
            remote.get_related_field().attname
            if remote is not None and hasattr(remote, "get_related_field") else "pk"
        )
        return [(getattr(obj, attname), shop_labelled(obj)) for obj in queryset]


def _chosen_shop(request, model_admin) -> int | None:
    """The shop the changelist is filtered by (its own shop filter), if any."""
    shop_path = getattr(model_admin, "shop_path", None)
    if not shop_path or shop_path == "pk":
        return None
    value = request.GET.get(f"{shop_path}__id__exact", "")
    return int(value) if value.isdigit() else None


def export_csv(modeladmin, request, queryset):
    """Stream the selected rows' stored fields as CSV (money as amount and currency)."""
    opts = modeladmin.model._meta
    fields = [f for f in opts.concrete_fields if f.name not in modeladmin.export_exclude]

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def rows():
        yield writer.writerow([f.attname for f in fields])
        values = queryset.order_by("pk").values_list(*(f.attname for f in fields))
        for row in values.iterator(chunk_size=2000):
            yield writer.writerow(row)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{opts.model_name}.csv"'
    return response


export_csv.short_description = gettext_lazy("Export selected %(verbose_name_plural)s as CSV")


class ShopScoped:
    #: The ORM path from the admin's model to its Shop ("pk" for Shop itself).
    shop_path = "shop"
    #: Stored fields left out of the CSV export (e.g. secrets).
    export_exclude: tuple[str, ...] = ()

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.shop_path)

    @property
    def media(self):
        # Choices and autocompletes follow the form's shop field (shops/labels.py).
        return super().media + forms.Media(js=SHOP_CHOICES_JS)

    def get_field_queryset(self, db, db_field, request):
        queryset = super().get_field_queryset(db, db_field, request)
        model = db_field.remote_field.model
        if shop_path_for(model, self.admin_site) is None or sees_every_shop(request.user):
            return queryset
        if queryset is None:
            queryset = model._default_manager.using(db)
        return scope(queryset, request.user, admin_site=self.admin_site)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from .labels import ShopLabelledChoiceField, shop_code_path

        if shop_code_path(db_field.remote_field.model, self.admin_site):
            kwargs.setdefault("form_class", ShopLabelledChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        # An autocomplete on a form with a shop chosen searches that shop only
        # (static/patron/shop_choices.js adds shop=<id> to the request).
        shop = request.GET.get("shop", "")
        match = getattr(request, "resolver_match", None)
        if shop.isdigit() and match is not None and match.url_name == "autocomplete":
            queryset = queryset.filter(**{self.shop_path: int(shop)})
        return queryset, may_have_duplicates

    def get_list_filter(self, request):
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and get_fields_from_path(self.model, item)[-1].is_relation:
                item = (item, ScopedRelatedFieldListFilter)
            filters.append(item)
        return filters

    def get_actions(self, request):
        actions = super().get_actions(request)
        if (self.actions is not None and IS_POPUP_VAR not in request.GET
                and self.has_view_permission(request)):
            actions.setdefault(
                "export_csv", (export_csv, "export_csv", export_csv.short_description)
            )
        return actions

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects with "doesn't exist" by default; another shop's object must look
        # exactly like a missing one, and a missing object is a 404.
        raise Http404(_("No %(name)s matches the given query.") % {"name": opts.verbose_name})


class ShopScopedAdmin(ShopScoped, admin.ModelAdmin):
    pass


class ReadOnlyScopedAdmin(ShopScopedAdmin):
    """Records written only by services (history, ledger, outbox, discount uses): listed,
    searched and exported, never added, changed or deleted in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShopScopedInline(ShopScoped, admin.TabularInline):
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Autocomplete fields look their selected rows up once for all forms, not per row.
        return type(formset.__name__, (SelectedOnce, formset), {})
