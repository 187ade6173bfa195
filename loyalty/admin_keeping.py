"""The customer page's "keeping" block: until when the customer keeps their category if
they buy nothing more, what keeps it after that, and what reaches the next category."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import keeping_db
from .keeping_text import day_text, need_text
from .models import Category


class CustomerKeepingMixin:
    @admin.display(description=gettext_lazy("Keeping the category"))
    def keeping_summary(self, customer):
        """A fixed number of queries whatever the customer's history: the ladder, the
        visible categories, the figures, the orders in the window, the category names."""
        if customer.pk is None:
            return "—"
        k = keeping_db.for_customer(customer)
        currency = customer.shop.currency
        names = dict(Category.objects.filter(shop_id=customer.shop_id)
                     .values_list("pk", "name"))
        lines = []
        if k.keeps_until is not None:
            lines.append(_("Qualifies for %(category)s until %(day)s if they buy nothing "
                           "more.") % {"category": names.get(k.category_id, "—"),
                                       "day": day_text(k.keeps_until)})
            lines.append(_("To keep it after that: %(need)s.") % {
                "need": need_text(k.to_keep, currency)})
        else:
            lines.append(_("No end date: the category holds without time limit, or is not "
                           "decided by the rules."))
        if k.next_category_id is not None:
            if k.to_next is not None:
                lines.append(_("To reach %(category)s: %(need)s.") % {
                    "category": names.get(k.next_category_id, "—"),
                    "need": need_text(k.to_next, currency) or _("nothing more")})
            else:
                lines.append(_("%(category)s cannot be reached by buying alone.") % {
                    "category": names.get(k.next_category_id, "—")})
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines)) or format_html("")
