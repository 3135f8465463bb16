"""A group order's seat in the order's own life: paid in the order's payment transaction, and
the group complete before the order ships or is refunded. Here rather than in ``groups`` so that
``orders`` can use it without importing ``groups``, which imports ``orders`` (docs/groups.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.groups import GroupNotComplete, GroupStatus, SeatLost
from chalicelib.domain.orders import Order
from chalicelib.domain.users import User

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.order_items import TxPart


def seat_payment(order: Order, people: list[str], deps: Deps) -> tuple[dict[str, User], TxPart]:
    """``people`` (the payment's buyer and level 1) read with the group in one batch, and the part
    of the payment transaction that pays the seat (and completes the group when it is the last
    one). Raises SeatLost when the seat is no longer the order's."""
    from chalicelib.store.groups import pay_seat

    users, group = deps.groups.payment_reads(people, order.group_id or "")
    if group is None or not group.owns_seat(order.buyer_id, order.order_id):
        raise SeatLost(order.order_id)
    return users, pay_seat(order, group.paid_count, group.completes_with_one_more_payment())


def check_complete(order: Order, deps: Deps) -> None:
    """A group order ships, and is refunded on request, only once its group is complete (a failed
    group refunds its paid members itself)."""
    if order.group_id:
        group = deps.groups.get(order.group_id)
        if group is not None and group.status is GroupStatus.OPEN:
            raise GroupNotComplete("the group is still open", group_id=order.group_id)
