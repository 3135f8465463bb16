"""The invitation ladder's gift pack: the milestone's fulfilment and its zero-price order.

A ``gift_pack`` milestone (users table, ``(user, "milestone#NNNN")``) is recorded ``pending`` by
the completion that reaches it (store/rewards.py). Its order has an id derived from the
milestone (``gift-<NNNN>-<user>``: its shard is the user's), created by one transaction: the
order put only if absent, already paid (no payment, no commission, no idempotency claim, not in
``unpaid``), the stock taken (cell 0 of the product or SKU, conditioned on enough), and the
milestone moved to ``ordered`` with the order's id (conditioned on not ordered yet). However
often or concurrently it runs, one order exists per milestone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import business_date, iso
from chalicelib.domain.fulfilment import list_partition
from chalicelib.domain.orders import Order, OutOfStock, id_shard
from chalicelib.store.base import condition_failed, transaction_failure
from chalicelib.store.order_items import OrderItem
from chalicelib.store.orders import status_key
from chalicelib.store.products import ProductItem, cell_key, stock_item
from chalicelib.store.users import MILESTONE, UserItem

PENDING, ADDRESS_NEEDED, ORDERED = "pending", "address_needed", "ordered"


def gift_order_id(user_id: str, invitees: int) -> str:
    return f"gift-{invitees:04d}-{user_id}"


@dataclass(frozen=True)
class GiftMilestone:
    user_id: str
    invitees: int
    reward: str
    fulfilment: str | None
    gift_order_id: str | None


class GiftStore:
    def milestone(self, user_id: str, invitees: int) -> GiftMilestone | None:
        try:
            item = UserItem.get(user_id, f"{MILESTONE}{invitees:04d}", consistent_read=True)
        except UserItem.DoesNotExist:
            return None
        return GiftMilestone(user_id, invitees, item.reward or "", item.fulfilment, item.gift_order_id)

    def latest_address(self, user_id: str) -> dict[str, Any] | None:
        """The address of the user's latest order that has one (their address on file): one
        Query of ``by_buyer``, newest first, a few orders."""
        for item in OrderItem.by_buyer.query(user_id, scan_index_forward=False, limit=5):
            address = json.loads(item.address_json or "null")
            if address:
                return dict(address)
        return None

    def address_needed(self, user_id: str, invitees: int) -> None:
        """Pending → address_needed (no address on file); nothing if ordered meanwhile."""
        try:
            UserItem(user_id, f"{MILESTONE}{invitees:04d}").update(
                actions=[UserItem.fulfilment.set(ADDRESS_NEEDED)], condition=UserItem.fulfilment == PENDING)
        except UpdateError as exc:  # the condition refused: already address_needed or ordered
            if not condition_failed(exc):
                raise

    def create_order(self, order: Order, invitees: int) -> bool:
        """The gift's order, its stock and the milestone ``ordered``, in one transaction. False
        when the milestone was ordered (or its order created) by another run meanwhile; raises
        OutOfStock when the gift's stock is short, TransactionFailed on a bare conflict."""
        [line] = order.lines
        item = OrderItem(
            order.order_id, buyer_id=order.buyer_id, status=order.status.value, kind=order.kind,
            lines_json=json.dumps([line.__dict__]), amount_fen=0, created_at=order.created_at,
            created_key=f"{iso(order.created_at)}#{order.order_id}", pay_deadline=order.pay_deadline,
            paid_at=order.paid_at, day_shard=list_partition(business_date(order.created_at), id_shard(order.order_id)),
            status_day=status_key(order, order.status), address_json=json.dumps(order.address, ensure_ascii=False),
            rules_version=order.rules_version)
        milestone = UserItem(order.buyer_id, f"{MILESTONE}{invitees:04d}")
        try:
            with TransactWrite(connection=OrderItem._get_connection().connection) as tx:
                tx.save(item, condition=OrderItem.order_id.does_not_exist())
                tx.update(stock_item(line.stock_id, 0), actions=[ProductItem.stock.add(-line.quantity)],
                          condition=ProductItem.stock >= line.quantity)
                tx.update(milestone, actions=[UserItem.fulfilment.set(ORDERED),
                                              UserItem.gift_order_id.set(order.order_id)],
                          condition=UserItem.fulfilment.is_in(PENDING, ADDRESS_NEEDED))
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(OrderItem.Meta.table_name, order_id=order.order_id) or \
                    failure.refused(UserItem.Meta.table_name, pk=order.buyer_id, sk=milestone.sk):
                return False
            if failure.refused(ProductItem.Meta.table_name, product_id=cell_key(line.stock_id, 0)):
                raise OutOfStock("the gift pack's product is out of stock", product_id=line.product_id) from exc
            raise failure from exc
        return True
