"""Template tags for grammatical admin titles, add buttons and counts (`shops.admin_grammar`)."""

from django import template

from shops import admin_grammar

register = template.Library()


@register.simple_tag
def model_title(title, opts):
    return admin_grammar.title(title, opts)


@register.simple_tag
def model_add(opts):
    return admin_grammar.add_phrase(opts)


@register.simple_tag
def model_count(opts, n):
    phrase = admin_grammar.count_phrase(opts.label_lower, n)
    if phrase is None:
        return f"{n} {opts.verbose_name if n == 1 else opts.verbose_name_plural}"
    return phrase
