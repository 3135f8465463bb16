"""Orders and the transactions of the money path (checkout, payment, completion, refund,
cancellation). Each state change is one conditional TransactWriteItems across the orders,
products, users and ledger tables, so retries and concurrent callers never move money or stock
twice.

Items: ``order_id`` (the order) and ``"idem#<buyer>#<key>"`` (an Idempotency-Key claim, deleted
by TTL after a week). Sparse indexes keyed by due day and shard (``"<day>#<shard>"``, 16 shards a
day: no partition takes every order of a day) find work without scanning: ``unpaid`` (orders
awaiting payment, by their deadline) and ``to_confirm`` (shipped orders, by their
auto-confirmation time).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from pynamodb.attributes import NumberAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date, iso, previous_month
from chalicelib.domain.fulfilment import Lane, ReportState, ShippingReport, list_partition, report_partition, status_partition
from chalicelib.domain.invariants import present
from chalicelib.domain.invitations import Qualification
from chalicelib.domain.orders import Line, Order, OrderStatus, OutOfStock, RefundRecord, Share, due_partition, id_shard
from chalicelib.domain.payouts import team_bonus_refund_fen, team_sharers
from chalicelib.domain.pricing import Taking
from chalicelib.domain.promotions import Applied, Coupon, PromotionKind
from chalicelib.domain.tier_moves import TierMove
from chalicelib.domain.users import User
from chalicelib.store import order_lists, order_promotions
from chalicelib.store.audit import entry_put
from chalicelib.store.base import cause_code, decode_cursor, encode_cursor, paginate, transaction_failure
from chalicelib.store.ledger import (
    WALLET,
    CommissionStatus,
    LedgerItem,
    TeamBonus,
    bucket_attr,
    commission_key,
    entry_key,
    settle_index,
    team_bonus_key,
    team_sales_key,
    touch,
    unlist_settlement,
)
from chalicelib.store.order_items import OrderItem, OrderPart, TxPart, claim_item, due_page, idem_key
from chalicelib.store.products import ProductItem, cell_key, is_product, is_stock_id, stock_item, to_product
from chalicelib.store.promotions import COUPON, PromotionItem, coupon_pk, to_coupon
from chalicelib.store.promotions import table_name as coupon_table
from chalicelib.store.rewards import count_invitee
from chalicelib.store.users import PROFILE, UserItem, to_user, with_move


def _lines(item: OrderItem) -> list[Line]:
    return [Line(**line) for line in json.loads(item.lines_json or "[]")]


def _shares(item: OrderItem) -> list[Share]:
    return [Share(**share) for share in json.loads(item.commissions_json or "[]")]


def to_order(item: OrderItem) -> Order:
    return Order(
        order_id=item.order_id, buyer_id=present(item.buyer_id, "an order's buyer"),
        status=OrderStatus(present(item.status, "an order's status")), lines=_lines(item),
        amount_fen=int(item.amount_fen or 0), created_at=present(item.created_at, "an order's creation"),
        pay_deadline=present(item.pay_deadline, "an order's payment deadline"),
        upline=Upline(item.level1_id, item.level2_id), kind=item.kind or "normal", paid_at=item.paid_at,
        shipped_at=item.shipped_at, delivered_at=item.delivered_at, returned_at=item.returned_at,
        completed_at=item.completed_at, cancelled_at=item.cancelled_at,
        refunded_at=item.refunded_at, transaction_id=item.transaction_id, carrier=item.carrier,
        tracking_no=item.tracking_no, commissions=_shares(item), group_id=item.group_id,
        address=json.loads(item.address_json or "null") or None,
        takes={p: [(int(c), int(u)) for c, u in t] for p, t in json.loads(item.takes_json or "{}").items()},
        shipping_report=_report(item),
        rules_version=int(item.rules_version or 1),
        forfeited=tuple(json.loads(item.forfeited_json or "[]")),
        refunded_fen=int(item.refunded_fen or 0), refunds=_refunds(item),
        coupon_id=item.coupon_id, promotions=_applied(item),
        limited=tuple((p, int(u)) for p, u in json.loads(item.limited_json or "[]")),
    )


def _applied(item: OrderItem) -> tuple[Applied, ...]:
    return tuple(Applied(a["promotion_id"], PromotionKind(a["kind"]), int(a["discount_fen"]), int(a["gift_cost_fen"]),
                         a.get("coupon_id")) for a in json.loads(item.promotions_json or "[]"))


def _applied_json(applied: Sequence[Applied]) -> str | None:
    return json.dumps([{**a.__dict__, "kind": a.kind.value} for a in applied]) if applied else None


def _refunds(item: OrderItem) -> tuple[RefundRecord, ...]:
    return tuple(RefundRecord(r["refund_no"], int(r["amount_fen"]),
                              tuple((int(i), int(u), int(f)) for i, u, f in r["lines"]),
                              tuple((int(i), int(u)) for i, u in r["restocked"]), datetime.fromisoformat(r["at"]))
                 for r in json.loads(item.refunds_json or "[]"))


def _refunds_json(records: Sequence[RefundRecord]) -> str:
    return json.dumps([{"refund_no": r.refund_no, "amount_fen": r.amount_fen, "lines": r.lines,
                        "restocked": r.restocked, "at": r.at.isoformat()} for r in records])


def _report(item: OrderItem) -> ShippingReport | None:
    if not item.report_state:
        return None
    return ShippingReport(ReportState(item.report_state), int(item.report_attempts or 0), item.report_error,
                          item.reported_at, item.report_due)


def report_actions(order_id: str, report: ShippingReport) -> list[Any]:
    """A shipping report's attributes; pending and failed ones listed in the sparse ``ship_reports``."""
    actions: list[Any] = [OrderItem.report_state.set(report.state.value),
                          OrderItem.report_attempts.set(report.attempts)]
    actions.append(OrderItem.report_error.set(report.last_error) if report.last_error
                   else OrderItem.report_error.remove())
    actions.append(OrderItem.reported_at.set(report.reported_at) if report.reported_at
                   else OrderItem.reported_at.remove())
    actions.append(OrderItem.report_due.set(report.due_at) if report.due_at else OrderItem.report_due.remove())
    actions.append(OrderItem.report_key.remove() if report.state is ReportState.REPORTED
                   else OrderItem.report_key.set(report_partition(report.state, id_shard(order_id))))
    return actions


