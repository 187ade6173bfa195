"""Reads for loyalty: a shop's categories and rules as plain specs, explanations."""

from __future__ import annotations

from datetime import date

from shops.models import Customer, Shop

from . import figures as figures_db
from .conditions import CategorySpec, ConditionSpec, RuleSpec, check, needs_of
from .decide import Ladder
from .models import Category


def condition_spec(c) -> ConditionSpec:
    return ConditionSpec(
        kind=c.kind, operator=c.operator, amount=c.amount, count=c.count, days=c.days,
        client_type=c.client_type, text=c.text, product_id=c.product_id,
        collection_id=c.collection_id, id=c.pk,
    )


def category_spec(category: Category, rules=None) -> CategorySpec:
    rules = category.rules.all() if rules is None else rules
    return CategorySpec(
        id=category.pk, name=category.name, rank=category.rank, is_default=category.is_default,
        auto_enter=category.auto_enter, auto_leave=category.auto_leave,
        rules=tuple(
            RuleSpec(
                id=r.pk, name=r.name,
                conditions=tuple(condition_spec(c) for c in r.conditions.all()),
            )
            for r in rules
        ),
    )


def ladder(shop: Shop) -> Ladder:
    """The shop's categories with their rules: three queries whatever their number."""
    categories = Category.objects.filter(shop=shop).prefetch_related("rules__conditions")
    return Ladder([category_spec(c) for c in categories])


def customer_explain(customer: Customer, as_of: date | None = None) -> list[dict]:
    """Each category's rules against the customer's figures: met or not, and by how much."""
    shop = customer.shop
    as_of = as_of or shop.today()
    steps = ladder(shop)
    (figs,) = figures_db.load(shop, needs_of(steps.categories), as_of, customer_ids=[customer.pk])
    result = []
    for category in steps.categories:
        rules = []
        for rule in category.rules:
            checks = [check(c, figs, as_of) for c in rule.conditions]
            rules.append({
                "rule": rule, "checks": checks,
                "holds": bool(checks) and all(ch.met for ch in checks),
            })
        result.append({
            "category": category, "rules": rules, "current": category.id == customer.category_id,
            "holds": any(r["holds"] for r in rules),
        })
    return result
