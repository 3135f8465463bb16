"""The money and stock invariants a load test checks at its end, read straight from the tables.

* every order: paid = cost + commissions + platform profit, the profit never negative; its
  commissions go to its own level 1 and level 2 only (never a third level);
* every commission of an order is present once, in the status the order's own status implies,
  with exactly the ledger entries its history implies (one accrual, at most one of each other kind);
* every wallet equals the sum of its ledger entries (``domain/wallet.py::balances_from``) and the
  sum of its commissions by status; no bucket is negative, except ``available`` of a wallet that
  had a clawback;
* stock never negative, and equal to the initial stock minus the units still sold;
* the counters a payment moves (the buyer's paid orders and spending, level 1's monthly sales,
  the team sales of level 1 and 2) moved once per payment and back once per refund.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib.bootstrap import Deps
from chalicelib.domain.clock import business_month
from chalicelib.domain.orders import Order, OrderStatus, breakdown
from chalicelib.domain.wallet import BUCKETS, balances_from
from chalicelib.store.ledger import LedgerItem, team_sales_key
from chalicelib.store.order_items import OrderItem
from chalicelib.store.orders import to_order

# What a commission's status says about the order it belongs to, and the entries it must have.
COMMISSION_OF_ORDER = {
    OrderStatus.PAID: {"pending"},
    OrderStatus.SHIPPED: {"pending"},
    OrderStatus.COMPLETED: {"frozen", "available"},
    OrderStatus.REFUNDED: {"reversed", "clawed_back"},
}
ENTRIES_OF_STATUS = {
    "pending": [{"accrual"}],
    "frozen": [{"accrual", "completion"}],
    "available": [{"accrual", "completion", "settlement"}],
    "reversed": [{"accrual", "reversal"}, {"accrual", "completion", "reversal"}],
    "clawed_back": [{"accrual", "completion", "settlement", "clawback"}],
}
BUCKET_OF_STATUS = {"pending": "pending", "frozen": "frozen", "available": "available"}


@dataclass
class Report:
    """What the checks counted, for the test's own assertions and its printout."""

    orders: Counter[str] = field(default_factory=Counter)
    commissions: Counter[str] = field(default_factory=Counter)
    payees: int = 0
    paid_fen: int = 0
    commission_fen: int = 0
    profit_fen: int = 0
    clawed_back_wallets: int = 0


def orders_of(buyers: Iterable[str]) -> list[Order]:
    """Every order of these buyers (one scan of the orders table, consistent)."""
    wanted = set(buyers)
    return [to_order(item) for item in OrderItem.scan(consistent_read=True)
            if item.buyer_id in wanted and item.status and not item.order_id.startswith(("idem#", "group#"))]


def _commission_items(user_id: str) -> list[LedgerItem]:
    return list(LedgerItem.query(user_id, LedgerItem.sk.startswith("commission#"), consistent_read=True))


def _entry_items(user_id: str) -> list[LedgerItem]:
    return list(LedgerItem.query(user_id, LedgerItem.sk.startswith("entry#"), consistent_read=True))


def check_orders(orders: list[Order], report: Report) -> dict[tuple[str, str, int], int]:
    """Money per order and who it pays; returns the expected commissions (user, order, level) → fen."""
    expected: dict[tuple[str, str, int], int] = {}
    for order in orders:
        report.orders[order.status.value] += 1
        split = breakdown(order.lines, order.commissions)
        assert split.paid_fen == order.amount_fen, order
        assert split.platform_profit_fen >= 0, (order.order_id, split)
        if order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED):
            assert order.commissions == [] and order.paid_at is None, order
            continue
        report.paid_fen += split.paid_fen
        report.commission_fen += split.commission_fen
        report.profit_fen += split.platform_profit_fen
        for share in order.commissions:
            allowed = {1: order.upline.level1, 2: order.upline.level2}
            assert share.level in allowed and share.user_id == allowed[share.level], (order.order_id, share)
            assert (share.user_id, order.order_id, share.level) not in expected
            expected[(share.user_id, order.order_id, share.level)] = share.amount_fen
    return expected