def _connection() -> Connection:
    return OrderItem._get_connection().connection


def _status_is(status: OrderStatus) -> Condition:
    return OrderItem.status == status.value


def _become(order: Order, status: OrderStatus) -> list[Any]:
    """A status change's actions: the status, and the admin list's ``by_status`` key with it."""
    return [OrderItem.status.set(status.value), OrderItem.status_day.set(status_key(order, status))]


def status_key(order: Order, status: OrderStatus) -> str:
    return status_partition(status.value, business_date(order.created_at), id_shard(order.order_id))


class CheckoutReads(NamedTuple):
    """What a checkout (or a quote) reads in one round trip."""

    buyer: User | None
    products: dict[str, Product]
    claim: tuple[str, str] | None
    coupon: Coupon | None = None


class OrderStore:
    """Repository of orders, and the transactions that move stock and money with them."""

    def checkout_reads(self, buyer_id: str, product_ids: list[str], key: str | None, sku_stocks: Sequence[str] = (),
                       coupon_id: str | None = None) -> CheckoutReads:
        """The buyer, the products, the stock of the SKUs the lines name (``sku_stocks``: their
        stock ids), the idempotency claim and the coupon named (promo-core's item, consistent) in
        one BatchGetItem across tables.
        Each product is read once however often the request names it (BatchGetItem refuses
        duplicated keys; the domain then refuses the duplicated lines with INVALID_ORDER).
        Products are read eventually consistent (half the read units; a flash-sale product's
        item takes up to 6,000 of these reads a second, 3,000 consistent ones): an edit reaches
        checkout within about a second, and stock is decided by the transaction's conditions.
        A split product comes without its stock (its cells are not read here)."""
        keys = [{"product_id": {"S": p}} for p in dict.fromkeys(product_ids) if is_product(p)]
        keys += [{"product_id": {"S": p}} for p in dict.fromkeys(sku_stocks) if is_stock_id(p) and not is_product(p)]
        request: dict[str, Any] = {
            UserItem.Meta.table_name: {"Keys": [{"pk": {"S": buyer_id}, "sk": {"S": PROFILE}}], "ConsistentRead": True},
        }
        if keys:
            request[ProductItem.Meta.table_name] = {"Keys": keys, "ConsistentRead": False}
        if key:
            request[OrderItem.Meta.table_name] = {"Keys": [{"order_id": {"S": idem_key(buyer_id, key)}}],
                                                  "ConsistentRead": True}
        if coupon_id:
            request[coupon_table()] = {"Keys": [{"pk": {"S": coupon_pk(coupon_id)}, "sk": {"S": COUPON}}],
                                       "ConsistentRead": True}
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in request}
        client = _connection().client
        for _ in range(10):
            answer = client.batch_get_item(RequestItems=request)
            for name, items in answer.get("Responses", {}).items():
                found[name] += items
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        users = [to_user(UserItem.from_raw_data(i)) for i in found[UserItem.Meta.table_name]]
        items = [ProductItem.from_raw_data(i) for i in found.get(ProductItem.Meta.table_name, [])]
        counts = {i.product_id: [int(i.stock or 0)] for i in items if i.sku_of}
        products = [to_product(i, counts) for i in items if not i.sku_of]
        claims = [OrderItem.from_raw_data(i) for i in found.get(OrderItem.Meta.table_name, [])]
        claim = (claims[0].request_hash or "", claims[0].claimed_order_id or "") if claims else None
        coupons = [to_coupon(PromotionItem.from_raw_data(i)) for i in found.get(coupon_table(), [])]
        return CheckoutReads((users[0] if users else None), {p.product_id: p for p in products}, claim,
                             coupons[0] if coupons else None)

    def get(self, order_id: str) -> Order | None:
        try:
            item = OrderItem.get(order_id, consistent_read=True)
        except OrderItem.DoesNotExist:
            return None
        return to_order(item) if item.status else None

    def claim(self, buyer_id: str, key: str) -> tuple[str, str] | None:
        """The (request hash, order id) an Idempotency-Key was first used with, if any."""
        try:
            item = OrderItem.get(idem_key(buyer_id, key), consistent_read=True)
        except OrderItem.DoesNotExist:
            return None
        return item.request_hash or "", item.claimed_order_id or ""

    def by_buyer(self, buyer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        return paginate(OrderItem.by_buyer, buyer_id, cursor, to_order, limit=limit, scan_index_forward=False)

    def get_many(self, order_ids: list[str]) -> dict[str, Order]:
        """Orders by id (consistent BatchGetItem, by 100); ids of no order are left out."""
        ids = list(dict.fromkeys(order_ids))
        items = OrderItem.batch_get(ids, consistent_read=True) if ids else []
        return {item.order_id: to_order(item) for item in items if item.status}

    def create(self, order: Order, idempotency: tuple[str, str] | None, address: dict[str, Any],
               extra: TxPart | None = None, taking: Taking | None = None) -> None:
        """Create the order, claim the idempotency key and reserve every line's stock, at once
        (with ``extra``: a group's seat). Each line's units come from the stock cells
        ``order.takes`` names (cell 0, the product item, by default), each take conditioned on
        its cell's count; the order records its takes, so a return goes back where they came from.
        With ``taking``, its promotions' parts too (store/order_promotions.py: the coupon, a
        loss leader's budget, the purchase counters), whose refusal raises the buyer's error
        (COUPON_NOT_USABLE, PROMOTION_BUDGET_SPENT, PURCHASE_LIMIT_REACHED).
        Raises OutOfStock (naming the first short line) when a line's take is refused;
        TransactionFailed for anything else (the key claimed or the seat taken meanwhile, a
        conflict): the caller reads again and decides again."""
        item = OrderItem(
            order.order_id, buyer_id=order.buyer_id, status=order.status.value, kind=order.kind,
            lines_json=json.dumps([line.__dict__ for line in order.lines]), amount_fen=order.amount_fen,
            level1_id=order.upline.level1, level2_id=order.upline.level2, created_at=order.created_at,
            created_key=f"{iso(order.created_at)}#{order.order_id}", pay_deadline=order.pay_deadline,
            day_shard=list_partition(business_date(order.created_at), id_shard(order.order_id)),
            status_day=status_key(order, order.status),
            unpaid_day=due_partition(business_date(order.pay_deadline), order.order_id),
            pay_deadline_key=f"{iso(order.pay_deadline)}#{order.order_id}",
            address_json=json.dumps(address, ensure_ascii=False), group_id=order.group_id,
            takes_json=json.dumps(order.takes, sort_keys=True) if order.takes else None,
            rules_version=order.rules_version, coupon_id=order.coupon_id,
            promotions_json=_applied_json(order.promotions),
            limited_json=json.dumps(order.limited) if order.limited else None)
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(item, condition=OrderItem.order_id.does_not_exist())
                if idempotency:
                    key, request_hash = idempotency
                    tx.save(claim_item(order.buyer_id, key, request_hash, order.order_id, order.created_at),
                            condition=OrderItem.order_id.does_not_exist())
                for line in order.lines:
                    for cell, units in order.takes_of(line):
                        tx.update(stock_item(line.stock_id, cell), actions=[ProductItem.stock.add(-units)],
                                  condition=ProductItem.stock >= units)
                if extra:
                    extra(tx)
                if taking:
                    order_promotions.take(tx, order, taking, order.created_at)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            refused = order_promotions.refusal(failure, order, taking) if taking else None
            if refused is not None:
                raise refused from exc
            for index, line in enumerate(order.lines):
                if any(failure.refused(ProductItem.Meta.table_name, product_id=cell_key(line.stock_id, cell))
                       for cell, _ in order.takes_of(line)):
                    raise OutOfStock("not enough stock", line=index, product_id=line.product_id,
                                     **({"sku_id": line.sku_id} if line.sku_id else {})) from exc
            raise failure from exc

    def mark_paid(self, order: Order, shares: list[Share], transaction_id: str, now: datetime,
                  buyer_paid_orders: int, level1_sales_month: str | None, month: str,
                  extra: TxPart | None = None, tier: TierMove | None = None,
                  frozen: Mapping[str, bool] | None = None) -> None:
        """Paid: the order's status, its commission entries with the payees' pending balances,
        the buyer's purchase counters and level 1's monthly referred sales with their tier move
        (``tier``: the upgrade the sales bring, or the guard that none is due), in one
        transaction (with ``extra``: a group order's seat, item 1).
        Conditioned on the order still awaiting payment: a replayed notification changes nothing;
        and on each upline's freeze as read (``frozen``, by user: the shares were decided on it;
        level 1's on its sales update, level 2's as a condition check), so a freeze racing the
        payment makes it read again: the order pays the commission or the platform, never half.
        The payees left out for a freeze are recorded on the order (``forfeited``)."""
        frozen = frozen or {}
        forfeited = [user_id for user_id, is_frozen in frozen.items() if is_frozen]
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(OrderItem(order.order_id), actions=[
                    *_become(order, OrderStatus.PAID), OrderItem.paid_at.set(now),
                    OrderItem.transaction_id.set(transaction_id),
                    OrderItem.commissions_json.set(json.dumps([s.__dict__ for s in shares])),
                    OrderItem.unpaid_day.remove(), OrderItem.pay_deadline_key.remove(),
                    *([OrderItem.forfeited_json.set(json.dumps(forfeited))] if forfeited else []),
                ], condition=_status_is(OrderStatus.PENDING_PAYMENT))
                if extra:
                    extra(tx)
                for share in shares:
                    _move(tx, share, order.order_id, "accrual", None, "pending", now,
                          new_status=CommissionStatus.PENDING)
                buyer_actions: list[Any] = [UserItem.paid_order_count.add(1), UserItem.spent_fen.add(order.amount_fen)]
                buyer_condition = _count_is(UserItem.paid_order_count, buyer_paid_orders)
                level1 = order.upline.level1
                if level1:
                    sales, sales_condition = with_move(tx, tier, _add_sales(level1_sales_month, month, order.amount_fen),
                                                       _sales_month_is(level1_sales_month) & _frozen_is(frozen, level1),
                                                       now)
                    if level1 == order.buyer_id:  # self-purchase: one item, one update
                        buyer_actions += sales
                        buyer_condition &= sales_condition
                    else:
                        tx.update(UserItem(level1, PROFILE), actions=sales, condition=sales_condition)
                tx.update(UserItem(order.buyer_id, PROFILE), actions=buyer_actions, condition=buyer_condition)
                level2 = order.upline.level2
                if level1 and level2 and level2 in frozen:
                    tx.condition_check(UserItem, level2, PROFILE, condition=_frozen_is(frozen, level2))
                _team_sales(tx, order, month, order.amount_fen)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def cancel(self, order: Order, now: datetime) -> None:
        """Unpaid past its deadline: cancelled, and its stock returns (and a group order's seat is
        released); once."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(OrderItem(order.order_id), actions=[
                    *_become(order, OrderStatus.CANCELLED), OrderItem.cancelled_at.set(now),
                    OrderItem.unpaid_day.remove(), OrderItem.pay_deadline_key.remove(),
                ], condition=_status_is(OrderStatus.PENDING_PAYMENT))
                _return_stock(tx, order)
                order_promotions.give_back(tx, order)
                if order.group_id:
                    from chalicelib.store.groups import release_seat

                    release_seat(tx, order)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def ship(self, order: Order, carrier: str, tracking_no: str, now: datetime, confirm_due: datetime,
             report: ShippingReport, entry: AuditEntry, extra: TxPart | None = None) -> None:
        """Shipped, with its WeChat shipping report pending (listed for the retry job) and the
        operator's audit entry, in one transaction conditioned on the order still paid: of two
        operators shipping it at once, one commits and the other reads it shipped. ``extra``: the
        parcel's tracking (store/tracking.py), written with it."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(OrderItem(order.order_id), actions=[
                    *_become(order, OrderStatus.SHIPPED), OrderItem.shipped_at.set(now),
                    OrderItem.carrier.set(carrier), OrderItem.tracking_no.set(tracking_no),
                    OrderItem.confirm_day.set(due_partition(business_date(confirm_due), order.order_id)),
                    OrderItem.confirm_due_key.set(f"{iso(confirm_due)}#{order.order_id}"),
                    *report_actions(order.order_id, report),
                ], condition=_status_is(OrderStatus.PAID))
                entry_put(tx, entry)
                if extra:
                    extra(tx)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def record_report(self, order_id: str, report: ShippingReport, attempts_read: int) -> bool:
        """One more report attempt's outcome, conditioned on the attempts read (two reporters of
        the same shipment never both count); False when another one recorded first."""
        try:
            OrderItem(order_id).update(actions=report_actions(order_id, report),
                                       condition=OrderItem.report_attempts == attempts_read)
        except UpdateError as exc:
            if cause_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def complete(self, order: Order, now: datetime, available_at: datetime,
                 qualified: tuple[str, Qualification] | None) -> None:
        """Completed: commissions move from pending to frozen (the T+N clock starts); the buyer's
        first completed order qualifies them for their inviter's invitation ladder (``qualified``:
        the inviter and what counting them does: the milestones reached are recorded, and their
        cash credited, here). Each wallet is written once with the sum of its movements."""
        wallets: dict[str, dict[str, int]] = {}
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(OrderItem(order.order_id), actions=[
                    *_become(order, OrderStatus.COMPLETED), OrderItem.completed_at.set(now),
                    OrderItem.confirm_day.remove(), OrderItem.confirm_due_key.remove(),
                ], condition=_status_is(OrderStatus.SHIPPED))
                for share in order.commissions:
                    _move(tx, share, order.order_id, "completion", "pending", "frozen", now,
                          new_status=CommissionStatus.FROZEN, expected=CommissionStatus.PENDING,
                          available_at=available_at, wallets=wallets)
                if qualified:
                    inviter_id, qualification = qualified
                    cash = count_invitee(tx, inviter_id, qualification, now)
                    if cash:
                        _add_to(wallets, inviter_id, None, "available", cash)
                    tx.update(UserItem(order.buyer_id, PROFILE), actions=[UserItem.qualified_at.set(now)],
                              condition=UserItem.qualified_at.does_not_exist())
                _write_wallets(tx, wallets, now)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def refund(self, order: Order, statuses: dict[tuple[str, int], CommissionStatus], now: datetime,
               return_stock: bool, level1_sales_month: str | None, paid_month: str,
               bonuses: dict[str, TeamBonus] | None = None) -> None:
        """Refunded: stock back where unshipped; commission not yet settled reversed, commission
        already settled clawed back from the available balance (which may go negative); the
        refund day's counters (analytics) in the same transaction, so a retry after a crash or a
        timeout, which finds the order refunded, needs to count nothing.
        The team sales of the paid month go down for level 1 and level 2; where a sharer's bonus
        of that month has accrued (``bonuses``, as read), the order's share of it is reversed from
        pending or clawed back from available, conditioned on the status read; where none was
        read, conditioned on none having accrued since (the accrual reads the sales)."""
        from chalicelib.store.analytics import count_in

        wallets: dict[str, dict[str, int]] = {}
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(OrderItem(order.order_id), actions=[
                    *_become(order, OrderStatus.REFUNDED), OrderItem.refunded_at.set(now),
                    OrderItem.confirm_day.remove(), OrderItem.confirm_due_key.remove(),
                ], condition=_status_is(order.status))
                if return_stock:
                    _return_stock(tx, order)
                if order.status is OrderStatus.PAID:  # before shipment: the coupon and the limits come back
                    order_promotions.give_back(tx, order)
                for share in order.commissions:
                    status = statuses[(share.user_id, share.level)]
                    if status is CommissionStatus.AVAILABLE:
                        _move(tx, share, order.order_id, "clawback", "available", None, now,
                              new_status=CommissionStatus.CLAWED_BACK, expected=status, wallets=wallets)
                    elif status in (CommissionStatus.PENDING, CommissionStatus.FROZEN):
                        _move(tx, share, order.order_id, "reversal", status.value, None, now,
                              new_status=CommissionStatus.REVERSED, expected=status, wallets=wallets)
                _level1_sales(tx, order, level1_sales_month, paid_month, -order.amount_fen)
                _team_sales(tx, order, paid_month, -order.amount_fen, bonuses or {})
                _take_back_team_bonuses(tx, order, bonuses or {}, now, wallets)
                _write_wallets(tx, wallets, now)
                count_in(tx, business_date(now), {"refunds": 1, "refunded_fen": order.amount_fen,
                                                  "refunded_cost_fen": sum(line.cost_fen for line in order.lines)})
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def refund_part(self, order: Order, record: RefundRecord, kept: list[Share], fully: bool,
                    statuses: dict[tuple[str, int], CommissionStatus], now: datetime,
                    level1_sales_month: str | None, paid_month: str, bonuses: dict[str, TeamBonus],
                    part: OrderPart | None = None, extra: TxPart | None = None) -> None:
        """An after-sales refund (domain/refunds.py), in one transaction conditioned on the order's
        status and refund count as read (``order``): the order's refunded amount and record (its
        number: a replay finds it and writes nothing), its commissions as kept (``kept``: the
        accrual on the units still paid), ``refunded`` once every unit is (``fully``); the
        restocked units back in their line's first cell; each commission's difference reversed
        (pending, frozen) or clawed back (available) with an entry named by the refund number,
        conditioned on its status and amount as read (a settlement racing it: read again); the
        paid month's team sales, level 1's month sales and the accrued team bonuses lose the
        amount; the refund day's counters. With ``part`` (actions and a condition on the order
        item) and ``extra`` (more items), the caller's own change commits with the money."""
        from chalicelib.store.analytics import count_in

        wallets: dict[str, dict[str, int]] = {}
        actions: list[Any] = [
            OrderItem.refunded_fen.add(record.amount_fen), OrderItem.refund_count.add(1),
            OrderItem.refunds_json.set(_refunds_json([*order.refunds, record])),
            OrderItem.commissions_json.set(json.dumps([s.__dict__ for s in kept]))]
        if fully:
            actions += [*_become(order, OrderStatus.REFUNDED), OrderItem.refunded_at.set(now),
                        OrderItem.confirm_day.remove(), OrderItem.confirm_due_key.remove()]
        condition = _status_is(order.status) & _count_is(OrderItem.refund_count, len(order.refunds))
        if part:
            actions += part.actions
            condition = condition & part.condition if part.condition is not None else condition
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(OrderItem(order.order_id), actions=actions, condition=condition)
                for index, units in record.restocked:
                    line = order.lines[index]
                    tx.update(stock_item(line.stock_id, order.takes_of(line)[0][0]),
                              actions=[ProductItem.stock.add(units)])
                for before, after in zip(order.commissions, kept, strict=True):
                    _reverse_part(tx, order.order_id, before, after.amount_fen, statuses[(before.user_id, before.level)],
                                  fully, record.refund_no, now, wallets)
                _level1_sales(tx, order, level1_sales_month, paid_month, -record.amount_fen)
                _team_sales(tx, order, paid_month, -record.amount_fen, bonuses)
                _take_back_team_bonuses(tx, order, bonuses, now, wallets, record.amount_fen, f"#{record.refund_no}")
                _write_wallets(tx, wallets, now)
                count_in(tx, business_date(now), {
                    "refunds": 1 if fully else 0, "refunded_fen": record.amount_fen,
                    "refunded_cost_fen": sum(order.lines[i].unit_cost_fen * u for i, u in record.restocked)})
                if extra:
                    extra(tx)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def lane_keys(self, lane: Lane, after: str | None, limit: int) -> list[str]:
        """The admin list's read of one index partition (store/order_lists.py): one Query."""
        return order_lists.lane_keys(lane, after, limit)

    def due_reports(self, shard: str, now: datetime, cursor: str | None, limit: int
                    ) -> tuple[list[str], str | None]:
        """A page of a shard's pending shipping reports due by ``now``: their order ids and the
        next page's cursor."""
        ids, after = order_lists.due_reports(shard, now, decode_cursor(cursor), limit)
        return ids, encode_cursor(after)

    def due_unpaid(self, partition: str, now: datetime, cursor: str | None = None, limit: int = 100
                   ) -> tuple[list[str], str | None]:
        """A page of the orders of one ``unpaid`` partition (``"<day>#<shard>"``) whose deadline
        passed by ``now``, and the cursor of the next page (None: the partition is done)."""
        return due_page(OrderItem.unpaid, OrderItem.pay_deadline_key, partition, now, cursor, limit)

    def due_confirmation(self, partition: str, now: datetime, cursor: str | None = None, limit: int = 100
                         ) -> tuple[list[str], str | None]:
        """A page of one ``to_confirm`` partition's orders due for confirmation by ``now``."""
        return due_page(OrderItem.to_confirm, OrderItem.confirm_due_key, partition, now, cursor, limit)


