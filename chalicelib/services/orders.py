"""The money path: checkout, payment, shipping, completion, refund and the order jobs."""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_month
from chalicelib.domain.distributors import payable
from chalicelib.domain.errors import ConcurrentUpdate, DomainError, Kind, error
from chalicelib.domain.invariants import present
from chalicelib.domain.invitations import Qualification, on_qualification
from chalicelib.domain.orders import (
    IdempotencyKeyReused,
    Line,
    Order,
    OrderNotFound,
    OrderStatus,
    Want,
    Wanted,
    available_on,
    check_transition,
    commission_shares,
    payout_upline,
)
from chalicelib.domain.payouts import team_sharers
from chalicelib.domain.tier_moves import in_force, on_figures
from chalicelib.domain.tiers import TierStats
from chalicelib.services import facts, pricing
from chalicelib.services.due import Deadline, Walked, day_parts, walk
from chalicelib.services.retry import ReadAgain, Reads, run_until_committed
from chalicelib.services.sessions import Caller
from chalicelib.services.stock import create_taking_stock

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.users import User
    from chalicelib.store.orders import TxPart

RefundFailed = error("REFUND_FAILED", Kind.CONFLICT, "WeChat Pay answered the refund as abnormal or closed.")


@dataclass(frozen=True)
class Checkout:
    order: Order
    payment: dict[str, str]
    replayed: bool = False


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def new_order_id(now: datetime) -> str:
    """Time-ordered, unguessable, a valid WeChat ``out_trade_no`` (≤ 32 chars)."""
    return f"o{now:%Y%m%d%H%M%S}{secrets.token_hex(6)}"


def place_order(buyer_id: str, wanted: Sequence[Wanted], body: dict[str, Any], key: str,
                deps: Deps, kind: str = "normal") -> Checkout:
    """Create an order: price it with the promotions running now and the coupon named
    (services/pricing.py: a SKU's line at the SKU's price, then the promotions), record its
    payees (level 1 and 2 now), reserve stock (the product's, or the SKU's) in one transaction
    with the Idempotency-Key claim, the coupon's use, a loss leader's spending and the purchase
    counters, then prepay with WeChat Pay.

    DynamoDB round trips: one batched read (buyer, products, SKU stock, key claim, coupon) and
    one transaction."""
    digest = request_hash(body)
    asked = [Want(*w) for w in wanted]
    coupon_id = body.get("coupon_id")

    def step() -> Checkout:
        reads, promotions = pricing.cart_reads(buyer_id, asked, key, coupon_id, deps.clock(), deps)
        if reads.claim is not None:
            return replay(buyer_id, reads.claim, digest, deps)
        buyer = present(reads.buyer, "the buyer cart_reads found")
        priced, taking = pricing.priced_cart(buyer_id, asked, coupon_id, reads, promotions, deps.clock())
        order = replace(_new_order(buyer, list(priced.lines), kind, deps), coupon_id=priced.coupon_id,
                        promotions=priced.applied, limited=tuple(sorted((p, u) for p, (u, _) in taking.limits.items())))
        # OutOfStock, or lost a race: again (a short stock cell: the others, services/stock.py)
        order = create_taking_stock(order, {p.product_id: p.stock_cells for p in reads.products.values()},
                                    lambda o: deps.orders.create(o, (key, digest), _address(body), taking=taking), deps)
        return Checkout(order, payment_for(order, buyer.openid, deps))

    return run_until_committed(step, what="this order")


def _new_order(buyer: User, lines: list[Line], kind: str, deps: Deps) -> Order:
    """A new order awaiting payment, paying the buyer's upline as it stands now, under the rules
    in force now (it records their version and keeps them to the end)."""
    version, rules = deps.rules_in_force()
    now = deps.clock()
    upline = payout_upline(buyer.member.upline(now), buyer.user_id, buyer.invite_code is not None,
                           rules.commission.self_purchase)
    return Order(new_order_id(now), buyer.user_id, OrderStatus.PENDING_PAYMENT, lines,
                 sum(line.paid_fen for line in lines), now, now + timedelta(minutes=rules.orders.payment_minutes),
                 upline, kind, rules_version=version)


def _address(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body.get("address") or {})


def replay(buyer_id: str, claim: tuple[str, str], digest: str, deps: Deps) -> Checkout:
    claimed_hash, order_id = claim
    if claimed_hash != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used with another body")
    order = present(deps.orders.get(order_id), "the order an Idempotency-Key claim names")
    buyer = deps.users.get(buyer_id)
    payment = payment_for(order, buyer.openid if buyer else "", deps) \
        if order.status is OrderStatus.PENDING_PAYMENT else {}
    return Checkout(order, payment, replayed=True)


