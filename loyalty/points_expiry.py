"""Points expiry, set-based: the points credited before the cutoff (the shop's policy months
before `now`) that were not used expire, oldest first (loyalty.programs.expiring):

    expired = max(0, min(balance, credited before the cutoff - everything used so far))

where "used" is every negative entry (spent, reversed, expired, negative adjustments), at
any date. After a run every customer of the shop has nothing left to expire at that
cutoff, so the next run only has to look at customers with a credit that crossed the
cutoff since (created between the previous cutoff and this one) or with a credit entered
since the previous run (the ledger id beyond the one the previous run saw) dated before
the cutoff. The policy keeps that mark (`expiry_checked_before`, `expiry_checked_entry_id`);
without one (the first night, a new policy) every customer with an old credit is a
candidate. Either way the candidates come from one statement over the credit index that
leads with the entry date (`points_credit_when_idx`) or the primary key, into a temporary
table that is indexed and analysed, so the joins below are planned with its real size.

Then, in keyset chunks of candidates (each chunk atomic): lock the chunk's accounts with a
positive balance, insert the chunk's `expired` entries with one INSERT ... SELECT that
aggregates the chunk's ledger, and move the balances by the same amounts with one UPDATE.
The cost follows the candidates' entries, not the accounts times the ledger: the chunk's
sums read the customer index alone (it carries the points), the accounts by their key
range. The same SQL runs on PostgreSQL and SQLite (only the row lock is PostgreSQL's).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from . import programs, temp_tables
from .models import PointsEntry, PointsKind, PointsPolicy

#: Candidates per chunk: one transaction, one lock set, one INSERT and one UPDATE.
BATCH_SIZE = 20_000
CANDIDATES = "points_expiry_candidates"


def _candidates_sql(*, mark_before, mark_id) -> tuple[str, list]:
    entry = PointsEntry._meta.db_table
    base = f"SELECT customer_id FROM {entry} WHERE shop_id = %s AND points > 0 AND created_at < %s"  # noqa: S608
    if mark_before is None or mark_id is None:
        return f"SELECT DISTINCT customer_id FROM ({base}) c", ["shop", "cutoff"]  # noqa: S608
    return (
        f"SELECT customer_id FROM ({base} AND created_at >= %s) crossed "  # noqa: S608
        f"UNION SELECT customer_id FROM ({base} AND id > %s) entered",
        ["shop", "cutoff", "mark_before", "shop", "cutoff", "mark_id"],
    )


def points_expire(*, shop, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Expire the shop's points older than its policy allows (see the module docstring).
    Idempotent; returns the points expired."""
    policy = PointsPolicy.objects.filter(shop=shop).first()
    if policy is None or not policy.expiry_months:
        return 0
    now = now or timezone.now()
    cutoff = programs.months_before(now, policy.expiry_months)
    adapt = connection.ops.adapt_datetimefield_value
    entry = PointsEntry._meta.db_table
    account = "loyalty_pointsaccount"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {entry}")  # noqa: S608
        (seen_id,) = cursor.fetchone()
    sql, names = _candidates_sql(mark_before=policy.expiry_checked_before,
                                 mark_id=policy.expiry_checked_entry_id)
    values = {"shop": shop.pk, "cutoff": adapt(cutoff),
              "mark_before": adapt(policy.expiry_checked_before),
              "mark_id": policy.expiry_checked_entry_id}
    temp_tables.create(temp_tables.TempTable(
        CANDIDATES, sql, [values[n] for n in names], index=("customer_id",), unique=True))
    lock = " FOR UPDATE OF a" if connection.features.has_select_for_update_of else ""
    expired, after = 0, 0
    try:
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT MAX(customer_id) FROM (SELECT customer_id FROM {CANDIDATES} "  # noqa: S608
                    f"WHERE customer_id > %s ORDER BY customer_id LIMIT %s) chunk",
                    [after, batch_size])
                (upto,) = cursor.fetchone()
            if upto is None:
                break
            expired += _expire_chunk(shop_id=shop.pk, after=after, upto=upto, now=adapt(now),
                                     cutoff=adapt(cutoff), lock=lock, entry=entry,
                                     account=account)
            after = upto
    finally:
        temp_tables.drop(CANDIDATES)
    PointsPolicy.objects.filter(pk=policy.pk).update(
        expiry_checked_before=cutoff, expiry_checked_entry_id=seen_id)
    return expired


@transaction.atomic
def _expire_chunk(*, shop_id, after, upto, now, cutoff, lock, entry, account) -> int:
    chunk = (f"SELECT customer_id FROM {CANDIDATES} "  # noqa: S608
             f"WHERE customer_id > %(after)s AND customer_id <= %(upto)s")
    params = {"after": after, "upto": upto, "shop": shop_id, "now": now, "cutoff": cutoff,
              "expired": PointsKind.EXPIRED}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {entry}")  # noqa: S608
        (before,) = cursor.fetchone()
        # The lock comes first, in its own statement, so that the figures below are read
        # after any writer holding one of these accounts has committed.
        cursor.execute(
            f"SELECT a.customer_id FROM {account} a WHERE a.customer_id IN ({chunk}) "  # noqa: S608
            f"AND a.customer_id > %(after)s AND a.customer_id <= %(upto)s "
            f"AND a.balance > 0 AND a.shop_id = %(shop)s{lock}", params)
        if not cursor.fetchall():
            return 0
        cursor.execute(
            f"INSERT INTO {entry} (shop_id, customer_id, kind, points, created_at, reason) "  # noqa: S608
            f"SELECT a.shop_id, a.customer_id, %(expired)s, "
            f"-(CASE WHEN a.balance < f.net THEN a.balance ELSE f.net END), %(now)s, '' "
            f"FROM (SELECT e.customer_id, SUM(CASE "
            f"  WHEN e.points > 0 AND e.created_at < %(cutoff)s THEN e.points "
            f"  WHEN e.points < 0 THEN e.points ELSE 0 END) AS net "
            f"  FROM {entry} e WHERE e.customer_id IN ({chunk}) "
            # The range as well: lets the planner read the chunk's slice of the customer
            # index when the candidates are dense (a first night) instead of hashing the
            # whole ledger; sparse candidates still probe the index one by one.
            f"  AND e.customer_id > %(after)s AND e.customer_id <= %(upto)s "
            f"  GROUP BY e.customer_id) f "
            f"JOIN {account} a ON a.customer_id = f.customer_id "
            f"WHERE a.shop_id = %(shop)s AND a.balance > 0 AND f.net > 0 "
            f"AND a.customer_id > %(after)s AND a.customer_id <= %(upto)s", params)
        if not cursor.rowcount:
            return 0
        params["before"] = before
        written = (f"SELECT customer_id, SUM(points) AS points FROM {entry} "  # noqa: S608
                   f"WHERE id > %(before)s AND kind = %(expired)s "
                   f"AND customer_id > %(after)s AND customer_id <= %(upto)s "
                   f"GROUP BY customer_id")
        cursor.execute(
            f"UPDATE {account} SET balance = {account}.balance + w.points "  # noqa: S608
            f"FROM ({written}) w WHERE {account}.customer_id = w.customer_id", params)
        cursor.execute(f"SELECT COALESCE(SUM(points), 0) FROM ({written}) w", params)  # noqa: S608
        (total,) = cursor.fetchone()
    return -int(total)