def _return_stock(tx: TransactWrite, order: Order) -> None:
    """Every line's units back into the cells (of its product or SKU) they were taken from
    (cells and SKU stock items are never deleted)."""
    for line in order.lines:
        for cell, units in order.takes_of(line):
            tx.update(stock_item(line.stock_id, cell), actions=[ProductItem.stock.add(units)])


def _move(tx: TransactWrite, share: Share, order_id: str, kind: str, source: str | None, target: str | None,
          now: datetime, new_status: CommissionStatus, expected: CommissionStatus | None = None,
          available_at: datetime | None = None, wallets: dict[str, dict[str, int]] | None = None) -> None:
    """One commission movement: its status, the wallet balances and the entry explaining it.
    With ``wallets``, the balance change is added there, for one update per wallet later (a
    transaction may not touch an item twice: a refund also takes back team bonuses)."""
    commission = LedgerItem(share.user_id, commission_key(order_id, share.level))
    if expected is None:
        commission = LedgerItem(share.user_id, commission_key(order_id, share.level), order_id=order_id,
                                level=share.level, amount_fen=share.amount_fen, status=new_status.value, at=now)
        tx.save(commission, condition=LedgerItem.sk.does_not_exist())
    else:
        actions: list[Any] = [LedgerItem.status.set(new_status.value)]
        if available_at is not None:  # frozen: listed for settlement on its day
            actions.append(LedgerItem.available_at.set(available_at))
            actions += settle_index(share.user_id, order_id, share.level, available_at)
        else:
            actions += unlist_settlement()
        tx.update(commission, actions=actions, condition=LedgerItem.status == expected.value)
    if wallets is not None:
        _add_to(wallets, share.user_id, source, target, share.amount_fen)
    else:
        balance: list[Any] = [touch(share.user_id, now)]
        if source:
            balance.append(bucket_attr(source).add(-share.amount_fen))
        if target:
            balance.append(bucket_attr(target).add(share.amount_fen))
        tx.update(LedgerItem(share.user_id, WALLET), actions=balance)
    tx.save(LedgerItem(share.user_id, entry_key(order_id, share.level, kind), order_id=order_id, level=share.level,
                       amount_fen=share.amount_fen, kind=kind, at=now, status=f"{source or '-'}>{target or '-'}"),
            condition=LedgerItem.sk.does_not_exist())


