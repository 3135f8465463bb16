"""Analytics: per-day aggregates updated as things happen, the stored daily rows, and the items of
experiments and recommendations, in one table (setting ``analytics_table``, env ``ANALYTICS_TABLE``).

One generic model, ``AnalyticsItem(pk, sk)``, with ``expires_at`` as the table's TTL attribute.
Key prefixes (``pk`` / ``sk``), each owned by one module:

================================  ==================  =============================================
pk                                sk                  what
================================  ==================  =============================================
``day#YYYY-MM-DD#<s>``            ``counts``          the day's counters, ``s`` = 0 … 31: a write
                                                      adds to a random one (ADD only)
``pday#YYYY-MM-DD#<b>#<s>``       ``p#<product>``     a product's counters of the day (``views``,
                                                      ``units``): ``b`` = crc32(product) mod 8 (the
                                                      metrics job's parts), ``s`` = a random write
                                                      shard 0 … 3
``basket#YYYY-MM-DD#<b>``         ``<order_id>``      a paid order's products and buyer, ``b`` =
                                                      crc32(order) mod 16 (TTL 120 d)
``fact#<kind>#<id>``              ``fact``            a fact counted once (TTL 90 d)
``evt#<event_id>``                ``evt``             an event counted once (TTL 3 d)
``uv#<user_id>``                  ``YYYY-MM-DD``      the user visited that day (TTL 3 d): an
                                                      event, a login, an authenticated request or
                                                      a payment (services/events, visits, facts)
``sess#<session_id>``             ``YYYY-MM-DD``      page views of a session on that day (TTL 3 d)
``u#<user_id>``                   ``buyer``           registration and recent payment days
                                                      (versioned)
``u#<user_id>``                   ``dist``            a distributor's last active day and months
``prom#YYYY-MM-DD#<s>``           ``<promotion_id>``  a promotion's counters of the day (orders,
                                                      ``paid_fen``, ``promotion_discount_fen``,
                                                      ``refunds``, ``refunded_fen``; ``ref`` its
                                                      kind), ``s`` = a random shard 0 … 7
``u#<user_id>``                   ``cat#<category>``  the buyer's last paid day in a category
                                                      (versioned; the repurchase cycle)
``rcy#YYYY-MM-DD#<s>``            ``<category>#<gap>``  repurchases of the day in a category
                                                      with that gap in days (``n``, ADD only),
                                                      ``s`` = a random shard 0 … 7 (TTL 30 d)
``rcyd#<category>``               ``YYYY-MM-DD``      (repurchase_rows.py) the job's summary of a
                                                      day's gaps in the category
``metrics`` / ``mprod#…``         (metric_rows.py)    what ``compute_metrics`` stored
``exp#…``                         (C's choice)        experiments (store/experiments.py)
``rec#…``                         (C's choice)        recommendations (store/recommendations.py)
================================  ==================  =============================================

No partition key takes a write per request from the whole mall: the day's counters are 32
partitions, each product bucket of a day 4 (a product's counters spread over 4 partitions, so a
flash-sale product is no hot key either), the baskets 16. Every write-per-request key is
either one of those shards or the entity's own (``fact#``, ``evt#``, ``uv#``, ``sess#``, ``u#``).

Experiments and recommendations import ``AnalyticsItem`` and use its generic attributes
(``n``, ``score``, ``ref``, ``data`` JSON, ``expires_at``) under their own prefixes.

Exactly once: every fact and event is counted in one TransactWriteItems together with the put of
its marker (``fact#…`` / ``evt#…``, conditioned on absence), so a replay cancels the whole
transaction and counts nothing; the cancellation reasons say which markers existed. Distinct
counts (visitors, paying users, active distributors, sessions) come from per-entity items read
first and conditioned on what was read (``uv#`` absent; ``u#`` items carry a version ``v``).
Hot items stay uncontended: counters land on a random shard of the day.

Public reads (the daily jobs, the dashboard, recommendations):

* ``day_counts(days)``: each day's counters, shards summed; a fixed key set per day (BatchGetItem),
  so the cost does not depend on how much happened;
* ``product_totals(day, bucket, after)``: the products of one bucket of a day in id order, each
  with its complete ``ProductDay(views, units)``: a merge of the bucket's 4 shard Queries (each
  sorted by product id), so a reader can stop after any product and resume after it;
  ``product_day_counts(day)``: every bucket's, as a dict;
* ``basket_page(day, partition, cursor, limit)``: a page of one basket partition's paid orders as
  ``Basket(order_id, buyer_id, items)`` and the cursor after it; ``baskets(day)``: all of them;
* ``rows(from_day, to_day)`` and the product metrics: store/metric_rows.py;
* ``stock_of(product_ids)``: names and current stock (the one read of the products table here).
"""
from __future__ import annotations

