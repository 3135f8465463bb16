"""The operator's fulfilment: the admin order list and batch shipping (WeChat's shipping report:
services/shipping_reports.py). docs/orders.md "The admin order list", "Batch shipping".
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.clock import SHANGHAI, business_date
from chalicelib.domain.errors import DomainError
from chalicelib.domain.fulfilment import (
    MAX_BATCH,
    PAGE_QUERIES,
    DuplicateLine,
    Lane,
    ReportState,
    check_tracking_no,
    day_range,
    list_partition,
    newest,
    order_of,
    report_partition,
    status_partition,
)
from chalicelib.domain.invariants import holds
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.shards import SHARDS
from chalicelib.store.base import InvalidCursor

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


# --- the admin order list ------------------------------------------------------------------

@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    start: date | None = None  # Shanghai days, inclusive
    end: date | None = None
    buyer_id: str | None = None
    distributor_id: str | None = None  # the order's level-1 or level-2 payee
    shipping_report: ReportState | None = None  # pending or failed

    def fingerprint(self) -> str:
        text = json.dumps([str(v) if v is not None else None for v in self.__dict__.values()])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def keeps(self, order: Order) -> bool:
        """The whole filter, on the order as read (an index entry may lag its order)."""
        report = order.shipping_report
        return ((self.status is None or order.status is self.status)
                and (self.buyer_id is None or order.buyer_id == self.buyer_id)
                and (self.distributor_id is None
                     or self.distributor_id in (order.upline.level1, order.upline.level2))
                and (self.shipping_report is None or (report is not None and report.state is self.shipping_report))
                and (self.start is None or business_date(order.created_at) >= self.start)
                and (self.end is None or business_date(order.created_at) <= self.end))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)


def lane_groups(f: OrderFilter, today: date) -> list[list[Lane]]:
    """Where a filter's orders are, as groups of lanes read newest group first: the most selective
    index (buyer, then distributor, then the report state, then status with each day, then each
    day), the rest of the filter applied to the orders read (``OrderFilter.keeps``)."""
    since = _midnight(f.start) if f.start else None
    until = _midnight(f.end + timedelta(days=1)) if f.end else None
    if f.buyer_id:
        return [[Lane("by_buyer", f.buyer_id, since, until)]]
    if f.distributor_id:
        return [[Lane("by_level1", f.distributor_id, since, until), Lane("by_level2", f.distributor_id, since, until)]]
    if f.shipping_report:
        return [[Lane("ship_reports", report_partition(f.shipping_report, s), since, until) for s in SHARDS]]
    days = day_range(f.start, f.end, today)
    if f.status:
        return [[Lane("by_status", status_partition(f.status.value, d, s)) for s in SHARDS] for d in days]
    return [[Lane("by_day", list_partition(d, s)) for s in SHARDS] for d in days]


@dataclass
class Position:
    """Where a list resumes: the group, and in it each lane's last key taken and the lanes done.
    The cursor names lanes by their place in the group (a page of 16 shards stays ~1 KB)."""

    group: int = 0
    after: dict[str, str] | None = None  # lane id → the last key taken from it
    done: set[str] | None = None  # lanes with nothing left


def list_orders(f: OrderFilter, limit: int, cursor: str | None, deps: Deps) -> tuple[list[Order], str | None]:
    """A page of the admin list, newest first, and the cursor of the next (None: the end).

    Each round queries every open lane of the current group for the keys it may still need (a
    lane's next ``want`` keys after its position), takes the ``want`` newest over them
    (``domain.fulfilment.newest``), reads those orders in one BatchGetItem and keeps those the
    filter keeps. A page makes at most ``PAGE_QUERIES`` Queries: a page short of ``limit`` with
    a cursor means there may be more further back."""
    groups = lane_groups(f, business_date(deps.clock()))
    at = _decode(cursor, f, groups)
    after, done = at.after or {}, at.done or set()
    found: list[Order] = []
    queries = 0
    group = at.group
    while group < len(groups) and len(found) < limit:
        lanes = [lane for lane in groups[group] if lane.lane_id not in done]
        if not lanes:
            group, after, done = group + 1, {}, set()
            continue
        if queries and queries + len(lanes) > PAGE_QUERIES:
            break
        want = limit - len(found)
        fetched = {lane.lane_id: deps.orders.lane_keys(lane, after.get(lane.lane_id), want) for lane in lanes}
        queries += len(lanes)
        taken = newest(fetched, want)
        for lane_id, key in taken:
            after[lane_id] = key
        for lane_id, keys in fetched.items():
            if len(keys) < want and (not keys or after.get(lane_id) == keys[-1]):
                done.add(lane_id)
        if taken:
            orders = deps.orders.get_many([order_of(key) for _, key in taken])
            found += [orders[i] for i in (order_of(key) for _, key in taken) if i in orders and f.keeps(orders[i])]
    while group < len(groups) and all(lane.lane_id in done for lane in groups[group]):
        group, after, done = group + 1, {}, set()
    if group >= len(groups):
        return found, None
    return found, _encode(Position(group, after, done), f, groups[group])


def _encode(at: Position, f: OrderFilter, lanes: list[Lane]) -> str:
    place = {lane.lane_id: n for n, lane in enumerate(lanes)}
    data = {"f": f.fingerprint(), "g": at.group, "a": {str(place[k]): v for k, v in (at.after or {}).items()},
            "d": sorted(place[d] for d in at.done or ())}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str | None, f: OrderFilter, groups: list[list[Lane]]) -> Position:
    if not cursor:
        return Position()
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        group, after, done = data["g"], data["a"], data["d"]
        lanes = groups[group] if isinstance(group, int) and 0 <= group < len(groups) else []
        fits = (data["f"] == f.fingerprint() and lanes and isinstance(after, dict) and isinstance(done, list)
                and all(k.isdigit() and int(k) < len(lanes) and _a_key(v) for k, v in after.items())
                and all(isinstance(d, int) and 0 <= d < len(lanes) for d in done))
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    if not fits:
        raise InvalidCursor("the cursor does not belong to this list (another filter, or not ours)")
    return Position(group, {lanes[int(k)].lane_id: v for k, v in after.items()}, {lanes[d].lane_id for d in done})


def _a_key(value: object) -> bool:
    """A lane position as we write them: ``"<ISO time>#<order id>"`` (DynamoDB refuses an empty key)."""
    return isinstance(value, str) and len(value) <= 200 and value.isprintable() and bool(order_of(value)) \
        and "#" in value


# --- shipping ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineResult:
    order_id: str
    order: Order | None = None
    error: DomainError | None = None


def ship_batch(lines: list[tuple[str, str, str]], actor_id: str, deps: Deps) -> list[LineResult]:
    """Each line (order id, carrier, tracking number) shipped on its own, in the order given: its
    own transaction with its audit entry, then its WeChat report. A line's refusal (a domain
    error) is its result; the lines after it go on. A line naming an order an earlier line
    named is DUPLICATE_LINE. Errors that are not refusals (the database unreachable) end the
    batch: the lines before it are shipped, and sending the batch again ships the rest (a
    line repeated exactly is idempotent)."""
    from chalicelib.services import orders

    holds(len(lines) <= MAX_BATCH, "a batch is at most MAX_BATCH lines (the schema's bound)")
    seen: set[str] = set()
    results = []
    for order_id, carrier, tracking_no in lines:
        if order_id in seen:
            results.append(LineResult(order_id, error=DuplicateLine("this order is on an earlier line")))
            continue
        seen.add(order_id)
        try:
            check_tracking_no(tracking_no)  # the single route's body schema checks the same pattern
            results.append(LineResult(order_id, order=orders.ship(order_id, carrier, tracking_no, deps, actor_id)))
        except DomainError as exc:
            results.append(LineResult(order_id, error=exc))
    return results