def _reverse_part(tx: TransactWrite, order_id: str, share: Share, kept_fen: int, status: CommissionStatus,
                  final: bool, refund_no: str, now: datetime, wallets: dict[str, dict[str, int]]) -> None:
    """A commission down to ``kept_fen`` after a refund: the difference reversed from pending or
    frozen, or clawed back from available (``reversed_fen`` counts it), with the entry
    ``entry#<order>#<level>#<reversal|clawback>#<refund number>``; conditioned on the status and
    amount read. ``final`` (every unit refunded): the commission ends reversed or clawed back."""
    if status not in (CommissionStatus.PENDING, CommissionStatus.FROZEN, CommissionStatus.AVAILABLE):
        return  # reversed with the whole order already: nothing left to take
    fen = share.amount_fen - kept_fen
    if fen == 0 and not final:
        return
    clawback = status is CommissionStatus.AVAILABLE
    actions: list[Any] = [LedgerItem.amount_fen.add(-fen), LedgerItem.reversed_fen.add(fen)]
    if final:
        ended = CommissionStatus.CLAWED_BACK if clawback else CommissionStatus.REVERSED
        actions += [LedgerItem.status.set(ended.value), *unlist_settlement()]
    tx.update(LedgerItem(share.user_id, commission_key(order_id, share.level)), actions=actions,
              condition=(LedgerItem.status == status.value) & (LedgerItem.amount_fen == share.amount_fen))
    if fen == 0:
        return
    kind = "clawback" if clawback else "reversal"
    tx.save(LedgerItem(share.user_id, entry_key(order_id, share.level, f"{kind}#{refund_no}"), order_id=order_id,
                       level=share.level, amount_fen=fen, kind=kind, at=now, status=f"{status.value}>-"),
            condition=LedgerItem.sk.does_not_exist())
    _add_to(wallets, share.user_id, status.value, None, fen)


