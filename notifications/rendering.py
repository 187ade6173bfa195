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

The engine is separate from the project's: no template directories, no ``{% load %}``
libraries beyond the built-ins, so a template cannot include files or reach settings.
Language: the customer's, else the shop's default; a text left empty in that language falls
back to the shop's language, then English (`shops.languages`, shared with the API).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.template import Context, Engine, Template, TemplateSyntaxError

from shops.languages import translated

VARIABLES = (
    "customer_name", "shop_name", "old_category", "new_category", "points_earned", "balance",
    "order_number",
)


@dataclass(frozen=True)
class Variables:
    customer_name: str = ""
    shop_name: str = ""
    old_category: str = ""
    new_category: str = ""
    points_earned: int = 0
    balance: int = 0
    order_number: str = ""


@lru_cache(maxsize=1)
def engine() -> Engine:
    return Engine(dirs=[], app_dirs=False, autoescape=False, libraries={})


@lru_cache(maxsize=512)
def compile_template(text: str) -> Template:
    """Compile once per distinct text (a batch renders thousands of messages)."""
    return engine().from_string(text)


def check_syntax(text: str) -> str | None:
    """The syntax error of a template text, or None."""
    try:
        compile_template(text)
    except TemplateSyntaxError as exc:
        return str(exc)
    return None


def render(text: str, variables: Variables) -> str:
    if not text:
        return ""
    # vars(), not dataclasses.asdict(): asdict deep-copies, a batch renders thousands.
    context = Context(dict(vars(variables)), autoescape=False)
    return compile_template(text).render(context).strip()


def category_name(category, langs: list[str]) -> str:
    """A category's name as its customer sees it (`langs` from `shops.languages`): empty
    for none or a hidden category."""
    if category is None or not category.visible_to_customer:
        return ""
    return translated(category, "name", langs) or category.name
