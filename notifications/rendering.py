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
``keeps_until``     category at risk: the last day the customer keeps ``new_category``
                    if they buy nothing more, as a date in their language
``to_keep``         category at risk: what is missing to keep it after that day
                    ("200.00 PLN", "1 order", "200.00 PLN in 2 orders")
``next_category``   close to the next category: that category's name
``to_next``         close to the next category: what is missing to reach it (as
                    ``to_keep``)
==================  ===========================================================
The four notice variables are empty for the other events.

Texts are rendered in a sandbox for untrusted input (`notifications.sandbox`): only these
variables, the tags ``if``/``elif``/``else``, ``firstof`` and ``comment``, and the filters
``default upper lower title capfirst pluralize yesno truncatechars truncatewords``. No
include, load, loop or attribute, at most 10,000 characters in and out. A text that breaks
the rules raises `TemplateRenderError`; `check_text` tells staff why on save.
Language: the customer's, else the shop's default; a text left empty in that language falls
back to the shop's language, then English (`shops.languages`, shared with the API).
"""

from __future__ import annotations

from dataclasses import dataclass

from .sandbox import TemplateRenderError, render_message

__all__ = ["TemplateRenderError", "render", "render_message"]

from shops.languages import translated

VARIABLES = (
    "customer_name", "shop_name", "old_category", "new_category", "points_earned", "balance",
    "order_number", "keeps_until", "to_keep", "next_category", "to_next",
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
    keeps_until: str = ""
    to_keep: str = ""
    next_category: str = ""
    to_next: str = ""


#: A context with every variable set, for validating a text on save.
SAMPLE = Variables(
    customer_name="Anna Kowalska", shop_name="Shop", old_category="Silver",
    new_category="Gold", points_earned=30, balance=250, order_number="12345",
    keeps_until="31 March 2027", to_keep="200.00 PLN", next_category="Platinum",
    to_next="350.00 PLN in 2 orders",
)


#: The longest values the variables can take (the model fields' lengths): a text that
#: fits the output limit with these fits it for every customer.
LONGEST = Variables(
    customer_name="W" * 200, shop_name="W" * 200, old_category="W" * 100,
    new_category="W" * 100, points_earned=-(10**18), balance=-(10**18), order_number="W" * 64,
    keeps_until="W" * 40, to_keep="W" * 80, next_category="W" * 100, to_next="W" * 80,
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


def category_name(category, langs: list[str]) -> str:
    """A category's name as its customer sees it (`langs` from `shops.languages`): empty
    for none or a hidden category."""
    if category is None or not category.visible_to_customer:
        return ""
    return translated(category, "name", langs) or category.name