def _level1_sales(tx: TransactWrite, order: Order, level1_sales_month: str | None, paid_month: str,
                  fen: int) -> None:
    """Level 1's month sales (the leaderboard's, the tier's) of the paid month move by ``fen``
    while that month is the current or the previous one of its counters."""
    if order.upline.level1 and level1_sales_month in (paid_month, _next_month(paid_month)):
        attr = UserItem.month_sales_fen if level1_sales_month == paid_month else UserItem.previous_month_sales_fen
        tx.update(UserItem(order.upline.level1, PROFILE), actions=[attr.add(fen)],
                  condition=_sales_month_is(level1_sales_month))


def _team_sales(tx: TransactWrite, order: Order, month: str, fen: int,
                accrued: dict[str, TeamBonus] | None = None) -> None:
    """The team sales of ``month`` (the team bonus's base) of whoever the domain says shares in
    the order's (``payouts.team_sharers``) move by ``fen``. With ``accrued`` (a refund: the
    bonuses read), a sharer without a bonus read is conditioned on none having accrued since
    (the bonus item still absent; a month paid before bonuses had their own item has none, and
    its refunds take nothing back, as then)."""
    for user_id in team_sharers(order.upline):
        tx.update(LedgerItem(user_id, team_sales_key(month)), actions=[LedgerItem.amount_fen.add(fen)])
        if accrued is not None and user_id not in accrued:
            tx.condition_check(LedgerItem, user_id, team_bonus_key(month), condition=LedgerItem.sk.does_not_exist())