def payment_for(order: Order, openid: str, deps: Deps) -> dict[str, str]:
    """Prepay (idempotent per order id at WeChat) and the signed ``wx.requestPayment`` params."""
    names = ", ".join(line.name for line in order.lines)
    prepay_id = deps.pay.prepay(order.order_id, names[:120], order.amount_fen, openid, order.pay_deadline)
    return deps.pay.payment_params(prepay_id)


def get_order(order_id: str, caller: Caller, deps: Deps) -> Order:
    """An order, for its buyer or an admin; anyone else is told it does not exist."""
    order = deps.orders.get(order_id)
    if order is None or (order.buyer_id != caller.user_id and not caller.is_admin):
        raise OrderNotFound("no such order")
    return order


def my_orders(buyer_id: str, limit: int, cursor: str | None, deps: Deps) -> tuple[list[Order], str | None]:
    """The buyer's orders, newest first."""
    return deps.orders.by_buyer(buyer_id, limit, cursor)


SYSTEM_ACTOR = "system"  # who an audit entry names when no admin's request did it (scripts, tests)


def ship(order_id: str, carrier: str, tracking_no: str, deps: Deps, actor_id: str = SYSTEM_ACTOR) -> Order:
    """Ship a paid order: one transaction moves it to shipped (its automatic confirmation due
    ``delivery.confirm_fallback_days`` later, moved to ``auto_confirm_days`` after the carrier's
    delivery: docs/delivery.md), lists its WeChat shipping report as pending, writes its carrier
    tracking (subscription pending) and the operator's audit entry; then, after the commit, the
    report and the tracking subscription are tried once each (the ``report_shipments`` and
    ``track_parcels`` jobs retry them). The carrier is stored as its WeChat delivery id (INVALID_CARRIER: none).
    Shipping again with the same carrier and tracking number answers the order as it is
    (idempotent); with others, ALREADY_SHIPPED."""
    from chalicelib.domain.audit import Action, audit
    from chalicelib.domain.fulfilment import AlreadyShipped, delivery_id, first_report
    from chalicelib.domain.notices import order_shipped
    from chalicelib.domain.tracking import fallback_confirm_due, order_subject
    from chalicelib.services import delivery, subscriptions
    from chalicelib.services.shipping_reports import report_shipment

    wechat_id = delivery_id(carrier)

    def step() -> tuple[Order, datetime | None]:
        order = deps.orders.get(order_id)
        if order is None:
            raise OrderNotFound("no such order")
        if order.shipped_at is not None:
            if (order.carrier, order.tracking_no) in ((wechat_id, tracking_no), (carrier, tracking_no)):
                return order, None
            if order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
                raise AlreadyShipped("shipped already with another carrier or tracking number",
                                     carrier=order.carrier, tracking_no=order.tracking_no)
        check_transition(order.status, OrderStatus.SHIPPED)
        if order.group_id:
            from chalicelib.services.seats import check_complete

            check_complete(order, deps)
        now = deps.clock()
        entry = audit(actor_id, Action.ORDER_SHIP, f"order#{order_id}", now, before={"status": order.status.value},
                      after={"status": OrderStatus.SHIPPED.value, "carrier": wechat_id, "tracking_no": tracking_no})
        fallback_days = deps.rules_at(order.rules_version).delivery.confirm_fallback_days
        tracking = delivery.order_tracking(order, wechat_id, tracking_no, now, deps)
        deps.orders.ship(order, wechat_id, tracking_no, now, fallback_confirm_due(now, fallback_days), first_report(now),
                         entry, extra=(lambda tx: deps.tracking.start_in(tx, tracking)) if tracking else None)
        return replace(order, status=OrderStatus.SHIPPED, shipped_at=now, carrier=wechat_id, tracking_no=tracking_no,
                       shipping_report=first_report(now)), now

    order, shipped_at = run_until_committed(step, what="this order")
    # a repeat (shipped_at None) counts the fact only if the first request never got to count it
    facts.order_shipped(deps, order_id, shipped_at or present(order.shipped_at, "a shipped order's shipping time"))
    if shipped_at is None:
        return order
    _, report = report_shipment(order, deps)
    delivery.subscribe(order_subject(order_id), deps)
    subscriptions.notify(order_shipped(order, shipped_at), deps)  # the buyer's 发货通知, once
    return replace(order, shipping_report=report) if report else _reload(order_id, deps)


