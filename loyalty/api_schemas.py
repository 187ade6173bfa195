"""Bodies of the storefront API's loyalty reads."""

from datetime import date
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class CategoryOut(Schema):
    name: str
    description: str
    rank: int
    program: str
    discount_percent: Decimal | None


class ConditionProgressOut(Schema):
    condition: str = Field(description="What is measured, e.g. window_spend.")
    days: int | None = Field(description="The window in days, when the condition has one.")
    met: bool
    measured: str | None
    wanted: str
    missing: str | None = Field(description="How far the figure is from the condition "
                                            "(0 when met), for numeric conditions.")


class RuleProgressOut(Schema):
    holds: bool
    conditions: list[ConditionProgressOut]


class NextCategoryOut(CategoryOut):
    rules: list[RuleProgressOut] = Field(
        description="Any one rule whose conditions all hold moves the customer up at the "
                    "next recalculation."
    )


class NeedOut(Schema):
    amount: Decimal = Field(description="Amount to spend, in the shop's currency (0: none).")
    orders: int = Field(description="Number of counted orders to place (0: none).")


class KeepingOut(Schema):
    keeps_until: date | None = Field(
        description="The last day the customer still qualifies for their category if they "
                    "buy nothing more (window rules); null when the category holds without "
                    "time limit, is not decided by the rules, or is not shown to customers."
    )
    to_keep: NeedOut | None = Field(
        description="What is still missing on the day after keeps_until: spent or ordered "
                    "by then, it keeps the category. Null with keeps_until."
    )
    to_next: NeedOut | None = Field(
        description="What is missing today to reach next_category by its cheapest rule "
                    "(smallest amount, then fewest orders); null when there is no next "
                    "category or buying alone cannot reach it."
    )


class LoyaltyOut(Schema):
    customer: str
    language: str = Field(description="The language of the texts.")
    category: CategoryOut | None = Field(
        description="The customer's category; null when none or when it is not shown to "
                    "customers."
    )
    points_balance: int
    segments: list[str]
    next_category: NextCategoryOut | None = Field(
        description="The nearest higher category the customer can reach by their figures, "
                    "with their progress; null when there is none or the customer is not "
                    "moved automatically."
    )
    keeping: KeepingOut = Field(
        description="Until when the category holds without buying, and what keeps it or "
                    "moves the customer up."
    )