import heapq
import json
import random
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.promotion_metrics import PROMOTION_COUNTERS
from chalicelib.store.analytics_item import AnalyticsItem, Key, batch_get
from chalicelib.store.base import TransactionFailed, transaction_failure
from chalicelib.store.metric_rows import ROWS, MetricRows
from chalicelib.store.repurchase_rows import GAP_SHARDS, GAP_TTL, RepurchaseRows, gap_partition

__all__ = ["AnalyticsItem", "AnalyticsStore", "Key"]  # AnalyticsItem and Key: for the other modules of the table

DAY_SHARDS = 32  # partitions of a day's counters
PRODUCT_BUCKETS = 8  # a day's products, by a hash of their id: the metrics job's parts
PRODUCT_SHARDS = 4  # write partitions of each product bucket
BASKET_PARTITIONS = 16  # a day's baskets, by a hash of the order id: the recommendation job's parts
PROMOTION_SHARDS = 8  # partitions of a day's promotion counters (one write per promoted order)
COUNTS = "counts"  # the sk of a day shard
EVENT_TTL = timedelta(days=3)
FACT_TTL = timedelta(days=90)
BASKET_TTL = timedelta(days=120)

# Counters of a day (``day#`` items) and of a product's day (``pday#`` items).
DAY_COUNTERS = (
    "page_views", "product_views", "shares", "sessions", "bounced", "visitors", "new_users", "bindings",
    "orders", "paid_fen", "paid_cost_fen", "paying_users", "repeat_buyers", "refunds", "refunded_fen",
    "refunded_cost_fen", "shipped", "completed", "delivered", "delivered_on_time", "commission_accrued_fen",
    "commission_settled_fen", "withdrawn_fen", "withdrawals", "active_distributors", "dist_month_first",
    "dist_retained", "promoted_orders", "promoted_paid_fen", "promotion_discount_fen",
    "nuc0", "nuc1", "nuc2", "nuc3", "nuc4", "nuc5", "nuc6",
)
PRODUCT_COUNTERS = ("views", "units")
# Attributes of the versioned per-entity items (``uv#``, ``sess#``, ``u#``).
STATE_FIELDS = ("pages", "registered_day", "first_paid_day", "pay_day", "pay_n", "prev_pay_day", "active_day",
                "active_month", "prev_active_month")


def _hash(text: str, n: int) -> int:
    """A stable spread of ids over ``n`` (Python's ``hash`` is salted per process)."""
    return zlib.crc32(text.encode()) % n


def day_key(day: date, shard: int) -> Key:
    return f"day#{day.isoformat()}#{shard}", COUNTS


def product_bucket(product_id: str) -> int:
    return _hash(product_id, PRODUCT_BUCKETS)


def product_partition(day: date, bucket: int, shard: int) -> str:
    return f"pday#{day.isoformat()}#{bucket}#{shard}"


def product_key(day: date, product_id: str, shard: int) -> Key:
    return product_partition(day, product_bucket(product_id), shard), f"p#{product_id}"


def basket_partition(order_id: str) -> int:
    return _hash(order_id, BASKET_PARTITIONS)


def basket_key(day: date, order_id: str) -> Key:
    return f"basket#{day.isoformat()}#{basket_partition(order_id)}", order_id


def fact_key(kind: str, fact_id: str) -> Key:
    return f"fact#{kind}#{fact_id}", "fact"


def event_key(event_id: str) -> Key:
    return f"evt#{event_id}", "evt"


def visit_key(user_id: str, day: date) -> Key:
    return f"uv#{user_id}", day.isoformat()


def session_key(session_id: str, day: date) -> Key:
    return f"sess#{session_id}", day.isoformat()


def buyer_key(user_id: str) -> Key:
    return f"u#{user_id}", "buyer"


def distributor_key(user_id: str) -> Key:
    return f"u#{user_id}", "dist"


def promotion_partition(day: date, shard: int) -> str:
    return f"prom#{day.isoformat()}#{shard}"


def category_key(user_id: str, category: str) -> Key:
    """The buyer's last paid day in ``category`` (``pay_day``): the repurchase cycle's state."""
    return f"u#{user_id}", f"cat#{category}"


@dataclass(frozen=True)
class ProductDay:
    views: int = 0
    units: int = 0


@dataclass(frozen=True)
class Basket:
    order_id: str
    buyer_id: str
    items: tuple[tuple[str, int], ...]  # (product_id, quantity)


