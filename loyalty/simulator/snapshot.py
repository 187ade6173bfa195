"""A shop's category ladder as plain JSON: what a simulation replays, kept with its run so
that later edits of the categories do not change a finished (or queued) simulation.

Besides the rules (loyalty.decide's CategorySpec) each category keeps what the replay
prices and announces with: visibility to customers, its program, discount percent, the
"SMS after an order" switch, and the tiers of its bonus and discount programs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shops.models import Shop

from ..conditions import CategorySpec, ConditionSpec, RuleSpec
from ..decide import Ladder
from ..models import BonusTier, Category, DiscountTier, Program
from ..programs import INCLUSIVE, Tier
from ..selectors import category_spec

_CONDITION_FIELDS = ("kind", "operator", "amount", "count", "days", "client_type", "text",
                     "product_id", "collection_id", "id")


@dataclass(frozen=True)
class CategoryTerms:
    """What a category gives and announces, beside its rules."""

    id: int
    name: str
    rank: int
    visible: bool
    program: str
    discount_percent: Decimal | None
    sms_after_order: bool
    bonus_boundary: str = INCLUSIVE
    bonus_tiers: tuple[Tier, ...] = ()
    discount_boundary: str = INCLUSIVE
    discount_tiers: tuple[Tier, ...] = ()


def _dec(value) -> str | None:
    return None if value is None else str(value)


def take(shop: Shop) -> dict:
    """The shop's ladder as it is in the database now (inside the caller's transaction:
    the admin takes it from edited, not yet rolled back, rows). A fixed number of queries."""
    categories = list(Category.objects.filter(shop=shop).prefetch_related("rules__conditions"))
    bonus: dict[int, list] = {}
    for category_id, boundary, start, percent in BonusTier.objects.filter(
        program__category__shop=shop
    ).values_list("program__category_id", "program__boundary", "min_lifetime_spend", "percent"):
        bonus.setdefault(category_id, [boundary, []])[1].append([_dec(start), _dec(percent)])
    discount: dict[int, list] = {}
    for category_id, boundary, start, percent in DiscountTier.objects.filter(
        program__category__shop=shop
    ).values_list("program__category_id", "program__boundary", "min_lifetime_spend", "percent"):
        discount.setdefault(category_id, [boundary, []])[1].append([_dec(start), _dec(percent)])
    out = []
    for category in categories:
        spec = category_spec(category)
        out.append({
            "id": spec.id, "name": spec.name, "rank": spec.rank, "is_default": spec.is_default,
            "auto_enter": spec.auto_enter, "auto_leave": spec.auto_leave,
            "visible": category.visible_to_customer, "program": category.program,
            "discount_percent": _dec(category.discount_percent),
            "sms_after_order": category.sms_after_order,
            "bonus": bonus.get(category.pk, [INCLUSIVE, []]),
            "discount_tiers": discount.get(category.pk, [INCLUSIVE, []]),
            "rules": [
                {"id": rule.id, "name": rule.name, "conditions": [
                    {name: (_dec(getattr(c, name)) if name == "amount" else getattr(c, name))
                     for name in _CONDITION_FIELDS} for c in rule.conditions]}
                for rule in spec.rules
            ],
        })
    return {"categories": sorted(out, key=lambda c: -c["rank"])}


def ladder(snapshot: dict) -> Ladder:
    """The decision ladder of a snapshot."""
    return Ladder([
        CategorySpec(
            id=c["id"], name=c["name"], rank=c["rank"], is_default=c["is_default"],
            auto_enter=c["auto_enter"], auto_leave=c["auto_leave"],
            rules=tuple(RuleSpec(
                id=r["id"], name=r["name"], conditions=tuple(ConditionSpec(**{
                    **cond, "amount": None if cond["amount"] is None else Decimal(cond["amount"]),
                }) for cond in r["conditions"]),
            ) for r in c["rules"]),
        )
        for c in snapshot["categories"]
    ])


def _tiers(rows) -> tuple[Tier, ...]:
    return tuple(sorted((Tier(Decimal(start), Decimal(pct)) for start, pct in rows),
                        key=lambda t: t.min_lifetime_spend))


def terms(snapshot: dict) -> dict[int, CategoryTerms]:
    """Each category's terms, by id."""
    result = {}
    for c in snapshot["categories"]:
        result[c["id"]] = CategoryTerms(
            id=c["id"], name=c["name"], rank=c["rank"], visible=c["visible"],
            program=c["program"],
            discount_percent=None if c["discount_percent"] is None
            else Decimal(c["discount_percent"]),
            sms_after_order=c["sms_after_order"],
            bonus_boundary=c["bonus"][0], bonus_tiers=_tiers(c["bonus"][1]),
            discount_boundary=c["discount_tiers"][0],
            discount_tiers=_tiers(c["discount_tiers"][1]),
        )
    return result


def discounted(t: CategoryTerms) -> bool:
    return t.program == Program.DISCOUNT


def earns_points(t: CategoryTerms) -> bool:
    return t.program == Program.BONUS and bool(t.bonus_tiers)
