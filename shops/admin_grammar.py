"""Admin titles, buttons and counts that are grammatical in Polish, Ukrainian and Russian.

Django's admin builds "Select %s to change", "Add %s" and "5003 customers" by pasting the
model's name (nominative) into a sentence: Polish then reads "Wybierz klient do zmiany",
"Dodaj kategoria", "5003 klienci". Here each model has its name in the accusative (the case
those sentences need) and its count with plural forms, as literal strings so that they are
extracted and translated; models not listed keep Django's wording.

The table names models by label only, so `shops` imports nothing from the other apps.
"""

from django.utils.formats import number_format
from django.utils.translation import gettext, npgettext, pgettext, pgettext_lazy

#: label -> the model's name in the accusative.
ACCUSATIVE = {
    "auth.user": pgettext_lazy("accusative", "user"),
    "auth.group": pgettext_lazy("accusative", "group"),
    "shops.shop": pgettext_lazy("accusative", "shop"),
    "shops.customer": pgettext_lazy("accusative", "customer"),
    "shops.product": pgettext_lazy("accusative", "product"),
    "shops.collection": pgettext_lazy("accusative", "collection"),
    "shops.order": pgettext_lazy("accusative", "order"),
    "shops.apitoken": pgettext_lazy("accusative", "API token"),
    "loyalty.category": pgettext_lazy("accusative", "category"),
    "loyalty.rule": pgettext_lazy("accusative", "rule"),
    "loyalty.categorychange": pgettext_lazy("accusative", "category change"),
    "loyalty.recalculationrun": pgettext_lazy("accusative", "recalculation run"),
    "loyalty.bonusprogram": pgettext_lazy("accusative", "bonus program"),
    "loyalty.discountprogram": pgettext_lazy("accusative", "discount program"),
    "loyalty.pointsentry": pgettext_lazy("accusative", "points entry"),
    "loyalty.pointspolicy": pgettext_lazy("accusative", "points policy"),
    "loyalty.segment": pgettext_lazy("accusative", "segment"),
    "loyalty.segmentrule": pgettext_lazy("accusative", "segment rule"),
    "loyalty.segmentmember": pgettext_lazy("accusative", "segment member"),
    "pricing.thresholddiscount": pgettext_lazy("accusative", "threshold discount"),
    "pricing.cumulativediscount": pgettext_lazy("accusative", "cumulative discount"),
    "pricing.quantitydiscount": pgettext_lazy("accusative", "quantity discount"),
    "pricing.quantityprofile": pgettext_lazy("accusative", "quantity profile"),
    "pricing.specialoffer": pgettext_lazy("accusative", "special offer"),
    "pricing.promocode": pgettext_lazy("accusative", "promo code"),
    "pricing.promocodeuse": pgettext_lazy("accusative", "promo code use"),
    "pricing.categorydiscount": pgettext_lazy("accusative", "category discount"),
    "pricing.loyaltycarddiscount": pgettext_lazy("accusative", "loyalty card discount"),
    "pricing.loyaltycard": pgettext_lazy("accusative", "loyalty card"),
    "pricing.segmentadvantage": pgettext_lazy("accusative", "segment advantage"),
    "pricing.orderdiscount": pgettext_lazy("accusative", "applied discount"),
    "notifications.messagetemplate": pgettext_lazy("accusative", "message template"),
    "notifications.message": pgettext_lazy("accusative", "message"),
    "notifications.channelsettings": pgettext_lazy("accusative", "channel settings"),
    "notifications.bulksend": pgettext_lazy("accusative", "bulk send"),
}


def count_phrase(label: str, n: int) -> str | None:
    """"5003 customers" with the language's plural form, or None for an unlisted model."""
    forms = COUNT_FORMS.get(label)
    return forms(n) % {"count": number_format(n, force_grouping=True)} if forms else None


