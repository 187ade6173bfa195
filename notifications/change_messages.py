"""Category-change messages for a batch of changes, set-based.

A nightly recalculation records tens of thousands of moves; their messages are written
without loading the changes:

1. Which messages can exist at all: the shop's channels that are on and the enabled
   templates (its own, else the default) for "moved up" / "moved down" on them. None: done,
   without reading a single change.
2. The distinct (direction, old category, new category, customer's language) groups of the
   batch's changes that qualify (a move, both categories visible): counted from the moves
   the recalculation hands over with its event (its UPDATE returns each customer's
   language), or else by one GROUP BY over the changes.
3. Each group's text is rendered once per channel in the sandbox, with markers in place of
   the per-customer values (the name and the points balance), then one INSERT ... SELECT
   writes every group's messages: the markers replaced by each customer's values, only for
   customers with an address on the channel who did not opt out of it, one message per
   change and channel (the same dedup key as before, so nothing is written twice).

A marker stands for the value exactly as the sandbox would print it: templates are plain text
(no escaping), and a marker is only used where the template prints the value bare
(``{{ customer_name }}``, ``{{ balance }}``). A group goes through the per-message renderer
of `notifications.services` (the same output, one message at a time) when its template uses
those values any other way (a filter, a condition, ``firstof``), when a value could push the
text past the sandbox's limits or leave it empty, when its text does not render, and always
for SMS (segments and cost depend on each message's exact text).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q
from django.template.base import Lexer, TokenType
from django.utils import timezone

from loyalty.events import Move
from loyalty.models import Category, CategoryChange
from shops.languages import languages, translated
from shops.lookups import any_ids_sql, array_literal
from shops.models import Customer, Shop

from . import points, selectors
from .models import Channel, Consent, Event, Message
from .rendering import LONGEST, TemplateRenderError, category_name, render_message

#: Stand-ins for the per-customer values in a group's text (private-use characters: a text
#: or name holding one is rendered per message instead).
NAME_MARK = "\ue000customer_name\ue000"
BALANCE_MARK = "\ue000balance\ue000"
PER_CUSTOMER = re.compile(r"\b(customer_name|balance)\b")


def markers_fit(text: str) -> bool:
    """Whether the per-customer values appear in `text` only printed bare."""
    if "\ue000" in text:
        return False
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.VAR:
            words = token.contents.strip()
            if PER_CUSTOMER.search(words) and words not in ("customer_name", "balance"):
                return False
        elif token.token_type == TokenType.BLOCK and PER_CUSTOMER.search(token.contents):
            return False
    return True


def _group_text(template, langs, old, new, shop_name):
    """(subject, body) of a group with markers, or None: render this group per message."""
    texts = {name: translated(template, name, langs) for name in ("subject", "body")}
    if not all(markers_fit(t) for t in texts.values()):
        return None
    if "\ue000" in old + new + shop_name:
        return None
    values = {"shop_name": shop_name, "old_category": old, "new_category": new,
              "points_earned": 0, "order_number": ""}
    try:
        marked = {name: render_message(t, {**values, "customer_name": NAME_MARK,
                                           "balance": BALANCE_MARK})
                  for name, t in texts.items()}
        for t in texts.values():  # the longest values still fit the sandbox's limits
            render_message(t, {**values, "customer_name": LONGEST.customer_name,
                               "balance": LONGEST.balance})
    except TemplateRenderError:
        return None
    bare = marked["body"].replace(NAME_MARK, "").replace(BALANCE_MARK, "")
    if not bare and marked["body"]:
        return None  # empty or not depending on the customer
    return marked["subject"], marked["body"]


def qualifying(shop_id: int, change_ids: list[int], directions: Iterable[int]):
    """The batch's changes that are announced: moves up or down between visible
    categories (or from none)."""
    from .services import MOVE_REASONS

    return CategoryChange.objects.filter(pk__in_ids=change_ids).filter(
        shop_id=shop_id, reason__in=MOVE_REASONS,
        direction__in=list(directions), to_category__visible_to_customer=True,
    ).filter(Q(from_category__isnull=True) | Q(from_category__visible_to_customer=True))


def _moves_from_history(shop_id, ids, directions) -> list[Move]:
    """The batch's qualifying changes read back (a writer that handed over no moves)."""
    return [Move(*row) for row in qualifying(shop_id, ids, directions).order_by("pk")
            .values_list("pk", "customer_id", "from_category_id", "to_category_id",
                         "direction", "reason", "customer__language")]


