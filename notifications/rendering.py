"""Rendering message templates with Django's template engine.

Templates are plain text (no HTML escaping) and see only these variables:

==================  ===========================================================
``customer_name``   the customer's name
``shop_name``       the shop's name
``old_category``    the category before a change, in the customer's language
``new_category``    the category after a change, or the current category (welcome,
                    order completed), in the customer's language; empty when hidden
``points_earned``   points earned by the order (order completed; otherwise 0)
``balance``         the customer's points balance
``order_number``    the order's number (order completed; otherwise empty)
==================  ===========================================================

Texts are rendered in a sandbox for untrusted input (`notifications.sandbox`): only these
variables, the tags ``if``/``elif``/``else``, ``firstof`` and ``comment``, and the filters
``default upper lower title capfirst pluralize yesno truncatechars truncatewords``. No
include, load, loop or attribute, at most 10,000 characters in and out. A text that breaks
the rules raises `TemplateRenderError`; `check_text` tells staff why on save.
Language: the customer's, else the shop's default (`language_for`); a text left empty in
that language falls back to the shop's language, then English (`translated`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .sandbox import TemplateRenderError, render_message

__all__ = ["TemplateRenderError", "render", "render_message"]

VARIABLES = (
    "customer_name", "shop_name", "old_category", "new_category", "points_earned", "balance",
    "order_number",
)
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Variables:
    customer_name: str = ""
    shop_name: str = ""
    old_category: str = ""
    new_category: str = ""
    points_earned: int = 0
    balance: int = 0
    order_number: str = ""


#: A context with every variable set, for validating a text on save.
SAMPLE = Variables(
    customer_name="Anna Kowalska", shop_name="Shop", old_category="Silver",
    new_category="Gold", points_earned=30, balance=250, order_number="12345",
)


#: The longest values the variables can take (the model fields' lengths): a text that
#: fits the output limit with these fits it for every customer.
LONGEST = Variables(
    customer_name="W" * 200, shop_name="W" * 200, old_category="W" * 100,
    new_category="W" * 100, points_earned=-(10**18), balance=-(10**18), order_number="W" * 64,
)


def check_text(text: str) -> str | None:
    """Why a template text would not render (syntax, a tag, filter or variable outside the
    sandbox, too long), or None. Checked by rendering it against `SAMPLE` and `LONGEST`."""
    try:
        render(text, SAMPLE)
        render(text, LONGEST)
    except TemplateRenderError as exc:
        return str(exc)
    return None


def render(text: str, variables: Variables) -> str:
    """`text` rendered in the sandbox (`notifications.sandbox`); raises
    `TemplateRenderError`."""
    # vars(), not dataclasses.asdict(): asdict deep-copies, a batch renders thousands.
    return render_message(text, vars(variables))


def language_for(customer_language: str, shop_language: str) -> str:
    return customer_language or shop_language or FALLBACK_LANGUAGE


def translated(obj, field: str, language: str, shop_language: str) -> str:
    """`field` of a modeltranslation model in `language`, else the shop's, else English."""
    for lang in (language, shop_language, FALLBACK_LANGUAGE):
        value = getattr(obj, f"{field}_{lang}", None)
        if value:
            return value
    return ""


def category_name(category, language: str, shop_language: str) -> str:
    """A category's name as its customer sees it: empty for none or a hidden category."""
    if category is None or not category.visible_to_customer:
        return ""
    return translated(category, "name", language, shop_language) or category.name