#: label -> its count with plural forms (literal calls, so makemessages extracts them).
COUNT_FORMS = {
    "auth.user": lambda n: npgettext("count", "%(count)s user", "%(count)s users", n),
    "auth.group": lambda n: npgettext("count", "%(count)s group", "%(count)s groups", n),
    "shops.shop": lambda n: npgettext("count", "%(count)s shop", "%(count)s shops", n),
    "shops.customer": lambda n: npgettext(
        "count", "%(count)s customer", "%(count)s customers", n),
    "shops.product": lambda n: npgettext("count", "%(count)s product", "%(count)s products", n),
    "shops.collection": lambda n: npgettext(
        "count", "%(count)s collection", "%(count)s collections", n),
    "shops.order": lambda n: npgettext("count", "%(count)s order", "%(count)s orders", n),
    "shops.apitoken": lambda n: npgettext(
        "count", "%(count)s API token", "%(count)s API tokens", n),
    "loyalty.category": lambda n: npgettext(
        "count", "%(count)s category", "%(count)s categories", n),
    "loyalty.rule": lambda n: npgettext("count", "%(count)s rule", "%(count)s rules", n),
    "loyalty.categorychange": lambda n: npgettext(
        "count", "%(count)s category change", "%(count)s category changes", n),
    "loyalty.recalculationrun": lambda n: npgettext(
        "count", "%(count)s recalculation run", "%(count)s recalculation runs", n),
    "loyalty.bonusprogram": lambda n: npgettext(
        "count", "%(count)s bonus program", "%(count)s bonus programs", n),
    "loyalty.discountprogram": lambda n: npgettext(
        "count", "%(count)s discount program", "%(count)s discount programs", n),
    "loyalty.pointsentry": lambda n: npgettext(
        "count", "%(count)s points entry", "%(count)s points entries", n),
    "loyalty.pointspolicy": lambda n: npgettext(
        "count", "%(count)s points policy", "%(count)s points policies", n),
    "loyalty.segment": lambda n: npgettext("count", "%(count)s segment", "%(count)s segments", n),
    "loyalty.segmentrule": lambda n: npgettext(
        "count", "%(count)s segment rule", "%(count)s segment rules", n),
    "loyalty.segmentmember": lambda n: npgettext(
        "count", "%(count)s segment member", "%(count)s segment members", n),
    "pricing.thresholddiscount": lambda n: npgettext(
        "count", "%(count)s threshold discount", "%(count)s threshold discounts", n),
    "pricing.cumulativediscount": lambda n: npgettext(
        "count", "%(count)s cumulative discount", "%(count)s cumulative discounts", n),
    "pricing.quantitydiscount": lambda n: npgettext(
        "count", "%(count)s quantity discount", "%(count)s quantity discounts", n),
    "pricing.quantityprofile": lambda n: npgettext(
        "count", "%(count)s quantity profile", "%(count)s quantity profiles", n),
    "pricing.specialoffer": lambda n: npgettext(
        "count", "%(count)s special offer", "%(count)s special offers", n),
    "pricing.promocode": lambda n: npgettext(
        "count", "%(count)s promo code", "%(count)s promo codes", n),
    "pricing.promocodeuse": lambda n: npgettext(
        "count", "%(count)s promo code use", "%(count)s promo code uses", n),
    "pricing.categorydiscount": lambda n: npgettext(
        "count", "%(count)s category discount", "%(count)s category discounts", n),
    "pricing.loyaltycarddiscount": lambda n: npgettext(
        "count", "%(count)s loyalty card discount", "%(count)s loyalty card discounts", n),
    "pricing.loyaltycard": lambda n: npgettext(
        "count", "%(count)s loyalty card", "%(count)s loyalty cards", n),
    "pricing.segmentadvantage": lambda n: npgettext(
        "count", "%(count)s segment advantage", "%(count)s segment advantages", n),
    "pricing.orderdiscount": lambda n: npgettext(
        "count", "%(count)s applied discount", "%(count)s applied discounts", n),
    "notifications.messagetemplate": lambda n: npgettext(
        "count", "%(count)s message template", "%(count)s message templates", n),
    "notifications.message": lambda n: npgettext(
        "count", "%(count)s message", "%(count)s messages", n),
    "notifications.channelsettings": lambda n: npgettext(
        "count", "%(count)s channel settings", "%(count)s channel settings", n),
    "notifications.bulksend": lambda n: npgettext(
        "count", "%(count)s bulk send", "%(count)s bulk sends", n),
}

#: Django's own title msgids -> our sentence with the accusative name.
TITLES = {
    "Select %s to change": lambda: pgettext("admin title", "Select %(name)s to change"),
    "Select %s to view": lambda: pgettext("admin title", "Select %(name)s to view"),
    "Add %s": lambda: pgettext("admin title", "Add %(name)s"),
    "Change %s": lambda: pgettext("admin title", "Change %(name)s"),
    "View %s": lambda: pgettext("admin title", "View %(name)s"),
}


def accusative(opts) -> str:
    return str(ACCUSATIVE.get(opts.label_lower, opts.verbose_name))


def title(title: str, opts) -> str:
    """Django's default title for `opts`, said grammatically; any other title unchanged."""
    if opts is None or opts.label_lower not in ACCUSATIVE:
        return title
    for msgid, sentence in TITLES.items():
        if str(title) == gettext(msgid) % opts.verbose_name:
            return sentence() % {"name": accusative(opts)}
    return title


def add_phrase(opts) -> str:
    if opts.label_lower not in ACCUSATIVE:
        return gettext("Add %(name)s") % {"name": opts.verbose_name}
    return pgettext("admin title", "Add %(name)s") % {"name": accusative(opts)}