def _take_back_team_bonuses(tx: TransactWrite, order: Order, bonuses: dict[str, TeamBonus], now: datetime,
                            wallets: dict[str, dict[str, int]], refunded_fen: int | None = None,
                            tag: str = "") -> None:
    """A refund's share (``refunded_fen``: the whole order by default) of each accrued team bonus
    of the order's month: reversed from pending, or clawed back from available (which may go
    negative, like a commission's clawback), with the entry explaining it (its kind followed by
    ``tag``: a partial refund's number); conditioned on the bonus's status as read (settlement
    racing it)."""
    for user_id in team_sharers(order.upline):
        bonus = bonuses.get(user_id)
        if bonus is None:
            continue
        fen = team_bonus_refund_fen(order.amount_fen if refunded_fen is None else refunded_fen, bonus.rate_bp,
                                    bonus.amount_fen)
        if fen == 0:
            continue
        kind = "team_bonus_clawback" if bonus.status is CommissionStatus.AVAILABLE else "team_bonus_reversal"
        tx.update(LedgerItem(user_id, team_bonus_key(bonus.month)), actions=[LedgerItem.amount_fen.add(-fen)],
                  condition=LedgerItem.status == bonus.status.value)
        tx.save(LedgerItem(user_id, entry_key(order.order_id, 0, kind + tag), order_id=order.order_id, level=0,
                           amount_fen=fen, kind=kind, at=now, status=f"{bonus.status.value}>-"),
                condition=LedgerItem.sk.does_not_exist())
        _add_to(wallets, user_id, bonus.status.value, None, fen)


