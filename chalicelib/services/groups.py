"""Group-buy (拼团): open a group, join it, pay a seat, and fail the groups that did not fill.

A group order is an order like any other (same payment, commission and refund transactions);
its seat changes in the same transaction as the order (store/groups.py). See docs/groups.md.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import ConcurrentUpdate, DomainError
from chalicelib.domain.groups import (
    Group,
    GroupNotFound,
    GroupStatus,
    SeatState,
    expiry,
    group_line,
    group_settings,
)
from chalicelib.domain.invariants import present
from chalicelib.domain.orders import Order, OrderNotFound, OrderStatus, payout_upline
from chalicelib.domain.users import User
from chalicelib.services.due import Deadline, Walked, day_parts, walk
from chalicelib.services.orders import (
    log_skip,
    new_order_id,
    payment_for,
    refund_order,
    replay,
    request_hash,
)
from chalicelib.services.retry import run_until_committed
from chalicelib.services.stock import create_taking_stock

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


@dataclass(frozen=True)
class GroupCheckout:
    order: Order
    group: Group
    payment: dict[str, str]
    replayed: bool = False


def new_group_id(now: datetime) -> str:
    return f"g{now:%Y%m%d%H%M%S}{secrets.token_hex(6)}"


def open_group(buyer_id: str, product_id: str, body: dict[str, Any], key: str, deps: Deps,
               sku_id: str | None = None) -> GroupCheckout:
    """Open a group of the product's size and create the leader's order at the group price (of
    the SKU named, on a product with SKUs: every member buys that SKU); the group, the leader's
    seat, the order, the key claim and one unit of stock in one transaction.

    DynamoDB round trips: one batched read (buyer, product, SKU stock, key claim) and one
    transaction."""
    digest = request_hash({"open_group": product_id, **body})

    def step() -> GroupCheckout:
        buyer, product, _, claim = deps.groups.reads(buyer_id, key, product_id=product_id, sku_id=sku_id)
        if claim is not None:
            return _replayed(buyer_id, claim, digest, deps)
        settings = group_settings(product)
        product = present(product, "a group-buy product (group_settings checked it)")
        if buyer is None:
            raise OrderNotFound("no such user; log in again")
        line = group_line(product, settings, sku_id)  # a split product's or an unread stock: the cells decide
        now = deps.clock()
        group = Group(new_group_id(now), product.product_id, buyer_id, settings.size, GroupStatus.OPEN, now,
                      expiry(now, settings), line)
        order = _group_order(buyer, group, now, deps)
        from chalicelib.store.groups import open_group as open_part

        order = create_taking_stock(order, {product.product_id: product.stock_cells}, lambda o: deps.orders.create(
            o, (key, digest), dict(body.get("address") or {}), extra=open_part(group, o.order_id)), deps)
        return GroupCheckout(order, group, payment_for(order, buyer.openid, deps))

    return run_until_committed(step, what="this group")


def join_group(buyer_id: str, group_id: str, body: dict[str, Any], key: str, deps: Deps) -> GroupCheckout:
    """Take a seat in an open group: the member's order, the key claim, one unit of stock and the
    seat (conditioned on a free seat, the group open and the caller not a member) at once.

    DynamoDB round trips: one batched read (buyer, group, key claim) and one transaction."""
    digest = request_hash({"join_group": group_id, **body})

    def step() -> GroupCheckout:
        buyer, _, group, claim = deps.groups.reads(buyer_id, key, group_id=group_id)
        if claim is not None:
            return _replayed(buyer_id, claim, digest, deps)
        if group is None:
            raise GroupNotFound("no such group")
        now = deps.clock()
        group.check_joinable(buyer_id, now)
        if buyer is None:
            raise OrderNotFound("no such user; log in again")
        order = _group_order(buyer, group, now, deps)
        from chalicelib.store.groups import take_seat

        seat = take_seat(group_id, buyer_id, order.order_id, now)
        # OutOfStock; or the seat, the group or the key changed meanwhile: read again. The group
        # does not know whether its product is split: cell 0 first, then the cells as read.
        order = create_taking_stock(order, {}, lambda o: deps.orders.create(
            o, (key, digest), dict(body.get("address") or {}), extra=seat), deps)
        return GroupCheckout(order, group, payment_for(order, buyer.openid, deps))

    return run_until_committed(step, what="this group")


def _group_order(buyer: User, group: Group, now: datetime, deps: Deps) -> Order:
    """A member's order: the group's line; payable until its usual deadline or the group's, whichever
    comes first (WeChat refuses a payment after it), so no seat is paid after the group expired."""
    rules = deps.settings.rules
    line = present(group.line, "a group's line")
    upline = payout_upline(buyer.member.upline(now), buyer.user_id, buyer.invite_code is not None,
                           rules.commission.self_purchase)
    deadline = min(now + timedelta(minutes=rules.orders.payment_minutes), group.expires_at)
    return Order(new_order_id(now), buyer.user_id, OrderStatus.PENDING_PAYMENT, [line], line.paid_fen,
                 now, deadline, upline, "group", group_id=group.group_id)


def _replayed(buyer_id: str, claim: tuple[str, str], digest: str, deps: Deps) -> GroupCheckout:
    first = replay(buyer_id, claim, digest, deps)
    group = present(deps.groups.get(first.order.group_id or ""), "the group of a replayed group order")
    return GroupCheckout(first.order, group, first.payment, replayed=True)


def get_group(group_id: str, deps: Deps) -> Group:
    group = deps.groups.get(group_id)
    if group is None:
        raise GroupNotFound("no such group")
    return group


def give_up_seat(order: Order, deps: Deps) -> None:
    """A payment came for a seat that is no longer the order's: the order is cancelled (stock back,
    seat released) if still unpaid; the caller refunds the payment."""
    current = deps.orders.get(order.order_id)
    if current is not None and current.status is OrderStatus.PENDING_PAYMENT:
        try:
            deps.orders.cancel(current, deps.clock())
        except ConcurrentUpdate:
            pass  # cancelled by the job meanwhile, or it will be at its deadline


LOOKBACK_DAYS = 7


def expire_parts(now: datetime, deps: Deps) -> list[str]:
    """Job ``expire_groups`` (every 5 minutes): the 16 shards of ``groups_due`` over the last 7
    days and today (services/due.py)."""
    return day_parts(now, LOOKBACK_DAYS)


def expire_groups_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Walked:
    """Job ``expire_groups``, one slice of a shard: fail its open groups past their deadline;
    refund every paid member through WeChat Pay (their commission is reversed, stock returns) and
    cancel every unpaid one. Run twice or late, nothing changes twice."""

    def expire(group_ids: list[str]) -> dict[str, int]:
        summary = {"failed": 0, "refunded": 0, "cancelled": 0}
        for group_id in group_ids:
            group = deps.groups.get(group_id)
            if group is None or not (group.is_due(now) or group.status is GroupStatus.FAILED):
                continue
            if group.status is GroupStatus.OPEN:
                if not deps.groups.fail(group_id):
                    continue  # completed meanwhile
                summary["failed"] += 1
            try:
                refunded, cancelled = _wind_up(group_id, now, deps)
            except DomainError as exc:  # a refund refused or contention: the next run sees it again
                log_skip("expire_group", group_id, exc)
                continue
            summary["refunded"] += refunded
            summary["cancelled"] += cancelled
        return summary

    return walk(part, cursor, now, deps.groups.due, expire, deadline, {"failed": 0, "refunded": 0, "cancelled": 0})


def _wind_up(group_id: str, now: datetime, deps: Deps) -> tuple[int, int]:
    """Refund the paid members of a failed group, cancel the unpaid ones, then take it off the
    due index. Safe to repeat: refunded and cancelled orders are skipped."""
    refunded = cancelled = 0
    group = get_group(group_id, deps)
    for _, seat in group.members():
        order = deps.orders.get(seat.order_id)
        if order is None:
            continue
        if order.status is OrderStatus.PAID:
            refund_order(order.order_id, "拼团失败 group failed", deps)
            refunded += 1
        elif order.status is OrderStatus.PENDING_PAYMENT and seat.state is SeatState.HELD:
            try:
                deps.orders.cancel(order, now)
            except ConcurrentUpdate:
                continue
            cancelled += 1
            try:
                deps.pay.close(order.order_id)  # best effort: a late payment is refunded by the notification
            except DomainError as exc:
                log_skip("close", order.order_id, exc)
    deps.groups.wound_up(group_id)
    return refunded, cancelled