def confirm(order_id: str, caller: Caller | None, deps: Deps) -> Order:
    """Receipt confirmed (by the buyer, or by the auto-confirm job when ``caller`` is None):
    completed, and its commissions start the T+N settlement clock."""

    def step() -> Order:
        order = deps.orders.get(order_id)
        if order is None or (caller is not None and order.buyer_id != caller.user_id):
            raise OrderNotFound("no such order")
        check_transition(order.status, OrderStatus.COMPLETED)
        now = deps.clock()
        buyer = deps.users.get(order.buyer_id)
        inviter = buyer.member.parent_id if buyer and buyer.qualified_at is None else None
        hold_days = deps.rules_at(order.rules_version).orders.settlement_hold_days
        deps.orders.complete(order, now, available_on(now, hold_days),
                             _qualification(inviter, deps))
        facts.order_completed(deps, order_id, now)
        return _reload(order_id, deps)

    return run_until_committed(step, what="this order")


def _qualification(inviter_id: str | None, deps: Deps) -> tuple[str, Qualification] | None:
    """What counting the buyer for their inviter does (the buyer's first completed order): read
    the inviter's count and milestones, decide through the ladder in force (the inviter's reward,
    not the order's money)."""
    state = deps.users.ladder_state(inviter_id) if inviter_id else None
    if inviter_id is None or state is None:
        return None
    count, recorded = state
    return inviter_id, on_qualification(deps.rules.ladder(), count, recorded)


def refund(order_id: str, caller: Caller, reason: str, deps: Deps) -> Order:
    """Refund a paid order not yet shipped through WeChat Pay (one refund number per order: a
    retry never refunds twice), then return its stock and reverse or claw back its commissions.
    A shipped or completed order: AFTER_SALES_REQUIRED (a case refunds it, services/refunds.py)."""
    from chalicelib.domain.refunds import AFTER_SHIPMENT, AfterSalesRequired

    order = get_order(order_id, caller, deps)
    if order.status in AFTER_SHIPMENT:
        raise AfterSalesRequired("the order has shipped: open an after-sales case", status=order.status.value)
    check_transition(order.status, OrderStatus.REFUNDED)
    if order.group_id:
        from chalicelib.services.seats import check_complete

        check_complete(order, deps)
    return refund_order(order_id, reason, deps, order)


def refund_order(order_id: str, reason: str, deps: Deps, order: Order | None = None) -> Order:
    """The refund itself, for whoever may ask (a buyer or an admin above, or a failed group).
    ``order`` is the order as the caller just read it, if it did. Only before shipment: a shipped
    or completed order is refunded through an after-sales case (AFTER_SALES_REQUIRED;
    services/refunds.py). One shipped after the WeChat refund (a race) is still recorded refunded."""
    from chalicelib.domain.refunds import AFTER_SHIPMENT, AfterSalesRequired

    order = order or _reload(order_id, deps)
    if order.status in AFTER_SHIPMENT:
        raise AfterSalesRequired("the order has shipped: open an after-sales case", status=order.status.value)
    check_transition(order.status, OrderStatus.REFUNDED)
    outcome = deps.pay.refund(order.order_id, f"{order.order_id}R", order.amount_fen, order.amount_fen, reason)
    if outcome.status not in ("SUCCESS", "PROCESSING"):
        raise RefundFailed("WeChat Pay did not accept the refund; nothing changed", wechat_status=outcome.status)
    read = Reads(order, lambda: _reload(order_id, deps))  # conditioned on the status read: a lost race reads again

    def step() -> Order:
        current = read()
        if current.status is OrderStatus.REFUNDED:
            return current
        check_transition(current.status, OrderStatus.REFUNDED)
        payees = [(s.user_id, s.level) for s in current.commissions]
        paid_month = business_month(present(current.paid_at, "a refundable order's payment time"))
        commissions, bonuses = deps.ledger.refund_reads(order_id, payees, team_sharers(current.upline), paid_month)
        statuses = {(c.user_id, c.level): c.status for c in commissions}
        level1 = deps.users.get(current.upline.level1) if current.upline.level1 else None
        deps.orders.refund(current, statuses, deps.clock(), current.status is OrderStatus.PAID,
                           level1.sales.month if level1 else None, paid_month, bonuses)
        return _reload(order_id, deps)

    return run_until_committed(step, what="this order")


def _reload(order_id: str, deps: Deps) -> Order:
    return present(deps.orders.get(order_id), "an order just written")


