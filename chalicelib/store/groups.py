"""Groups (拼团) in the orders table: the group item ``"group#<id>"`` holds its settings, status,
seats (user id → order id and state) and two counters the conditions test: ``held_count``
(held or paid seats) and ``paid_count``. Every seat change is a fragment of the transaction that
changes the member's order (create, pay, cancel), so a seat and its order never disagree.

Access patterns (docs/groups.md):
- a group by id → GetItem ``group#<id>`` (or in the join's BatchGetItem)
- groups due for expiry → sparse GSI ``groups_due`` (``group_day`` = the deadline's Shanghai day
  and the group's shard, ``"<day>#<shard>"``; ``group_due_key`` = ``<deadline>#<id>``), present
  only while the group is open or failing
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.transactions import TransactWrite

from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date, iso
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.groups import Group, GroupStatus, Seat, SeatState
from chalicelib.domain.invariants import present
from chalicelib.domain.orders import Line, Order, due_partition
from chalicelib.domain.stock import stock_id
from chalicelib.domain.users import User
from chalicelib.store.base import batch_get_across, condition_failed
from chalicelib.store.order_items import OrderItem, TxPart, due_page, idem_key
from chalicelib.store.products import ProductItem, is_product, to_product
from chalicelib.store.users import PROFILE, UserItem, to_user


def group_key(group_id: str) -> str:
    return f"group#{group_id}"


def _seat(user_id: str, *part: str) -> Path:
    return Path(["seats", user_id, *part])


def to_group(item: OrderItem) -> Group:
    status = present(item.group_status, "a group item's status")
    created_at, expires_at = present(item.created_at, "a group's creation"), present(item.expires_at, "a group's expiry")
    raw = item.seats.as_dict() if item.seats is not None else {}
    seats = {user: Seat(str(seat["order_id"]), SeatState(seat["state"])) for user, seat in raw.items()}
    lines = [Line(**line) for line in json.loads(item.lines_json or "[]")]
    return Group(item.order_id.removeprefix("group#"), item.product_id or "", item.leader_id or "",
                 int(item.group_size or 0), GroupStatus(status), created_at, expires_at,
                 lines[0] if lines else None, seats)


def _due_partition(group_id: str, expires_at: datetime) -> str:
    return due_partition(business_date(expires_at), group_id)


def open_group(group: Group, leader_order_id: str) -> TxPart:
    """The new group with its leader's seat held (the leader's order is created alongside)."""
    def part(tx: TransactWrite) -> None:
        tx.save(OrderItem(group_key(group.group_id), group_status=GroupStatus.OPEN.value, product_id=group.product_id,
                          leader_id=group.leader_id, group_size=group.size,
                          lines_json=json.dumps([group.line.__dict__] if group.line else []), held_count=1, paid_count=0,
                          seats={group.leader_id: {"order_id": leader_order_id, "state": SeatState.HELD.value}},
                          created_at=group.created_at, expires_at=group.expires_at,
                          group_day=_due_partition(group.group_id, group.expires_at),
                          group_due_key=f"{iso(group.expires_at)}#{group.group_id}"),
                condition=OrderItem.order_id.does_not_exist())
    return part


def take_seat(group_id: str, user_id: str, order_id: str, now: datetime) -> TxPart:
    """Hold a seat: the group is open, before its deadline, has a free seat, and the user holds
    none (a released seat may be taken again)."""
    condition: Condition = (OrderItem.group_status == GroupStatus.OPEN.value) & (OrderItem.expires_at > now) \
        & (OrderItem.held_count < OrderItem.group_size) \
        & (_seat(user_id).does_not_exist() | (_seat(user_id, "state") == SeatState.RELEASED.value))

    def part(tx: TransactWrite) -> None:
        tx.update(OrderItem(group_key(group_id)), actions=[
            OrderItem.held_count.add(1),
            _seat(user_id).set({"order_id": order_id, "state": SeatState.HELD.value}),
        ], condition=condition)
    return part


def _holds(order: Order) -> Condition:
    return (_seat(order.buyer_id, "order_id") == order.order_id) \
        & (_seat(order.buyer_id, "state") == SeatState.HELD.value)


def pay_seat(order: Order, observed_paid: int, completes: bool) -> TxPart:
    """The seat is paid; the last paid seat completes the group, in the same write. Conditioned on
    the group still open, the seat still this order's and nobody else paid meanwhile."""
    condition = (OrderItem.group_status == GroupStatus.OPEN.value) & (OrderItem.paid_count == observed_paid) \
        & _holds(order)
    actions: list[Any] = [OrderItem.paid_count.add(1), _seat(order.buyer_id, "state").set(SeatState.PAID.value)]
    if completes:
        actions += [OrderItem.group_status.set(GroupStatus.COMPLETE.value), OrderItem.group_day.remove(),
                    OrderItem.group_due_key.remove()]
    group_id = present(order.group_id, "a group order's group")

    def part(tx: TransactWrite) -> None:
        tx.update(OrderItem(group_key(group_id)), actions=actions, condition=condition)
    return part


