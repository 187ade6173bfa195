"""The engine's reasons in the merchant's language.

``pricing.engine`` is pure and keeps plain English texts (``engine.REASON_MESSAGES``); the
views and services show these translatable copies instead. A test keeps the English texts of
both identical.
"""

from django.utils.translation import gettext_lazy as _

from .engine import DiscountStatus, Reason

REASON_MESSAGES = {
    Reason.DISABLED: _("This discount is disabled."),
    Reason.OTHER_CLIENT_TYPE: _("This discount is for another client type."),
    Reason.TIER_NOT_REACHED: _("No tier of this discount is reached."),
    Reason.NOT_ENOUGH_UNITS: _("Not enough units of the collection in the cart."),
    Reason.NO_CATEGORY_DISCOUNT: _("The customer's category gives no discount."),
    Reason.NO_LOYALTY_CARD: _("The customer has no loyalty card discount."),
    Reason.NOT_IN_SEGMENT: _("The customer is not in this segment."),
    Reason.SAME_TYPE_HIGHER: _("Another discount of the same type gives at least as much."),
    Reason.CARD_LARGER: _(
        "The loyalty card gives more; it never adds up with threshold, cumulative, quantity, "
        "special offer or promo code discounts."
    ),
    Reason.CARD_NOT_BETTER: _("The other discounts give at least as much as the loyalty card."),
    Reason.EXCLUSIVE_NOT_HIGHER: _(
        "Applies alone only when it beats the other discounts; it does not."
    ),
    Reason.LOST_TO_EXCLUSIVE: _("A discount that applies alone gives more on this product."),
    Reason.BELOW_MINIMUM_PRICE: _("Cut by the product's minimum price."),
    Reason.NO_EFFECT: _("Nothing left to discount."),
    Reason.CODE_UNKNOWN: _("This promo code does not exist."),
    Reason.CODE_NOT_YET_VALID: _("This promo code is not valid yet."),
    Reason.CODE_EXPIRED: _("This promo code has expired."),
    Reason.CODE_LIMIT_REACHED: _("This promo code has been used the maximum number of times."),
    Reason.CODE_CUSTOMER_LIMIT_REACHED: _(
        "The customer has used this promo code the maximum number of times."
    ),
    Reason.CODE_MINIMUM_NOT_REACHED: _(
        "The order does not reach this promo code's minimum value."
    ),
    Reason.CODE_NOT_COMBINABLE: _("The promo code used does not combine with other discounts."),
    Reason.CODE_NOT_BETTER: _("The order costs no more without this promo code."),
    Reason.CODE_MAXIMUM_DISCOUNT: _("Cut by this promo code's maximum discount on the order."),
    Reason.NOT_WITH_PROMO_CODE: _("This advantage does not apply when a promo code is used."),
}

STATUS_LABELS = {
    DiscountStatus.APPLIED: _("applied"),
    DiscountStatus.REJECTED: _("rejected"),
}


def reason_message(reason: Reason | str | None) -> str:
    """The translated message of a reason ("" for none)."""
    if not reason:
        return ""
    return str(REASON_MESSAGES[Reason(reason)])
