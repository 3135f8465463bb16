"""The orders a distributor earns on (推广订单, ``GET /v1/me/promotion-orders``), by level.

Three round trips a page, the fewest these keys allow: a Query of ``by_level1`` / ``by_level2``
(keys only, newest first), one BatchGetItem across the orders and the ledger (the orders and
the caller's commission on each: its key is known from the order id and the level), one
BatchGetItem of the buyers' profiles (their nicknames, known only from the orders).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.ledger_lines import mask_nickname
from chalicelib.store.base import batch_get_across, paginate
from chalicelib.store.ledger import Commission, LedgerItem, commission_key, to_commission
from chalicelib.store.order_items import OrderItem
from chalicelib.store.users import PROFILE, UserItem


@dataclass(frozen=True)
class PromotionOrder:
    order_id: str
    level: int
    status: str
    amount_fen: int
    created_at: datetime | None
    paid_at: datetime | None
    buyer_nickname: str  # masked
    commission: Commission | None  # None: the order pays the caller nothing (unpaid, or forfeited)


def promotion_orders(user_id: str, level: int, limit: int, cursor: str | None
                     ) -> tuple[list[PromotionOrder], str | None]:
    """A page of the orders paying ``user_id`` at ``level`` (1 or 2), newest first, and the next
    page's cursor."""
    index = OrderItem.by_level1 if level == 1 else OrderItem.by_level2
    ids, next_cursor = paginate(index, user_id, cursor, lambda item: str(item.order_id), limit=limit,
                                scan_index_forward=False)
    if not ids:
        return [], next_cursor
    found = batch_get_across(OrderItem, {
        OrderItem.Meta.table_name: {"Keys": [{"order_id": {"S": i}} for i in ids]},
        LedgerItem.Meta.table_name: {"Keys": [{"pk": {"S": user_id}, "sk": {"S": commission_key(i, level)}}
                                              for i in ids]},
    })
    orders = {item.order_id: item for item in map(OrderItem.from_raw_data, found[OrderItem.Meta.table_name])}
    commissions = {c.order_id: c for c in (to_commission(LedgerItem.from_raw_data(raw))
                                           for raw in found[LedgerItem.Meta.table_name])}
    buyers = list(dict.fromkeys(str(o.buyer_id) for o in orders.values() if o.buyer_id))
    nicknames = {item.pk: item.nickname for item in UserItem.batch_get([(b, PROFILE) for b in buyers],
                                                                       attributes_to_get=["pk", "sk", "nickname"])}
    return [PromotionOrder(order_id=i, level=level, status=str(o.status), amount_fen=int(o.amount_fen or 0),
                           created_at=o.created_at, paid_at=o.paid_at,
                           buyer_nickname=mask_nickname(nicknames.get(str(o.buyer_id))), commission=commissions.get(i))
            for i in ids if (o := orders.get(i)) is not None and o.status], next_cursor