@dataclass(frozen=True)
class State:
    """A per-entity item as read: its version (0: absent) and attributes."""

    key: Key
    v: int = 0
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.fields.get(name)


@dataclass
class Tally:
    """What one write adds: day counters per day, product counters per (day, product)."""

    days: dict[date, dict[str, int]] = field(default_factory=dict)
    products: dict[tuple[date, str], dict[str, int]] = field(default_factory=dict)
    gaps: dict[tuple[date, str, int], int] = field(default_factory=dict)  # (day, category, days) → repurchases
    promotions: dict[tuple[date, str], tuple[str, dict[str, int]]] = field(default_factory=dict)  # → (kind, counts)

    def add(self, day: date, name: str, n: int = 1) -> None:
        if name not in DAY_COUNTERS:
            raise ValueError(f"no day counter {name!r}")
        if n:
            counts = self.days.setdefault(day, {})
            counts[name] = counts.get(name, 0) + n

    def add_product(self, day: date, product_id: str, name: str, n: int = 1) -> None:
        if name not in PRODUCT_COUNTERS:
            raise ValueError(f"no product counter {name!r}")
        if n:
            counts = self.products.setdefault((day, product_id), {})
            counts[name] = counts.get(name, 0) + n

    def add_gap(self, day: date, category: str, gap_days: int) -> None:
        """A repurchase in ``category`` on ``day``, ``gap_days`` after the buyer's last one."""
        key = (day, category, gap_days)
        self.gaps[key] = self.gaps.get(key, 0) + 1

    def add_promotion(self, day: date, promotion_id: str, kind: str, counts: Mapping[str, int]) -> None:
        """A promotion's counters of ``day`` (``promotion_metrics.PROMOTION_COUNTERS``)."""
        _, found = self.promotions.setdefault((day, promotion_id), (kind, {}))
        for name, n in counts.items():
            if name not in PROMOTION_COUNTERS:
                raise ValueError(f"no promotion counter {name!r}")
            if n:
                found[name] = found.get(name, 0) + n

    def items(self) -> int:
        return len(self.days) + len(self.products) + len(self.gaps) + len(self.promotions)


@dataclass(frozen=True)
class StateChange:
    """Set ``fields`` on a per-entity item, conditioned on the version that was read."""

    seen: State
    fields: dict[str, Any]
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Write:
    """One atomic write: markers put only if absent, state changes, counters, extra puts."""

    markers: tuple[tuple[Key, datetime], ...] = ()  # (key, expires_at)
    changes: tuple[StateChange, ...] = ()
    tally: Tally = field(default_factory=Tally)
    puts: tuple[AnalyticsItem, ...] = ()

    def size(self) -> int:
        return len(self.markers) + len(self.changes) + self.tally.items() + len(self.puts)


@dataclass(frozen=True)
class Refused:
    """Why a write was cancelled: markers already present (by index), state read stale, or a
    concurrent transaction (retry the same write)."""

    duplicates: frozenset[int]
    stale: bool
    conflict: bool


MAX_TRANSACTION_ITEMS = 100


