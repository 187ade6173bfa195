"""Every admin page of a shop-owned model is shop-scoped, including admins and inlines that
other apps register later: a model is shop-owned when a chain of foreign keys leads from it
to Shop, and its admin (and each inline of such a model) must be ShopScoped with a
``shop_path`` that really ends at Shop."""

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path

from shops.models import Shop
from shops.scoping import ShopScoped


def path_to_shop(model, depth=4) -> str | None:
    """Some chain of forward foreign keys from ``model`` to Shop, or None."""
    if model is Shop:
        return "pk"
    if depth == 0:
        return None
    for field in model._meta.get_fields():
        if field.concrete and (field.many_to_one or field.one_to_one):
            rest = path_to_shop(field.related_model, depth - 1)
            if rest is not None:
                return field.name if rest == "pk" else f"{field.name}__{rest}"
    return None


def resolves_to_shop(model, path: str) -> bool:
    if path == "pk":
        return model is Shop
    return get_fields_from_path(model, path)[-1].related_model is Shop


def unscoped_admins() -> list[str]:
    problems = []
    for model, model_admin in admin.site._registry.items():
        pages = [(model, model_admin)] + [(i.model, i) for i in model_admin.inlines]
        for page_model, page in pages:
            if path_to_shop(page_model) is None:
                continue
            cls = page if isinstance(page, type) else type(page)  # inlines are classes
            name = cls.__name__
            if not issubclass(cls, ShopScoped):
                problems.append(f"{name} ({page_model._meta.label}) is not shop-scoped")
            elif not resolves_to_shop(page_model, page.shop_path):
                problems.append(f"{name}.shop_path {page.shop_path!r} does not lead to Shop")
    return problems


def test_every_shop_owned_admin_and_inline_is_scoped():
    assert unscoped_admins() == []


def test_the_walk_would_catch_an_unscoped_admin():
    from shops.models import ApiToken

    model_admin = admin.site._registry.pop(ApiToken)
    try:
        admin.site.register(ApiToken, admin.ModelAdmin)
        assert unscoped_admins() == ["ModelAdmin (shops.ApiToken) is not shop-scoped"]
    finally:
        admin.site.unregister(ApiToken)
        admin.site._registry[ApiToken] = model_admin
