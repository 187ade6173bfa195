"""A sandboxed template engine for message texts written by staff (untrusted input).

Contract:

- **Syntax** is Django's, with only these tags: ``if`` / ``elif`` / ``else`` / ``endif``,
  ``firstof`` and ``comment`` (and ``{# … #}`` comments). No ``include``, ``extends``,
  ``load``, ``debug``, ``ssi``, ``url``, ``now``, ``with``, ``for`` or any other tag: nothing
  reaches files, the database or settings, and there is no loop (the context holds no
  lists), so rendering time grows only with the length of the text.
- **Filters**: only `FILTERS` (none pads or repeats text).
- **Variables**: only the names the caller allows, each a plain string or integer, used
  by name alone: ``{{ customer_name.upper }}`` is refused (no attribute walks). An
  unknown name (``{{ customer_nme }}``) is refused with the list of valid ones, also in a
  branch that would not be rendered.
- **Size**: a text holds at most `MAX_TEMPLATE_LENGTH` characters and renders to at most
  `MAX_OUTPUT_LENGTH`; it uses at most `MAX_EXPRESSIONS` variables, filters and conditions
  and nests blocks at most `MAX_DEPTH` deep, so one render does a bounded amount of work.

`check_template` validates a text (on save); `render_message` renders it, raising
`TemplateRenderError` (a short, translated reason) for anything outside the contract, so a
caller can fail one message instead of the change behind it. Pure: no database, no
settings beyond Django's template machinery.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache

from django.template import Context, Engine, Library, Template, TemplateSyntaxError, defaultfilters
from django.template import defaulttags as tags
from django.template.base import FilterExpression, Lexer, Node, TextNode, TokenType, Variable
from django.template.defaulttags import CommentNode, FirstOfNode, IfNode, TemplateLiteral
from django.utils.translation import gettext as _

MAX_TEMPLATE_LENGTH = 10_000
MAX_OUTPUT_LENGTH = 10_000
#: Variables, filters and conditions in one text, and how deep blocks nest: what a message
#: needs many times over, and a bound on the work of one render (about 4 ms at most).
MAX_EXPRESSIONS = 100
MAX_DEPTH = 10

#: Tag words a text may use (block tags and their inner words).
TAG_WORDS = ("if", "elif", "else", "endif", "firstof", "comment", "endcomment")
#: Filters a text may use: none reaches outside the value or multiplies its size.
FILTERS = ("default", "upper", "lower", "title", "capfirst", "pluralize", "yesno",
           "truncatechars", "truncatewords")

#: Names every Django context holds.
CONSTANTS = ("True", "False", "None")

register = Library()
register.tag("if", tags.do_if)
register.tag("firstof", tags.firstof)
register.tag("comment", tags.comment)
for _name in FILTERS:
    register.filter(_name, getattr(defaultfilters, _name))


class TemplateRenderError(Exception):
    """A message text outside the sandbox's contract; `str()` is a short reason."""


class SandboxEngine(Engine):
    # Not Django's defaults (defaulttags, defaultfilters, loader_tags): only this module's.
    default_builtins = []


@lru_cache(maxsize=1)
def engine() -> Engine:
    return SandboxEngine(
        dirs=[], app_dirs=False, autoescape=False, libraries={}, loaders=[],
        builtins=["notifications.sandbox"], string_if_invalid="",
    )


def _names(items: Iterable[str]) -> str:
    return ", ".join(items)


def _check_tags(text: str) -> None:
    depth = 0
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.BLOCK:
            word = (token.split_contents() or [""])[0]
            if word not in TAG_WORDS:
                raise TemplateRenderError(_(
                    "The tag “%(tag)s” is not allowed. Allowed tags: %(allowed)s."
                ) % {"tag": word, "allowed": _names(("if", "elif", "else", "firstof",
                                                      "comment"))})
            depth += word in ("if", "comment")
            depth -= word in ("endif", "endcomment")
            if depth > MAX_DEPTH:
                raise TemplateRenderError(_(
                    "Blocks are nested too deep: at most %(max)d levels."
                ) % {"max": MAX_DEPTH})


class _Budget:
    """Counts the expressions of one text against `MAX_EXPRESSIONS`."""

    def __init__(self):
        self.used = 0

    def spend(self, count: int = 1) -> None:
        self.used += count
        if self.used > MAX_EXPRESSIONS:
            raise TemplateRenderError(_(
                "The template has too many variables, filters and conditions: at most "
                "%(max)d."
            ) % {"max": MAX_EXPRESSIONS})