class AnalyticsStore(MetricRows, RepurchaseRows):
    @property
    def table(self) -> str:
        """The table this store reads and writes now."""
        return AnalyticsItem.Meta.table_name

    def states(self, keys: Sequence[Key]) -> dict[Key, State]:
        """The per-entity items, read consistently in one BatchGetItem per 100 keys; absent ones
        come back as version 0."""
        found = {key: State(key) for key in keys}
        for raw in batch_get(list(dict.fromkeys(keys)), consistent=True):
            item = AnalyticsItem.from_raw_data(raw)
            fields = {name: getattr(item, name) for name in STATE_FIELDS if getattr(item, name) is not None}
            found[(item.pk, item.sk)] = State((item.pk, item.sk), int(item.v or 0), fields)
        return found

    def write(self, write: Write) -> Refused | None:
        """Apply a write in one transaction; None when done, else why it was refused (nothing
        changed then)."""
        if not 0 < write.size() <= MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a write touches 1 to {MAX_TRANSACTION_ITEMS} items, not {write.size()}")
        try:
            with TransactWrite(connection=AnalyticsItem._get_connection().connection) as tx:
                for key, expires in write.markers:
                    tx.save(AnalyticsItem(*key, expires_at=expires), condition=AnalyticsItem.pk.does_not_exist())
                for change in write.changes:
                    _change(tx, change)
                _tally(tx, write.tally)
                for item in write.puts:
                    tx.save(item)
        except TransactWriteError as exc:
            return _refused(transaction_failure(exc), len(write.markers), len(write.puts), len(write.changes))
        return None

    def day_counts(self, days: Sequence[date]) -> dict[date, dict[str, int]]:
        """Each day's counters, its shards summed (every counter present, 0 when nothing happened)."""
        return self.counts_and_windows(days, [])[0]

    def counts_and_windows(self, count_days: Sequence[date], window_days: Sequence[date]
                           ) -> tuple[dict[date, dict[str, int]], dict[date, dict[str, Any]]]:
        """``day_counts(count_days)`` and the stored windows of ``window_days`` (those present, as
        stored), in one BatchGetItem per 100 keys."""
        totals = {day: dict.fromkeys(DAY_COUNTERS, 0) for day in count_days}
        keys = [day_key(day, shard) for day in count_days for shard in range(DAY_SHARDS)]
        keys += [(ROWS, f"win#{day.isoformat()}") for day in window_days]
        windows: dict[date, dict[str, Any]] = {}
        for raw in batch_get(keys, consistent=False):
            item = AnalyticsItem.from_raw_data(raw)
            if item.pk == ROWS:
                windows[date.fromisoformat(item.sk.split("#", 1)[1])] = json.loads(item.data or "{}")
                continue
            counts = totals[date.fromisoformat(item.pk.split("#")[1])]
            for name in DAY_COUNTERS:
                counts[name] += int(getattr(item, name) or 0)
        return totals, windows

    def product_totals(self, day: date, bucket: int, after: str | None = None) -> Iterator[tuple[str, ProductDay]]:
        """The products of ``bucket`` on ``day`` with any count, in product id order, after the
        product ``after`` (from the first when None), each with its counts summed over the write
        shards. Lazy: the shard Queries page as the caller reads, so stopping after a product and
        resuming ``after`` it reads each item once."""
        streams = [_product_shard(day, bucket, shard, after) for shard in range(PRODUCT_SHARDS)]
        for product_id, counts in groupby(heapq.merge(*streams), key=lambda row: row[0]):
            views = units = 0
            for _, v, u in counts:
                views, units = views + v, units + u
            yield product_id, ProductDay(views, units)

    def promotion_day_counts(self, day: date) -> dict[str, tuple[str, dict[str, int]]]:
        """Each promotion's counters of ``day`` (those with any), shards summed, with its kind:
        one Query per shard (a day's promotions are the operator's few, not the catalogue)."""
        found: dict[str, tuple[str, dict[str, int]]] = {}
        for shard in range(PROMOTION_SHARDS):
            for item in AnalyticsItem.query(promotion_partition(day, shard)):
                _, counts = found.setdefault(item.sk, (item.ref or "", dict.fromkeys(PROMOTION_COUNTERS, 0)))
                for name in PROMOTION_COUNTERS:
                    counts[name] += int(getattr(item, name) or 0)
        return found

    def product_day_counts(self, day: date) -> dict[str, ProductDay]:
        """Views and units sold per product on a day (only products with any): every bucket."""
        return {p: c for bucket in range(PRODUCT_BUCKETS) for p, c in self.product_totals(day, bucket)}

    def basket_page(self, day: date, partition: int, cursor: dict[str, Any] | None, limit: int
                    ) -> tuple[list[Basket], dict[str, Any] | None]:
        """Up to ``limit`` orders of one basket partition of ``day`` after ``cursor`` (a key this
        method returned; None: from the start) and the cursor after them (None: the partition is
        read to its end)."""
        pk = f"basket#{day.isoformat()}#{partition}"
        found = AnalyticsItem.query(pk, limit=limit, last_evaluated_key=cursor)
        page = [_basket(item) for item in found]
        return page, (found.last_evaluated_key if len(page) == limit else None) or None

    def baskets(self, day: date) -> Iterator[Basket]:
        """The orders paid on a day with their products (for "bought together"): every partition."""
        for partition in range(BASKET_PARTITIONS):
            for item in AnalyticsItem.query(f"basket#{day.isoformat()}#{partition}"):
                yield _basket(item)

    def categories_of(self, product_ids: Sequence[str]) -> dict[str, str]:
        """``{product_id: category}`` of the products that exist (one BatchGetItem on the products
        table, the category alone: the paid fact's repurchase records)."""
        from chalicelib.store.products import ProductItem, is_product

        wanted = [p for p in dict.fromkeys(product_ids) if is_product(p)]
        if not wanted:
            return {}
        return {item.product_id: item.category
                for item in ProductItem.batch_get(wanted, attributes_to_get=["product_id", "category"])}

    def stock_of(self, product_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``{product_id: (name, stock now)}`` of the products that exist (BatchGetItem on the
        products table, eventually consistent: the daily job's view of the stock after the day;
        a split product's cells summed, store/products.py)."""
        from chalicelib.store.products import ProductStore

        return ProductStore().stock_totals(product_ids)


def _product_shard(day: date, bucket: int, shard: int, after: str | None) -> Iterator[tuple[str, int, int]]:
    """(product id, views, units) of one write shard of a product bucket, in product id order."""
    condition = AnalyticsItem.sk > f"p#{after}" if after is not None else AnalyticsItem.sk.startswith("p#")
    for item in AnalyticsItem.query(product_partition(day, bucket, shard), condition):
        yield item.sk[2:], int(item.views or 0), int(item.units or 0)


def _basket(item: AnalyticsItem) -> Basket:
    data = json.loads(item.data or "{}")
    return Basket(item.sk, data.get("buyer_id", ""), tuple((p, int(q)) for p, q in data.get("items", [])))


def basket_item(day: date, order_id: str, buyer_id: str, items: Sequence[tuple[str, int]],
                now: datetime) -> AnalyticsItem:
    data = json.dumps({"buyer_id": buyer_id, "items": [list(i) for i in items]}, separators=(",", ":"))
    return AnalyticsItem(*basket_key(day, order_id), data=data, expires_at=now + BASKET_TTL)


def _change(tx: TransactWrite, change: StateChange) -> None:
    seen = change.seen
    actions: list[Any] = [AnalyticsItem.v.set(seen.v + 1)]
    for name, value in change.fields.items():
        if name not in STATE_FIELDS:
            raise ValueError(f"no state field {name!r}")
        attribute = getattr(AnalyticsItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if change.expires_at is not None:
        actions.append(AnalyticsItem.expires_at.set(change.expires_at))
    condition = AnalyticsItem.pk.does_not_exist() if seen.v == 0 else AnalyticsItem.v == seen.v
    tx.update(AnalyticsItem(*seen.key), actions=actions, condition=condition)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)


def count_in(tx: TransactWrite, day: date, counts: dict[str, int],
             promotions: Mapping[str, tuple[str, Mapping[str, int]]] | None = None) -> None:
    """Add ``counts`` to the day's counters (one random shard), and ``promotions`` (promotion id
    → its kind and counts: a refund's, ``promotion_metrics.refund_counts``) to theirs, inside
    another aggregate's transaction: they move exactly when that transaction commits, so no fact
    marker is needed. For a count a later retry could not make again (settlement: a settled
    commission leaves the job's index; a refund)."""
    tally = Tally()
    for name, n in counts.items():
        tally.add(day, name, n)
    for promotion_id, (kind, promotion_counts) in (promotions or {}).items():
        tally.add_promotion(day, promotion_id, kind, promotion_counts)
    _tally(tx, tally)


def _tally(tx: TransactWrite, tally: Tally) -> None:
    for day, counts in tally.days.items():
        actions = [getattr(AnalyticsItem, name).add(n) for name, n in counts.items()]
        tx.update(AnalyticsItem(*day_key(day, random.randrange(DAY_SHARDS))), actions=actions)  # noqa: S311 -- a shard
    for (day, product_id), counts in tally.products.items():
        actions = [getattr(AnalyticsItem, name).add(n) for name, n in counts.items()]
        tx.update(AnalyticsItem(*product_key(day, product_id, random.randrange(PRODUCT_SHARDS))), actions=actions)  # noqa: S311
    for (day, promotion_id), (kind, counts) in tally.promotions.items():
        actions = [AnalyticsItem.ref.set(kind), *(getattr(AnalyticsItem, name).add(n) for name, n in counts.items())]
        tx.update(AnalyticsItem(promotion_partition(day, random.randrange(PROMOTION_SHARDS)), promotion_id),  # noqa: S311
                  actions=actions)
    for (day, category, gap), n in tally.gaps.items():
        where = AnalyticsItem(gap_partition(day, random.randrange(GAP_SHARDS)), f"{category}#{gap}")  # noqa: S311
        tx.update(where, actions=[AnalyticsItem.n.add(n), AnalyticsItem.expires_at.set(_midnight(day) + GAP_TTL)])


def _refused(failure: TransactionFailed, markers: int, puts: int, changes: int) -> Refused:
    """Reasons come in DynamoDB's order of the request, which PynamoDB builds as condition checks,
    deletes, puts (the markers, then the extra puts), updates (the state changes, then counters)."""
    duplicates = frozenset(i for i in range(markers) if failure.failed_at(i))
    stale = any(failure.failed_at(markers + puts + i) for i in range(changes))
    return Refused(duplicates, stale, failure.conflict)