def _add_to(wallets: dict[str, dict[str, int]], user_id: str, source: str | None, target: str | None,
            fen: int) -> None:
    balances = wallets.setdefault(user_id, {})
    if source:
        balances[source] = balances.get(source, 0) - fen
    if target:
        balances[target] = balances.get(target, 0) + fen


def _write_wallets(tx: TransactWrite, wallets: dict[str, dict[str, int]], now: datetime) -> None:
    """One update per wallet with the sum of its movements in this transaction."""
    for user_id, balances in wallets.items():
        tx.update(LedgerItem(user_id, WALLET),
                  actions=[touch(user_id, now), *(bucket_attr(b).add(fen) for b, fen in balances.items())])


def _frozen_is(frozen: Mapping[str, bool], user_id: str) -> Condition:
    """The user's freeze is as read (frozen or not); no condition for a user not read."""
    if user_id not in frozen:
        return UserItem.created_at.exists()
    return UserItem.frozen_at.exists() if frozen[user_id] else UserItem.frozen_at.does_not_exist()


def _count_is(attr: NumberAttribute, value: int) -> Condition:
    return (attr.does_not_exist() | (attr == 0)) if value == 0 else (attr == value)


def _sales_month_is(month: str | None) -> Condition:
    return UserItem.sales_month.does_not_exist() if month is None else UserItem.sales_month == month


def _next_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"


def _add_sales(observed: str | None, month: str, fen: int) -> list[Any]:
    """Add referred sales to ``month``, rolling the two monthly counters over when it is new."""
    if observed == month:
        return [UserItem.month_sales_fen.add(fen)]
    previous = UserItem.previous_month_sales_fen.set(UserItem.month_sales_fen) \
        if observed == previous_month(month) else UserItem.previous_month_sales_fen.set(0)
    return [UserItem.sales_month.set(month), UserItem.month_sales_fen.set(fen), previous]