def _check_variable(var: Variable, allowed: Collection[str]) -> None:
    if var.lookups is None:  # a literal: "text", 3, _("text")
        return
    name = var.var
    if var.lookups[0] in CONSTANTS and len(var.lookups) == 1:
        return
    if var.lookups[0] not in allowed:
        raise TemplateRenderError(_(
            "Unknown variable “%(name)s”. Valid variables: %(allowed)s."
        ) % {"name": name, "allowed": _names(allowed)})
    if len(var.lookups) > 1:
        raise TemplateRenderError(_(
            "“%(name)s” cannot be used: variables have no attributes. "
            "Valid variables: %(allowed)s."
        ) % {"name": name, "allowed": _names(allowed)})


def _check_expression(expression: FilterExpression, allowed: Collection[str],
                      budget: _Budget) -> None:
    budget.spend(1 + len(expression.filters))
    if isinstance(expression.var, Variable):
        _check_variable(expression.var, allowed)
    for _func, args in expression.filters:
        for lookup, arg in args:
            if lookup:
                _check_variable(arg, allowed)


def _check_condition(condition, allowed: Collection[str], budget: _Budget) -> None:
    if condition is None:  # `{% else %}`
        return
    if isinstance(condition, TemplateLiteral):
        _check_expression(condition.value, allowed, budget)
        return
    budget.spend()
    for operand in (getattr(condition, "first", None), getattr(condition, "second", None)):
        if operand is not None:
            _check_condition(operand, allowed, budget)


def _check_nodes(nodes: Iterable[Node], allowed: Collection[str], budget: _Budget) -> None:
    for node in nodes:
        if isinstance(node, (TextNode, CommentNode)):
            continue
        if isinstance(node, IfNode):
            for condition, nodelist in node.conditions_nodelists:
                _check_condition(condition, allowed, budget)
                _check_nodes(nodelist, allowed, budget)
        elif isinstance(node, FirstOfNode):
            for expression in node.vars:
                _check_expression(expression, allowed, budget)
        elif hasattr(node, "filter_expression"):  # {{ variable }}
            _check_expression(node.filter_expression, allowed, budget)
        else:  # the library above registers nothing else; refuse rather than trust
            raise TemplateRenderError(_(
                "The tag “%(tag)s” is not allowed. Allowed tags: %(allowed)s."
            ) % {"tag": type(node).__name__, "allowed": _names(("if", "elif", "else",
                                                                  "firstof", "comment"))})


_INVALID_FILTER = re.compile(r"Invalid filter: '([^']*)'")


@lru_cache(maxsize=512)
def compile_text(text: str, allowed: tuple[str, ...]) -> Template:
    """The compiled text, checked against the contract (once per distinct text)."""
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateRenderError(_(
            "The template is too long: at most %(max)d characters."
        ) % {"max": MAX_TEMPLATE_LENGTH})
    _check_tags(text)
    try:
        template = engine().from_string(text)
    except TemplateSyntaxError as exc:
        found = _INVALID_FILTER.search(str(exc))
        if found:
            raise TemplateRenderError(_(
                "The filter “%(filter)s” is not allowed. Allowed filters: %(allowed)s."
            ) % {"filter": found.group(1), "allowed": _names(FILTERS)}) from None
        raise TemplateRenderError(str(exc)) from None
    _check_nodes(template.nodelist, allowed, _Budget())
    return template


def render_message(text: str, context: Mapping[str, str | int]) -> str:
    """`text` rendered with `context` (plain strings and integers only), stripped.

    The allowed variables are the context's keys. Raises `TemplateRenderError`."""
    if not text:
        return ""
    for key, value in context.items():
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise TypeError(f"{key}: a message context holds strings and integers only")
    template = compile_text(text, tuple(context))
    try:
        output = template.render(Context(dict(context), autoescape=False))
    except TemplateRenderError:
        raise
    except Exception as exc:  # noqa: BLE001 - a filter failing on odd input fails the message
        raise TemplateRenderError(f"{type(exc).__name__}: {exc}"[:200]) from None
    if len(output) > MAX_OUTPUT_LENGTH:
        raise TemplateRenderError(_(
            "The rendered text is too long: at most %(max)d characters."
        ) % {"max": MAX_OUTPUT_LENGTH})
    return output.strip()
