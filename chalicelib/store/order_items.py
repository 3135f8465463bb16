"""The orders table: its model and indexes, and the key of an Idempotency-Key claim. Orders
(store/orders.py) and group-buy groups (store/groups.py, items ``"group#<id>"``) share the table;
both import it from here, so neither imports the other's module to reach it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.clock import iso
from chalicelib.store.base import BaseMeta, StoreModel, decode_cursor, encode_cursor


class ByBuyer(GlobalSecondaryIndex["OrderItem"]):
    class Meta:
        index_name = "by_buyer"
        projection = AllProjection()

    buyer_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class Unpaid(GlobalSecondaryIndex["OrderItem"]):
    """Sparse: only orders awaiting payment carry ``unpaid_day``: their deadline's Shanghai day and
    the order's shard, ``"2026-12-05#a"`` (``domain.orders.due_partition``: 16 partitions a day)."""

    class Meta:
        index_name = "unpaid"
        projection = KeysOnlyProjection()

    unpaid_day = UnicodeAttribute(hash_key=True)
    pay_deadline_key = UnicodeAttribute(range_key=True)


class ToConfirm(GlobalSecondaryIndex["OrderItem"]):
    """Sparse: only shipped orders carry ``confirm_day`` (their auto-confirmation's day and shard,
    ``"<day>#<shard>"`` as ``unpaid``)."""

    class Meta:
        index_name = "to_confirm"
        projection = KeysOnlyProjection()

    confirm_day = UnicodeAttribute(hash_key=True)
    confirm_due_key = UnicodeAttribute(range_key=True)


class GroupsDue(GlobalSecondaryIndex["OrderItem"]):
    """Sparse: only open groups (and failed ones not yet wound up) carry ``group_day``, their
    deadline's Shanghai day and the group's shard, ``"<day>#<shard>"`` (docs/groups.md)."""

    class Meta:
        index_name = "groups_due"
        projection = KeysOnlyProjection()

    group_day = UnicodeAttribute(hash_key=True)
    group_due_key = UnicodeAttribute(range_key=True)


class ByDay(GlobalSecondaryIndex["OrderItem"]):
    """The admin list's orders of a Shanghai creation day, by shard (``"<day>#<shard>"``: 16
    partitions a day, as ``unpaid``), newest last. Keys only: written once, when the order is
    created (its keys never change); a page reads the orders it lists in one BatchGetItem."""

    class Meta:
        index_name = "by_day"
        projection = KeysOnlyProjection()

    day_shard = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByStatus(GlobalSecondaryIndex["OrderItem"]):
    """The admin list filtered by status: ``"<status>#<creation day>#<shard>"``, rewritten with
    every status change (keys only: a change moves one small index entry)."""

    class Meta:
        index_name = "by_status"
        projection = KeysOnlyProjection()

    status_day = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByLevel1(GlobalSecondaryIndex["OrderItem"]):
    """The orders paying a distributor at level 1 (one distributor's partition: its own rate, as
    its profile; docs/capacity.md). Keys only, written once."""

    class Meta:
        index_name = "by_level1"
        projection = KeysOnlyProjection()

    level1_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByLevel2(GlobalSecondaryIndex["OrderItem"]):
    """The orders paying a distributor at level 2."""

    class Meta:
        index_name = "by_level2"
        projection = KeysOnlyProjection()

    level2_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ShipReports(GlobalSecondaryIndex["OrderItem"]):
    """Sparse: the shipments whose WeChat shipping report is not done, ``"<pending|failed>#<shard>"``
    (a reported shipment leaves it). ``report_due`` is projected so the retry job picks the due
    ones without reading the orders."""

    class Meta:
        index_name = "ship_reports"
        projection = IncludeProjection(["report_due"])

    report_key = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class TrackingDue(GlobalSecondaryIndex["OrderItem"]):
    """Sparse: the tracked parcels the tracking job has something to do for (a subscription to
    make, a parcel without news to ask about), ``"track#<shard>"`` by ``"<due>#<subject>"``
    (docs/delivery.md); a parcel delivered or back at its sender leaves it."""

    class Meta:
        index_name = "tracking_due"
        projection = KeysOnlyProjection()

    track_key = UnicodeAttribute(hash_key=True)
    track_due_key = UnicodeAttribute(range_key=True)


# A transaction fragment another aggregate adds to an order's transaction (group seats).
TxPart = Callable[[TransactWrite], None]


@dataclass(frozen=True)
class OrderPart:
    """What another aggregate changes on the order item inside an order's transaction (a
    transaction touches an item once): update actions on ``OrderItem`` attributes and a
    condition of its own (e.g. an after-sales case's ``open_case_id``), built by that
    aggregate's store module."""

    actions: tuple[Any, ...] = ()
    condition: Condition | None = None


class OrderItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().orders_table

    order_id = UnicodeAttribute(hash_key=True)
    buyer_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    lines_json = UnicodeAttribute(null=True)
    address_json = UnicodeAttribute(null=True)
    amount_fen = NumberAttribute(null=True)
    level1_id = UnicodeAttribute(null=True)
    level2_id = UnicodeAttribute(null=True)
    commissions_json = UnicodeAttribute(null=True)
    forfeited_json = UnicodeAttribute(null=True)  # payees frozen at payment: their share went to the platform
    created_at = UTCDateTimeAttribute(null=True)
    created_key = UnicodeAttribute(null=True)
    pay_deadline = UTCDateTimeAttribute(null=True)
    unpaid_day = UnicodeAttribute(null=True)
    pay_deadline_key = UnicodeAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    shipped_at = UTCDateTimeAttribute(null=True)
    carrier = UnicodeAttribute(null=True)
    tracking_no = UnicodeAttribute(null=True)
    confirm_day = UnicodeAttribute(null=True)
    confirm_due_key = UnicodeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    refunded_at = UTCDateTimeAttribute(null=True)
    # the admin list's keys (domain/fulfilment.py): creation day and shard, status with them
    day_shard = UnicodeAttribute(null=True)
    status_day = UnicodeAttribute(null=True)
    # WeChat's shipping report (docs/orders.md "The shipping information rule")
    report_state = UnicodeAttribute(null=True)
    report_attempts = NumberAttribute(null=True)
    report_error = UnicodeAttribute(null=True)
    reported_at = UTCDateTimeAttribute(null=True)
    report_due = UTCDateTimeAttribute(null=True)
    report_key = UnicodeAttribute(null=True)
    # carrier tracking (docs/delivery.md): the order's delivery as the carrier reported it, and the
    # tracking items "track#<subject>" (store/tracking.py: the record as JSON, its version, its
    # place in the sparse ``tracking_due`` index)
    delivered_at = UTCDateTimeAttribute(null=True)
    returned_at = UTCDateTimeAttribute(null=True)  # the parcel came back to the sender
    track_json = UnicodeAttribute(null=True)
    track_version = NumberAttribute(null=True)
    track_key = UnicodeAttribute(null=True)
    track_due_key = UnicodeAttribute(null=True)
    # the stock cells each product's units came from (domain/stock.py), when not all from cell 0
    takes_json = UnicodeAttribute(null=True)
    rules_version = NumberAttribute(null=True)  # the runtime rules it was placed under (absent: 1)
    # after-sales (store/after_sales.py): the case open now (absent: none), cases ever opened
    open_case_id = UnicodeAttribute(null=True)
    case_count = NumberAttribute(null=True)
    # after-sales refunds (store/orders.py ``refund_part``): their sum, how many, and each one
    # (domain RefundRecord as JSON); ``refund_count`` is the version a refund is conditioned on
    refunded_fen = NumberAttribute(null=True)
    refund_count = NumberAttribute(null=True)
    refunds_json = UnicodeAttribute(null=True)
    # promotions (domain/pricing.py, store/order_promotions.py): the coupon the order uses, every
    # promotion it took (domain ``Applied`` as JSON), the units it counted against purchase limits
    coupon_id = UnicodeAttribute(null=True)
    promotions_json = UnicodeAttribute(null=True)
    limited_json = UnicodeAttribute(null=True)
    # idempotency claims, kept for replays only: DynamoDB deletes them after ``purge_at`` (the
    # table's TTL attribute; orders and groups never carry it)
    request_hash = UnicodeAttribute(null=True)
    claimed_order_id = UnicodeAttribute(null=True)
    purge_at = TTLAttribute(null=True)
    # group-buy (store/groups.py): a group order's group, and the group item "group#<id>"
    group_id = UnicodeAttribute(null=True)
    group_status = UnicodeAttribute(null=True)
    product_id = UnicodeAttribute(null=True)
    leader_id = UnicodeAttribute(null=True)
    group_size = NumberAttribute(null=True)
    held_count = NumberAttribute(null=True)
    paid_count = NumberAttribute(null=True)
    seats: MapAttribute[str, Any] = MapAttribute(null=True)  # user id → {"order_id", "state"}
    expires_at = UTCDateTimeAttribute(null=True)
    group_day = UnicodeAttribute(null=True)
    group_due_key = UnicodeAttribute(null=True)

    by_buyer = ByBuyer()
    unpaid = Unpaid()
    to_confirm = ToConfirm()
    groups_due = GroupsDue()
    by_day = ByDay()
    by_status = ByStatus()
    by_level1 = ByLevel1()
    by_level2 = ByLevel2()
    ship_reports = ShipReports()
    tracking_due = TrackingDue()


# How long an Idempotency-Key claim answers a retry: a client retries within minutes (an order is
# payable for 15); a week covers any client's retry, and no claim outlives it (issue 14).
CLAIM_TTL = timedelta(days=7)


def idem_key(buyer_id: str, key: str) -> str:
    return f"idem#{buyer_id}#{key}"


def claim_item(buyer_id: str, key: str, request_hash: str, order_id: str, now: datetime) -> OrderItem:
    """An Idempotency-Key claim, expiring by TTL (``CLAIM_TTL``)."""
    return OrderItem(idem_key(buyer_id, key), request_hash=request_hash, claimed_order_id=order_id,
                     created_at=now, purge_at=now + CLAIM_TTL)


def due_page(index: Any, due_key: Any, partition: str, now: datetime, cursor: str | None, limit: int
             ) -> tuple[list[str], str | None]:
    """One page of a sparse due index's partition, entries due by ``now`` (their sort key is
    ``<due time>#<id>``): their ids and the next page's cursor (the index's LastEvaluatedKey)."""
    page = index.query(partition, due_key <= f"{iso(now)}#~", limit=limit, last_evaluated_key=decode_cursor(cursor))
    ids = [item.order_id for item in page]
    return ids, encode_cursor(page.last_evaluated_key)
