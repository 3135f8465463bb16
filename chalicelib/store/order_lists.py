"""The admin order list's reads: one index partition ("lane") at a time, newest first, keys only.

A lane is an index and one of its partition keys (``by_day`` ``"<day>#<shard>"``, ``by_status``
``"<status>#<day>#<shard>"``, ``by_buyer`` a buyer, ``by_level1``/``by_level2`` a distributor,
``ship_reports`` ``"<pending|failed>#<shard>"``), optionally bounded by creation time. Every
index's sort key is the order's ``created_key`` (``"<ISO time>#<order id>"``), so a lane's
position is one ``created_key`` and the page merge (services/fulfilment.py) compares keys across
lanes. Query only: the list never scans.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.fulfilment import Lane, ReportState, order_of, report_partition
from chalicelib.store.order_items import OrderItem

INDEXES: dict[str, Any] = {
    "by_day": (OrderItem.by_day, "day_shard"),
    "by_status": (OrderItem.by_status, "status_day"),
    "by_buyer": (OrderItem.by_buyer, "buyer_id"),
    "by_level1": (OrderItem.by_level1, "level1_id"),
    "by_level2": (OrderItem.by_level2, "level2_id"),
    "ship_reports": (OrderItem.ship_reports, "report_key"),
}


def lane_keys(lane: Lane, after: str | None, limit: int) -> list[str]:
    """Up to ``limit`` ``created_key``s of ``lane`` older than ``after`` (None: from the newest),
    newest first: one Query."""
    index, hash_name = INDEXES[lane.index]
    condition = None
    low = f"{iso(lane.since)}#" if lane.since else "#"
    high = f"{iso(lane.until)}#" if lane.until else "~"
    if lane.since or lane.until:
        condition = OrderItem.created_key.between(low, high)
    if after is not None and after <= low:
        return []  # past the lane's oldest bound: nothing older is listed
    if after is not None and after > high:
        after = None  # a position newer than the bound (DynamoDB refuses a start key outside the condition)
    start = None
    if after is not None:
        start = {"order_id": {"S": order_of(after)}, hash_name: {"S": lane.partition}, "created_key": {"S": after}}
    page = index.query(lane.partition, range_key_condition=condition, scan_index_forward=False, limit=limit,
                       last_evaluated_key=start, page_size=limit)
    keys: list[str] = []
    for item in page:
        keys.append(item.created_key or "")
        if len(keys) >= limit:
            break
    return keys


def due_reports(shard: str, now: datetime, cursor: dict[str, Any] | None, limit: int
                ) -> tuple[list[str], dict[str, Any] | None]:
    """One page of a shard's pending shipping reports (``ship_reports``), the ids of those due by
    ``now``, and the index's position after the page (None: the shard is done)."""
    page = OrderItem.ship_reports.query(report_partition(ReportState.PENDING, shard),
                                        filter_condition=OrderItem.report_due <= now, limit=limit,
                                        last_evaluated_key=cursor)
    ids = [item.order_id for item in page]
    return ids, page.last_evaluated_key
