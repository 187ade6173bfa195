"""The date drill-down of every admin list, bounded (`shops.admin_lists`)."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from shops.admin_lists import bounded_date_hierarchy

register = template.Library()


@register.tag(name="bounded_date_hierarchy")
def bounded_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=bounded_date_hierarchy, template_name="date_hierarchy.html",
        takes_context=False,
    )


@register.simple_tag
def count_prefix(cl):
    """"about" before an estimated count, "more than" before a capped one."""
    from django.utils.translation import gettext as _

    kind = getattr(cl.paginator, "count_kind", "exact")
    if kind == "about":
        return _("about") + " "
    if kind == "more":
        return _("more than") + " "
    return ""