def record_payment(order: Order, transaction_id: str, deps: Deps) -> bool:
    """Mark an order paid with its commissions, once. False when it was not awaiting payment.
    A group order's seat is paid in the same transaction (SeatLost when it is no longer its; a
    seat paid meanwhile by a duplicate of this notification is not lost: False then)."""
    read = Reads[Order | None](order, lambda: deps.orders.get(order.order_id))

    def step() -> bool:
        current = read()
        if current is None or current.status is not OrderStatus.PENDING_PAYMENT:
            if current is not None and current.paid_at is not None:  # a replay: counts only if never counted
                facts.order_paid(deps, current, current.commissions, current.paid_at)
            return False
        now = deps.clock()
        people, seat = _payees(current, read.from_caller, deps)
        level1 = people.get(current.upline.level1) if current.upline.level1 else None
        buyer = people.get(current.buyer_id)
        month, rules = business_month(now), deps.rules_at(current.rules_version).tier_rules()
        uplift = rules.uplift_bp(in_force(rules, level1, month)) if level1 else 0
        # a payee frozen now earns nothing: their share stays with the platform (domain/distributors.py)
        frozen = {p: people[p].frozen for p in (current.upline.level1, current.upline.level2) if p and p in people}
        shares = payable(commission_shares(current.lines, current.upline, uplift), {p for p, f in frozen.items() if f})
        tier = on_figures(rules, current.upline.level1, level1, TierStats(0, 0, current.amount_fen), month) \
            if current.upline.level1 else None
        deps.orders.mark_paid(current, shares, transaction_id, now, buyer.member.paid_order_count if buyer else 0,
                              level1.sales.month if level1 else None, month, extra=seat, tier=tier, frozen=frozen)
        facts.order_paid(deps, current, shares, now)
        return True

    return run_until_committed(step, what="this order")


def _payees(order: Order, from_caller: bool, deps: Deps) -> tuple[dict[str, User], TxPart | None]:
    """The buyer, level 1 and level 2 in one batched read; for a group order, with its seat's
    payment (the group rides in the same batch and the seat in the same transaction)."""
    ids = [order.buyer_id] + [p for p in (order.upline.level1, order.upline.level2) if p]
    if not order.group_id:
        return deps.users.get_many(ids), None
    from chalicelib.domain.groups import SeatLost
    from chalicelib.services.seats import seat_payment

    try:
        return seat_payment(order, ids, deps)
    except SeatLost as lost:
        if from_caller:  # the order read before may be stale: paid meanwhile, the seat with it
            raise ReadAgain("the order may have been paid meanwhile", pause=False) from lost
        raise


UNPAID_LOOKBACK_DAYS = 7
CONFIRM_LOOKBACK_DAYS = 30


def unpaid_parts(now: datetime, deps: Deps) -> list[str]:
    """Job ``cancel_unpaid`` (every 5 minutes): its parts, the 16 shards of the ``unpaid`` index
    over the last 7 days and today (services/due.py)."""
    return day_parts(now, UNPAID_LOOKBACK_DAYS)


def cancel_unpaid_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Walked:
    """Job ``cancel_unpaid``, one slice of a shard: cancel its orders unpaid past their deadline
    and return their stock. Run twice or late, each is cancelled once (conditioned on pending)."""

    def cancel(order_ids: list[str]) -> dict[str, int]:
        cancelled = 0
        for order in _still(order_ids, OrderStatus.PENDING_PAYMENT, deps):
            try:
                deps.orders.cancel(order, now)
            except ConcurrentUpdate:
                continue  # paid or cancelled meanwhile
            cancelled += 1
            try:
                deps.pay.close(order.order_id)  # best effort: a late payment is refunded by the notification
            except DomainError as exc:
                log_skip("close", order.order_id, exc)
        return {"cancelled": cancelled}

    return walk(part, cursor, now, deps.orders.due_unpaid, cancel, deadline, {"cancelled": 0})


def _still(order_ids: list[str], status: OrderStatus, deps: Deps) -> list[Order]:
    """The orders of a page still in ``status`` (one consistent BatchGetItem), in page order."""
    found = deps.orders.get_many(order_ids)
    return [found[i] for i in order_ids if i in found and found[i].status is status]


def log_skip(step: str, order_id: str, exc: DomainError) -> None:
    from chalicelib.observability import logger

    logger().warning("order skipped", extra={"step": step, "order_id": order_id, "code": exc.code})


def confirm_parts(now: datetime, deps: Deps) -> list[str]:
    """Job ``auto_confirm`` (daily): the 16 shards of ``to_confirm`` over the last 30 days and today."""
    return day_parts(now, CONFIRM_LOOKBACK_DAYS)


def auto_confirm_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Walked:
    """Job ``auto_confirm``, one slice of a shard: complete the shipped orders whose confirmation
    is due (N days after shipping); once each (conditioned on shipped)."""

    def confirm_due(order_ids: list[str]) -> dict[str, int]:
        confirmed = 0
        for order in _still(order_ids, OrderStatus.SHIPPED, deps):
            try:
                confirm(order.order_id, None, deps)
            except DomainError as exc:  # refunded meanwhile, or contention: the next run sees it again
                log_skip("auto_confirm", order.order_id, exc)
                continue
            confirmed += 1
        return {"confirmed": confirmed}

    return walk(part, cursor, now, deps.orders.due_confirmation, confirm_due, deadline, {"confirmed": 0})