def check_ledgers(deps: Deps, orders: list[Order], expected: dict[tuple[str, str, int], int], payees: Iterable[str],
                  report: Report, other_movements: bool = False) -> None:
    """Every commission present once and in its order's status, with its entries; every wallet
    equal to its entries and (without ``other_movements``: withdrawals, rewards) its commissions."""
    status_of = {o.order_id: o.status for o in orders}
    found: set[tuple[str, str, int]] = set()
    for user_id in set(payees):
        report.payees += 1
        entries: dict[tuple[str, int], set[str]] = defaultdict(set)
        entry_count: Counter[tuple[str, int, str]] = Counter()
        for e in _entry_items(user_id):
            entries[(e.order_id or "", int(e.level or 0))].add(e.kind or "")
            entry_count[(e.order_id or "", int(e.level or 0), e.kind or "")] += 1
        assert max(entry_count.values(), default=1) == 1, entry_count.most_common(3)
        from_commissions = dict.fromkeys(BUCKETS, 0)
        for item in _commission_items(user_id):
            key = (user_id, item.order_id or "", int(item.level or 0))
            if item.order_id not in status_of:
                continue  # an order of someone outside this test
            assert key in expected and int(item.amount_fen or 0) == expected[key], key
            status = item.status or ""
            report.commissions[status] += 1
            assert status in COMMISSION_OF_ORDER[status_of[key[1]]], (key, status, status_of[key[1]])
            assert entries[(key[1], key[2])] in ENTRIES_OF_STATUS[status], (key, status, entries[(key[1], key[2])])
            if status in BUCKET_OF_STATUS:
                from_commissions[BUCKET_OF_STATUS[status]] += expected[key]
            found.add(key)
        wallet = deps.ledger.wallet(user_id)
        assert wallet == balances_from(deps.settlement.entry_movements(user_id)), user_id
        clawed = any("clawback" in kinds for kinds in entries.values())
        report.clawed_back_wallets += clawed
        assert all(wallet[b] >= 0 for b in BUCKETS if b != "available"), (user_id, wallet)
        assert wallet["available"] >= 0 or clawed, (user_id, wallet)
        if not other_movements:
            assert wallet == from_commissions, (user_id, wallet, from_commissions)
    assert found == set(expected), sorted(set(expected) - found)[:5]


def check_stock(deps: Deps, product_id: str, initial: int, orders: list[Order]) -> int:
    """Stock = initial − units of orders that still hold them (cancelled orders and refunds
    before shipping gave theirs back); never negative. Returns the units sold."""
    held = 0
    for order in orders:
        returned = order.status is OrderStatus.CANCELLED or (
            order.status is OrderStatus.REFUNDED and order.shipped_at is None)
        if not returned:
            held += sum(line.quantity for line in order.lines if line.product_id == product_id)
    product = deps.products.get(product_id)
    assert product is not None
    assert product.stock >= 0 and product.stock == initial - held, (product.stock, initial, held)
    return held


def check_counters(deps: Deps, orders: list[Order]) -> None:
    """Each payment counted once on the buyer, on level 1's monthly sales and on both levels'
    team sales; each refund taken back once."""
    paid = [o for o in orders if o.paid_at is not None]
    per_buyer: Counter[str] = Counter(o.buyer_id for o in paid)
    spent: Counter[str] = Counter()
    month_sales: Counter[tuple[str, str]] = Counter()
    team: Counter[tuple[str, str]] = Counter()
    for order in paid:
        assert order.paid_at is not None
        spent[order.buyer_id] += order.amount_fen
        kept = 0 if order.status is OrderStatus.REFUNDED else order.amount_fen
        month = business_month(order.paid_at)
        if order.upline.level1:
            month_sales[(order.upline.level1, month)] += kept
        for user_id in {u for u in (order.upline.level1, order.upline.level2) if u}:
            team[(user_id, month)] += kept
    for buyer, count in per_buyer.items():
        member = deps.users.get(buyer)
        assert member is not None
        assert (member.member.paid_order_count, member.member.spent_fen) == (count, spent[buyer]), buyer
    for (user_id, month), fen in month_sales.items():
        user = deps.users.get(user_id)
        assert user is not None and user.sales.of(month) == fen, (user_id, month, user.sales if user else None, fen)
    for (user_id, month), fen in team.items():
        try:
            item = LedgerItem.get(user_id, team_sales_key(month), consistent_read=True)
            stored = int(item.amount_fen or 0)
        except LedgerItem.DoesNotExist:
            stored = 0
        assert stored == fen, (user_id, month, stored, fen)
