"""Reads for loyalty: a shop's categories and rules as plain specs, explanations."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from shops.models import Customer, Shop

from . import explain_text
from . import figures as figures_db
from .conditions import CategorySpec, ConditionSpec, RuleSpec, check, needs_of
from .decide import GRACE, WAITING, Ladder, decide
from .models import Category
from .validation import reevaluation_dates


def condition_spec(c) -> ConditionSpec:
    return ConditionSpec(
        kind=c.kind, operator=c.operator, amount=c.amount, count=c.count, days=c.days,
        client_type=c.client_type, text=c.text, product_id=c.product_id,
        collection_id=c.collection_id, id=c.pk, period=c.period,
    )


def _dates(text: str) -> tuple[tuple[int, int], ...]:
    try:
        return reevaluation_dates(text)
    except ValueError:  # saved past the form (a shell, an import): ignore what is not a date
        return ()


def category_spec(category: Category, rules=None) -> CategorySpec:
    rules = category.rules.all() if rules is None else rules
    return CategorySpec(
        id=category.pk, name=category.name, rank=category.rank, is_default=category.is_default,
        auto_enter=category.auto_enter, auto_leave=category.auto_leave,
        grace_days=category.grace_days, reevaluate_on=_dates(category.reevaluate_on),
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


def customer_lifecycle_text(customer: Customer, as_of: date | None = None) -> str | None:
    """The customer's grace period, temporary hold or wait for a re-evaluation date, said in
    one sentence (None when there is none): what the next recalculation would find. Cached
    on the customer object (the customer page says it twice)."""
    cached = getattr(customer, "_lifecycle_text", False)
    if cached is not False:
        return cached
    shop = customer.shop
    as_of = as_of or shop.today()
    steps = ladder(shop)
    (figs,) = figures_db.load(shop, needs_of(steps.categories), as_of, customer_ids=[customer.pk])
    decision = decide(figs, steps, as_of)
    current = steps.by_id.get(figs.category_id)
    name = current.name if current is not None else "—"
    text = explain_text.lifecycle_sentence(
        category=name, locked=figs.locked and not decision.returned,
        held_until=figs.manual_until,
        grace_until=decision.grace_until if decision.reason == GRACE else None,
        next_date=decision.next_date if decision.reason == WAITING else None,
    )
    customer._lifecycle_text = text
    return text


# The admin's home page: per shop, in a fixed number of set-based queries.

#: The django-celery-beat entry of the nightly pass (migration 0015; its name is the key).
NIGHTLY_TASK_NAME = "Nightly pass (all shops)"


def categories_with_counts(shop_ids) -> dict[int, list[dict]]:
    """Each shop's categories (most senior first) with their number of customers; two
    queries: the categories, and one GROUP BY over the customers."""
    from django.db.models import Count

    counts = {
        row["category_id"]: row["n"]
        for row in Customer.objects.filter(shop_id__in=shop_ids, category__isnull=False)
        .values("category_id").annotate(n=Count("id")).order_by()
    }
    result: dict[int, list[dict]] = {}
    for category in Category.objects.filter(shop_id__in=shop_ids).order_by("shop_id", "-rank"):
        result.setdefault(category.shop_id, []).append(
            {"category": category, "customers": counts.get(category.pk, 0)}
        )
    return result


def moves_since(shop_ids, since) -> dict[int, dict[str, int]]:
    """Moves up and down per shop since ``since``: by the rules, by staff, back to the
    default; a first placement (from no category) is no move (loyalty.models.MOVES)."""
    from django.db.models import Count, Q

    from .models import MOVES, CategoryChange

    rows = (
        CategoryChange.objects.filter(MOVES, shop_id__in=shop_ids, changed_at__gte=since)
        .values("shop_id")
        .annotate(up=Count("id", filter=Q(direction__gt=0)),
                  down=Count("id", filter=Q(direction__lt=0)))
        .order_by()
    )
    return {row["shop_id"]: {"up": row["up"], "down": row["down"]} for row in rows}


def last_runs(shop_ids) -> dict[int, object]:
    """Each shop's latest real (not dry) recalculation run, in one query."""
    from django.db.models import OuterRef, Subquery

    from .models import RecalculationRun

    latest = (
        RecalculationRun.objects.filter(shop_id=OuterRef("shop_id"), dry_run=False)
        .order_by("-started_at", "-pk").values("pk")[:1]
    )
    runs = RecalculationRun.objects.filter(
        shop_id__in=shop_ids, dry_run=False, pk=Subquery(latest)
    )
    return {run.shop_id: run for run in runs}


def next_nightly_recalculation(now=None):
    """(enabled, when) of the nightly recalculation of every shop, from django-celery-beat;
    None when the entry was deleted. One query."""
    from django_celery_beat.models import PeriodicTask

    task = (
        PeriodicTask.objects.filter(name=NIGHTLY_TASK_NAME)
        .select_related("crontab", "interval").first()
    )
    if task is None:
        return None
    now = now or timezone.now()
    when = None
    if task.enabled and task.crontab is not None:
        schedule = task.crontab.schedule
        # The next firing after `now`, exactly (now + remaining_estimate(now) measured the
        # remainder against celery's own clock, a moment later: 2:59 for a 3:00 crontab).
        start, delta, _ = schedule.remaining_delta(now)
        when = start + delta
    elif task.enabled and task.interval is not None:
        when = (task.last_run_at or now) + task.interval.schedule.run_every
    return {"enabled": task.enabled, "when": when, "task": task}
