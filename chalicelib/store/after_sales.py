"""The after-sales table (setting ``after_sales_table``, env ``AFTER_SALES_TABLE``): one item per
case, keyed by its id, and the order item's two attributes that keep one case open per order.

Indexes (all keyed by the case's ``created_key``, ``"<ISO time>#<case id>"``, newest last):
* ``queue``: ``"<status>#<shard>"`` (16 shards per status, the id's last hex digit), rewritten
  with every status change: the operator's queue by status never takes one partition's writes
  for the whole mall (docs/capacity.md);
* ``by_buyer``: a buyer's cases (their own partition);
* ``by_order``: an order's cases (keys only; the cases are then read consistently).

On the order item (orders table): ``open_case_id`` (the case open now, absent when none) and
``case_count`` (cases ever opened): a case is created conditioned on no case open and on the
count read, so two buyers' taps open one case, and the quantities claimable were decided on
every case the order has.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.after_sales import Case, CaseKind, CaseLine, CaseStatus
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.clock import iso
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.store.audit import entry_put
from chalicelib.store.base import BaseMeta, StoreModel, decode_cursor, encode_cursor, paginate, transaction_failure

if TYPE_CHECKING:
    from chalicelib.store.order_items import OrderPart
from chalicelib.store.order_items import OrderItem


class Queue(GlobalSecondaryIndex["CaseItem"]):
    class Meta:
        index_name = "queue"
        projection = AllProjection()

    queue_key = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByBuyer(GlobalSecondaryIndex["CaseItem"]):
    class Meta:
        index_name = "by_buyer"
        projection = AllProjection()

    buyer_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByOrder(GlobalSecondaryIndex["CaseItem"]):
    class Meta:
        index_name = "by_order"
        projection = KeysOnlyProjection()

    order_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class Refunding(GlobalSecondaryIndex["CaseItem"]):
    """Sparse: the cases whose refund is under way (approved refund only, or goods received) and
    not yet committed, by shard (``refunding_shard``): the ``finish_case_refunds`` job finishes
    a refund whose request ended between the decision and the money."""

    class Meta:
        index_name = "refunding"
        projection = KeysOnlyProjection()

    refunding_shard = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class CaseItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().after_sales_table

    case_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    buyer_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    lines_json = UnicodeAttribute()
    reason = UnicodeAttribute()
    photos_json = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_key = UnicodeAttribute()
    queue_key = UnicodeAttribute()
    refund_fen = NumberAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True)
    return_carrier = UnicodeAttribute(null=True)
    return_tracking_no = UnicodeAttribute(null=True)
    returned_at = UTCDateTimeAttribute(null=True)
    received_at = UTCDateTimeAttribute(null=True)
    refunded_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    restock_json = UnicodeAttribute(null=True)  # the lines put back in stock with the refund (decided at receipt)
    refunding_shard = UnicodeAttribute(null=True)  # listed in ``refunding`` while its refund is under way

    queue = Queue()
    by_buyer = ByBuyer()
    by_order = ByOrder()
    refunding = Refunding()


def queue_key(status: CaseStatus, shard: str) -> str:
    return f"{status.value}#{shard}"


def to_case(item: CaseItem) -> Case:
    return Case(
        case_id=item.case_id, order_id=item.order_id, buyer_id=item.buyer_id, kind=CaseKind(item.kind),
        status=CaseStatus(item.status),
        lines=tuple(CaseLine(**line) for line in json.loads(item.lines_json)), reason=item.reason,
        created_at=item.created_at, photos=tuple(json.loads(item.photos_json or "[]")),
        refund_fen=int(item.refund_fen) if item.refund_fen is not None else None, decided_at=item.decided_at,
        decided_by=item.decided_by, reject_reason=item.reject_reason, return_carrier=item.return_carrier,
        return_tracking_no=item.return_tracking_no, returned_at=item.returned_at, received_at=item.received_at,
        refunded_at=item.refunded_at, cancelled_at=item.cancelled_at,
        restocked=tuple(CaseLine(**line) for line in json.loads(item.restock_json or "[]")))


def _connection() -> Connection:
    return CaseItem._get_connection().connection


def _new_item(case: Case) -> CaseItem:
    return CaseItem(
        case.case_id, order_id=case.order_id, buyer_id=case.buyer_id, kind=case.kind.value,
        status=case.status.value, lines_json=json.dumps([line.__dict__ for line in case.lines]),
        reason=case.reason, photos_json=json.dumps(list(case.photos)) if case.photos else None,
        created_at=case.created_at, created_key=f"{iso(case.created_at)}#{case.case_id}",
        queue_key=queue_key(case.status, case.shard))


class OrderCases:
    """What the order item says of its cases: the one open (None: none) and how many were opened."""

    def __init__(self, open_case_id: str | None, count: int) -> None:
        self.open_case_id = open_case_id
        self.count = count


def _count_is(count: int) -> Condition:
    return (OrderItem.case_count.does_not_exist() | (OrderItem.case_count == 0)) if count == 0 \
        else OrderItem.case_count == count


# A fragment of a case's move another module adds to its own transaction (the refund's).
CasePart = Callable[[TransactWrite], None]


class AfterSalesStore:
    """Repository of after-sales cases."""

    def order_cases(self, order_id: str) -> tuple[Order, OrderCases] | None:
        """The order (consistent) with its case attributes, in one GetItem."""
        from chalicelib.store.orders import to_order

        try:
            item = OrderItem.get(order_id, consistent_read=True)
        except OrderItem.DoesNotExist:
            return None
        if not item.status:
            return None
        return to_order(item), OrderCases(item.open_case_id, int(item.case_count or 0))

    def get(self, case_id: str) -> Case | None:
        try:
            return to_case(CaseItem.get(case_id, consistent_read=True))
        except CaseItem.DoesNotExist:
            return None

    def of_order(self, order_id: str) -> list[Case]:
        """Every case of an order, oldest first: one Query of ``by_order`` (keys) and a consistent
        BatchGetItem."""
        ids = [item.case_id for item in CaseItem.by_order.query(order_id)]
        found = {item.case_id: to_case(item) for item in CaseItem.batch_get(ids, consistent_read=True)} if ids else {}
        return [found[i] for i in ids if i in found]

    def of_buyer(self, buyer_id: str, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        """A buyer's cases, newest first."""
        return paginate(CaseItem.by_buyer, buyer_id, cursor, to_case, limit=limit, scan_index_forward=False)

    def queue_page(self, status: CaseStatus, shard: str, beyond: str | None, limit: int,
                   oldest: bool = False) -> list[Case]:
        """Up to ``limit`` cases of one queue partition beyond ``beyond`` (a ``created_key``; None:
        from the start), newest first (created before it), or oldest first (after it): one Query."""
        condition = None
        if beyond is not None:
            condition = CaseItem.created_key > beyond if oldest else CaseItem.created_key < beyond
        page = CaseItem.queue.query(queue_key(status, shard), range_key_condition=condition,
                                    scan_index_forward=oldest, limit=limit, page_size=limit)
        return [to_case(item) for item in page][:limit]

    def refunding_page(self, shard: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """A page of the ids of a shard's cases whose refund is under way, oldest first, and the
        next page's cursor."""
        page = CaseItem.refunding.query(shard, limit=limit, last_evaluated_key=decode_cursor(cursor))
        ids = [item.case_id for item in page]
        return ids, encode_cursor(page.last_evaluated_key)

    def create(self, case: Case, count_read: int) -> None:
        """The case, and the order marked with it as its open case, at once: conditioned on the
        order still shipped or completed, no case open, and as many cases opened as read."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(_new_item(case), condition=CaseItem.case_id.does_not_exist())
                tx.update(OrderItem(case.order_id), actions=[
                    OrderItem.open_case_id.set(case.case_id), OrderItem.case_count.set(count_read + 1),
                ], condition=OrderItem.status.is_in(OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value)
                    & OrderItem.open_case_id.does_not_exist() & _count_is(count_read))
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def move(self, case: Case, target: CaseStatus, actions: Sequence[Any], now: datetime,
             entry: AuditEntry | None = None) -> None:
        """The case from its status as read to ``target`` with ``actions`` (and the admin's audit
        entry), conditioned on the status read and no refund under way; a move that closes the
        case releases the order's open case (conditioned on it being this one)."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                self.move_part(case, target, actions)(tx)
                if entry is not None:
                    entry_put(tx, entry)
                if target in (CaseStatus.REJECTED, CaseStatus.CANCELLED):
                    tx.update(OrderItem(case.order_id), actions=release_actions(),
                              condition=release_condition(case.case_id))
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def move_part(self, case: Case, target: CaseStatus, actions: Sequence[Any],
                  refund_under_way: bool = False) -> CasePart:
        """The case's own update as a transaction fragment: its status (and queue key) from the
        status read to ``target``, with ``actions``; conditioned on the status read and on the
        refund being under way (``refund_under_way``: the goods received, or the refund only
        approved) or not (every other move: nothing can overtake a refund once it started)."""
        def part(tx: TransactWrite) -> None:
            started = (CaseItem.received_at.exists() | (CaseItem.status == CaseStatus.APPROVED.value)) \
                if refund_under_way else CaseItem.received_at.does_not_exist()
            tx.update(CaseItem(case.case_id), actions=[
                CaseItem.status.set(target.value), CaseItem.queue_key.set(queue_key(target, case.shard)), *actions,
            ], condition=(CaseItem.status == case.status.value) & started)
        return part

    def start_refund(self, case: Case, target: CaseStatus, actions: Sequence[Any], entry: AuditEntry) -> None:
        """The operator's decision that moves money (approve a refund only: ``approved``; receive
        the goods: ``received_at``), with its audit entry, before WeChat is asked: from then on no
        other move (the buyer's cancel, a rejection) can overtake the refund."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(CaseItem(case.case_id), actions=[
                    CaseItem.status.set(target.value), CaseItem.queue_key.set(queue_key(target, case.shard)),
                    CaseItem.refunding_shard.set(case.shard), *actions,
                ], condition=(CaseItem.status == case.status.value) & CaseItem.received_at.does_not_exist())
                entry_put(tx, entry)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc


def release_actions() -> list[Any]:
    """The order item's actions when its open case closes."""
    return [OrderItem.open_case_id.remove()]


def release_condition(case_id: str) -> Condition:
    return OrderItem.open_case_id == case_id


def refunded_actions(now: datetime) -> list[Any]:
    return [CaseItem.refunded_at.set(now), CaseItem.refunding_shard.remove()]


def decision_actions(now: datetime, actor_id: str, refund_fen: int | None = None) -> list[Any]:
    actions: list[Any] = [CaseItem.decided_at.set(now), CaseItem.decided_by.set(actor_id)]
    if refund_fen is not None:
        actions.append(CaseItem.refund_fen.set(refund_fen))
    return actions


def reject_actions(now: datetime, actor_id: str, reason: str) -> list[Any]:
    return [*decision_actions(now, actor_id), CaseItem.reject_reason.set(reason)]


def cancel_actions(now: datetime) -> list[Any]:
    return [CaseItem.cancelled_at.set(now)]


def return_actions(now: datetime, carrier: str, tracking_no: str) -> list[Any]:
    return [CaseItem.return_carrier.set(carrier), CaseItem.return_tracking_no.set(tracking_no),
            CaseItem.returned_at.set(now)]


def receive_actions(now: datetime, restock: Sequence[CaseLine]) -> list[Any]:
    return [CaseItem.received_at.set(now), CaseItem.restock_json.set(json.dumps([line.__dict__ for line in restock]))]


def release_part(case_id: str) -> OrderPart:
    """The order item's part of the case's refund: its open case (this one) released."""
    from chalicelib.store.order_items import OrderPart

    return OrderPart(tuple(release_actions()), release_condition(case_id))


def refunded_part(case: Case, now: datetime) -> CasePart:
    """The case's part of its refund: ``refunded``, conditioned on its status as read and its
    refund under way."""
    return AfterSalesStore().move_part(case, CaseStatus.REFUNDED, refunded_actions(now), refund_under_way=True)