def _groups(moves, directions):
    """(the qualifying moves, their groups with counts, the categories)."""
    from .services import MOVE_REASONS

    moves = [m for m in moves if m.reason in MOVE_REASONS and m.direction in directions]
    categories = Category.objects.in_bulk(
        {c for m in moves for c in (m.from_id, m.to_id) if c is not None}) if moves else {}

    def visible(category_id):
        category = categories.get(category_id)
        return category is not None and category.visible_to_customer

    moves = [m for m in moves
             if visible(m.to_id) and (m.from_id is None or visible(m.from_id))]
    counts = Counter((m.direction, m.from_id, m.to_id, m.language or "") for m in moves)
    return moves, [(*key, n) for key, n in counts.items()], categories


def messages_for_category_changes(
    *, shop_id: int, change_ids: Iterable[int], moves: Iterable[Move] | None = None
) -> int:
    """Write the category up/down messages of a batch of changes (module docstring);
    returns how many were written. `moves`: the same changes as their writer knows them
    (loyalty.events.Move), which spares reading them back."""
    from .services import kick_delivery, messages_rendered_each

    ids = list(change_ids)
    if not ids:
        return 0
    shop = Shop.objects.get(pk=shop_id)
    cfg = selectors.channel_settings(shop_id)
    chosen = selectors.templates(shop_id)
    events = {1: Event.CATEGORY_UP, -1: Event.CATEGORY_DOWN}
    wanted = {(direction, channel): chosen[(event, channel)]
              for direction, event in events.items()
              for channel in selectors.channels_on(cfg, shop.currency)
              if chosen.get((event, channel)) is not None}
    if not wanted:
        return 0
    directions = {d for d, _ in wanted}
    if moves is None:
        moves = _moves_from_history(shop_id, ids, directions)
    moves, groups, categories = _groups(moves, directions)
    if not groups:
        return 0
    marked, each = [], {}  # each: channel -> group keys rendered per message
    for direction, from_id, to_id, language, _n in groups:
        langs = languages(customer=Customer(language=language or ""), shop=shop)
        old = category_name(categories.get(from_id), langs)
        new = category_name(categories[to_id], langs)
        for (d, channel), template in wanted.items():
            if d != direction:
                continue
            key = (direction, from_id, to_id, language)
            text = (None if channel == Channel.SMS
                    else _group_text(template, langs, old, new, shop.name))
            if text is None:
                each.setdefault(channel, set()).add(key)
            elif text[1]:  # an empty text sends nothing
                marked.append((direction, from_id or 0, to_id, language or "", channel,
                               events[direction], langs[0], text[0], text[1]))
    written = _insert(shop, cfg, moves, marked) if marked else 0
    if written:
        kick_delivery()
    if each:
        written += messages_rendered_each(
            shop=shop, changes=CategoryChange.objects.filter(
                pk__in_ids=[m.change_id for m in moves]), only=each)
    return written