def release_seat(tx: TransactWrite, order: Order) -> None:
    """Part of cancelling an unpaid group order: its seat is released (if it still holds it)."""
    tx.update(OrderItem(group_key(present(order.group_id, "a group order's group"))), actions=[
        OrderItem.held_count.add(-1), _seat(order.buyer_id, "state").set(SeatState.RELEASED.value),
    ], condition=_holds(order))


class GroupStore:
    """Repository of groups; the order-side transactions take the fragments above."""

    def get(self, group_id: str) -> Group | None:
        try:
            item = OrderItem.get(group_key(group_id), consistent_read=True)
        except OrderItem.DoesNotExist:
            return None
        return to_group(item) if item.group_status else None

    def reads(self, buyer_id: str, key: str, product_id: str | None = None, group_id: str | None = None,
              sku_id: str | None = None) -> tuple[User | None, Product | None, Group | None, tuple[str, str] | None]:
        """In one BatchGetItem: the buyer, the idempotency claim, and the product with the stock of
        the SKU named (to open a group) or the group (to join one: it carries the line its members
        buy, so no product read)."""
        group = None
        keys = [{"order_id": {"S": idem_key(buyer_id, key)}}]
        if group_id:
            keys.append({"order_id": {"S": group_key(group_id)}})
        request: dict[str, Any] = {
            UserItem.Meta.table_name: {"Keys": [{"pk": {"S": buyer_id}, "sk": {"S": PROFILE}}], "ConsistentRead": True},
            OrderItem.Meta.table_name: {"Keys": keys, "ConsistentRead": True},
        }
        if product_id and is_product(product_id):
            wanted = [product_id] + ([stock_id(product_id, sku_id)] if sku_id and is_product(sku_id) else [])
            request[ProductItem.Meta.table_name] = {"Keys": [{"product_id": {"S": p}} for p in wanted],
                                                    "ConsistentRead": True}
        found = batch_get_across(OrderItem, request)
        users = [to_user(UserItem.from_raw_data(i)) for i in found.get(UserItem.Meta.table_name, [])]
        items = [ProductItem.from_raw_data(i) for i in found.get(ProductItem.Meta.table_name, [])]
        counts = {i.product_id: [int(i.stock or 0)] for i in items if i.sku_of}
        products = [to_product(i, counts) for i in items if not i.sku_of]
        claim = None
        for raw in found.get(OrderItem.Meta.table_name, []):
            item = OrderItem.from_raw_data(raw)
            if item.group_status:
                group = to_group(item)
            else:
                claim = (item.request_hash or "", item.claimed_order_id or "")
        return (users[0] if users else None), (products[0] if products else None), group, claim

    def payment_reads(self, user_ids: list[str], group_id: str) -> tuple[dict[str, User], Group | None]:
        """A payment's people (buyer, level 1) and the order's group, in one BatchGetItem."""
        found = batch_get_across(OrderItem, {
            UserItem.Meta.table_name: {"Keys": [{"pk": {"S": u}, "sk": {"S": PROFILE}} for u in dict.fromkeys(user_ids)],
                                       "ConsistentRead": True},
            OrderItem.Meta.table_name: {"Keys": [{"order_id": {"S": group_key(group_id)}}], "ConsistentRead": True},
        })
        users = [to_user(UserItem.from_raw_data(i)) for i in found[UserItem.Meta.table_name]]
        groups = [to_group(OrderItem.from_raw_data(i)) for i in found[OrderItem.Meta.table_name]]
        return {u.user_id: u for u in users}, (groups[0] if groups else None)

    def fail(self, group_id: str) -> bool:
        """Open → failed, once; it stays in ``groups_due`` until :meth:`wound_up`. False when it was
        not open (complete, or failed already)."""
        try:
            OrderItem(group_key(group_id)).update(actions=[OrderItem.group_status.set(GroupStatus.FAILED.value)],
                                                  condition=OrderItem.group_status == GroupStatus.OPEN.value)
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise ConcurrentUpdate("the group changed meanwhile; retry") from exc
        return True

    def wound_up(self, group_id: str) -> None:
        """A failed group whose members were all refunded or cancelled leaves ``groups_due``."""
        OrderItem(group_key(group_id)).update(actions=[OrderItem.group_day.remove(), OrderItem.group_due_key.remove()],
                                              condition=OrderItem.group_status == GroupStatus.FAILED.value)

    def due(self, partition: str, now: datetime, cursor: str | None = None, limit: int = 100
            ) -> tuple[list[str], str | None]:
        """A page of the groups of one ``groups_due`` partition (``"<day>#<shard>"``) due by
        ``now`` (open past their deadline, or failed and not wound up), and the next cursor."""
        ids, cursor = due_page(OrderItem.groups_due, OrderItem.group_due_key, partition, now, cursor, limit)
        return [i.removeprefix("group#") for i in ids], cursor