def _insert(shop, cfg, moves: list[Move], groups) -> int:
    """One INSERT ... SELECT of the marked groups' messages (of these qualifying moves)."""
    qn = connection.ops.quote_name
    now = timezone.now()
    sample = Message(shop=shop, created_at=now, next_attempt_at=now)
    if connection.vendor == "postgresql":
        # The changes as arrays: the history is not read again (whose statistics may lag a
        # night's thousands of new rows and mislead the planner).
        source = ("unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::bigint[], "
                  "%s::bigint[]) AS ch (id, customer_id, direction, from_category_id, "
                  "to_category_id)")
        source_params = [array_literal(m.change_id for m in moves),
                         array_literal(m.customer_id for m in moves),
                         array_literal(m.direction for m in moves),
                         array_literal(m.from_id for m in moves),
                         array_literal(m.to_id for m in moves)]
        change_where, change_params = "", []
    else:
        source, source_params = f"{CategoryChange._meta.db_table} ch", []
        change_where, change_params = any_ids_sql(
            "ch.id", [m.change_id for m in moves], connection.vendor)
        change_where += " AND "
    account, account_customer, account_balance = points.balance_columns()
    balance = f"CAST(COALESCE(a.{account_balance}, 0) AS TEXT)"
    recipient = ("CASE g.channel WHEN %s THEN c.email WHEN %s THEN c.phone "
                 "ELSE %s END")
    recipient_params = [Channel.EMAIL, Channel.SMS, cfg.webhook_url or ""]
    if connection.vendor == "postgresql":
        uuid = "gen_random_uuid()"
    else:
        uuid = "lower(hex(randomblob(16)))"

    def filled(column):
        return (f"SUBSTR(REPLACE(REPLACE(g.{column}, %s, {balance}), %s, c.name), 1, 300)"
                if column == "subject" else
                f"REPLACE(REPLACE(g.{column}, %s, {balance}), %s, c.name)")

    expressions = {
        "shop_id": ("CAST(%s AS BIGINT)", [shop.pk]), "customer_id": ("ch.customer_id", []),
        "event": ("g.event", []), "channel": ("g.channel", []),
        "language": ("g.language", []), "recipient": (recipient, recipient_params),
        "subject": (filled("subject"), [BALANCE_MARK, NAME_MARK]),
        "body": (filled("body"), [BALANCE_MARK, NAME_MARK]),
        "idempotency_key": (uuid, []),
        "dedup_key": ("'change:' || CAST(ch.id AS TEXT) || ':' || g.channel", []),
        "category_change_id": ("ch.id", []),
    }
    columns, select, params = [], [], []
    for field in Message._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(qn(field.column))
        if field.column in expressions:
            sql, extra = expressions[field.column]
            select.append(sql)
            params.extend(extra)
        else:  # as the model would save it (status pending, no attempts, now, ...)
            select.append("%s")
            params.append(field.get_db_prep_save(getattr(sample, field.attname), connection))
    row = ("(CAST(%s AS INTEGER), CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s, %s, %s, %s, %s, "
           "%s)")
    values = ", ".join([row] * len(groups))
    group_params = [v for g in groups for v in g]
    consent = Consent._meta.db_table
    sql = (
        f"INSERT INTO {Message._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"WITH g (direction, from_id, to_id, lang, channel, event, language, subject, body) "
        f"AS (VALUES {values}) "
        f"SELECT {', '.join(select)} "
        f"FROM {source} "
        f"JOIN {Customer._meta.db_table} c ON c.id = ch.customer_id "
        f"JOIN g ON g.direction = ch.direction AND g.from_id = COALESCE(ch.from_category_id, 0) "
        f"AND g.to_id = ch.to_category_id AND g.lang = COALESCE(c.language, '') "
        f"LEFT JOIN {consent} k ON k.customer_id = c.id "
        f"LEFT JOIN {account} a ON a.{account_customer} = c.id "
        f"WHERE {change_where}{recipient} <> '' "
        f"AND (k.id IS NULL OR (g.channel = %s AND k.email) OR (g.channel = %s AND k.sms) "
        f"OR (g.channel = %s AND k.webhook)) "
        f"ON CONFLICT DO NOTHING"
    )
    all_params = [*group_params, *params, *source_params, *change_params, *recipient_params,
                  Channel.EMAIL, Channel.SMS, Channel.WEBHOOK]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return cursor.rowcount
