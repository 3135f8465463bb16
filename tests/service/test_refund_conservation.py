"""The money of partial refunds, property-tested (issue 16): over random orders of two products,
shipments, receipts, partial refunds (random units, amounts, restocking), instant refunds before
shipment, settlement runs and month ends with their team bonuses,

* paid − refunded = cost + commissions kept + platform profit, each read from its own source:
  paid and refunded from WeChat Pay (the simulator), the cost from the stock that left the
  shelves, the payouts from the distributors' wallets, the platform's profit from the orders'
  records (what each kept of its payment, less the cost of its units gone, less its commissions);
* no commission is kept on a refunded unit: each commission holds the accrual on its order's
  units still paid, and what refunds took back (``reversed_fen``) is the rest of its accrual;
* each wallet is the sum of its ledger entries.

A hypothesis state machine on moto, through the services.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from chalicelib.domain.catalog import Product, share_of
from chalicelib.domain.clock import business_month
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.payouts import month_close
from chalicelib.domain.refunds import RefundLine, lines_paid_fen, refundable, refunded_units
from chalicelib.domain.tiers import Tier
from chalicelib.domain.wallet import balances_from
from chalicelib.jobs import run_job
from chalicelib.services import orders, payments
from chalicelib.services.refunds import partial_refund
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem
from tests.network import two_levels
from tests.service.moto_machine import MotoMachine
from tests.service.test_orders import ADDRESS
from tests.service.test_settlement import settle

STOCK = 10_000
# (id, cost, price, level 1 bp, level 2 bp): prices whose rates do not divide evenly, so floors show
PRODUCTS = (("p1", 1_500, 4_999, 2_000, 500), ("p2", 333, 1_777, 1_250, 330))
COST = {p: cost for p, cost, *_ in PRODUCTS}


class RefundMachine(MotoMachine):
    """Level 2 ``top`` above level 1 ``mid`` earn from one buyer's orders."""

    def __init__(self) -> None:
        super().__init__()
        self.orders: list[str] = []
        self.refund_count = 0

    @initialize()
    def network(self) -> None:
        d = self.deps
        for pid, cost, price, l1, l2 in PRODUCTS:
            d.products.put_if_absent(Product(pid, pid, "beauty", cost, price, STOCK, l1, l2), self.clock())
        self.top, self.mid, self.buyer = two_levels(d)

    def order(self, order_id: str) -> Order:
        order = self.deps.orders.get(order_id)
        assert order is not None
        return order

    # the mall ---------------------------------------------------------------------------------

    @rule(lines=st.lists(st.tuples(st.sampled_from(["p1", "p2"]), st.integers(1, 4)), min_size=1, max_size=2,
                         unique_by=lambda t: t[0]))
    def buy_and_pay(self, lines: list[tuple[str, int]]) -> None:
        d = self.deps
        body = {"items": [{"product_id": p, "quantity": q} for p, q in lines], "address": ADDRESS}
        order = orders.place_order(self.buyer, lines, body, uuid.uuid4().hex, d).order
        headers, raw = d.pay.build_payment_notification(  # type: ignore[attr-defined]
            order.order_id, self.clock(), amount_fen=order.amount_fen)
        assert payments.handle_notification(headers, raw, d).outcome == "paid"
        self.orders.append(order.order_id)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), confirm=st.booleans())
    def ship(self, data: st.DataObject, confirm: bool) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        status = self.order(order_id).status
        if status is OrderStatus.PAID:
            orders.ship(order_id, "SF", "SF1234567", self.deps)
        if confirm and status in (OrderStatus.PAID, OrderStatus.SHIPPED):
            orders.confirm(order_id, Caller(self.buyer, "user"), self.deps)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def refund_part(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        order = self.order(order_id)
        left = {key: units for key, units in refundable(order).items() if units}
        if order.status not in (OrderStatus.SHIPPED, OrderStatus.COMPLETED) or not left:
            return
        keys = data.draw(st.lists(st.sampled_from(sorted(left, key=str)), min_size=1, unique=True))
        lines = [RefundLine(p, data.draw(st.integers(1, left[(p, s)])), s) for p, s in keys]
        amount = data.draw(st.integers(0, lines_paid_fen(order, lines)))
        restock = [line for line in lines if data.draw(st.booleans())]
        self.refund_count += 1
        refund_no = f"case{self.refund_count}"
        partial_refund(order_id, refund_no, lines, amount, self.deps, reason="售后", restock=restock)
        if data.draw(st.booleans()):  # a retry of the same case changes nothing
            assert partial_refund(order_id, refund_no, lines, amount, self.deps, reason="售后").replayed

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def refund_before_shipment(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        status = self.order(order_id).status
        if status is OrderStatus.PAID:
            assert orders.refund(order_id, Caller(self.buyer, "user"), "不要了", self.deps).status is OrderStatus.REFUNDED
            return
        with pytest.raises(DomainError) as refused:
            orders.refund(order_id, Caller(self.buyer, "user"), "不要了", self.deps)
        shipped = status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED)
        assert refused.value.code == ("AFTER_SALES_REQUIRED" if shipped else "WRONG_ORDER_STATUS")

    @rule(days=st.integers(1, 4))
    def days_pass_and_settlement_runs(self, days: int) -> None:
        self.clock.advance(days=days)
        settle(self.clock(), self.deps)

    @rule()
    def a_month_ends_and_the_team_bonus_runs(self) -> None:
        """Both are partners of the month: the bonuses accrue, and later orders pay level 1 a
        partner's uplift (recorded on the share)."""
        month = business_month(self.clock())
        for user in (self.top, self.mid):
            tier = self.deps.users.get(user).tier  # type: ignore[union-attr]
            assert self.deps.users.set_tier(user, Tier.PARTNER, month, expected=tier, now=self.clock())
        self.clock.at = month_close(month) + timedelta(minutes=30)
        run_job("team_bonus", self.clock(), self.deps)

    # what must always hold ---------------------------------------------------------------------

    def wechat(self, order_id: str) -> tuple[int, int]:
        found = self.deps.pay._orders[order_id]  # type: ignore[attr-defined]
        return found.amount_fen, sum(fen for fen, _ in found.refunds.values())

    @invariant()
    def paid_less_refunded_is_cost_payouts_and_the_platforms_profit(self) -> None:
        if not hasattr(self, "top"):
            return
        d = self.deps
        paid = refunded = profit = 0
        for order_id in self.orders:
            order = self.order(order_id)
            wechat_paid, wechat_refunded = self.wechat(order_id)
            paid, refunded = paid + wechat_paid, refunded + wechat_refunded
            instant = order.status is OrderStatus.REFUNDED and not order.refunds
            kept_money = 0 if instant else order.amount_fen - order.refunded_fen
            assert wechat_paid - wechat_refunded == kept_money
            restocked = [0] * len(order.lines)
            for record in order.refunds:
                for index, units in record.restocked:
                    restocked[index] += units
            gone_cost = 0 if instant else sum(line.unit_cost_fen * (line.quantity - back)
                                              for line, back in zip(order.lines, restocked, strict=True))
            commissions = 0 if instant else sum(s.amount_fen for s in order.commissions)
            profit += kept_money - gone_cost - commissions
        bonuses = sum(int(i.amount_fen or 0) for u in (self.top, self.mid)
                      for i in LedgerItem.query(u, LedgerItem.sk.startswith("teambonus#")))
        profit -= bonuses
        cost = sum((STOCK - int(d.products.get(pid).stock or 0)) * COST[pid] for pid in COST)  # type: ignore[union-attr]
        payouts = sum(sum(d.ledger.wallet(u).values()) for u in (self.top, self.mid))
        assert paid - refunded == cost + payouts + profit

    @invariant()
    def no_commission_is_kept_on_a_refunded_unit(self) -> None:
        if not hasattr(self, "top"):
            return
        for order_id in self.orders:
            order = self.order(order_id)
            units = [line.quantity - done for line, done in zip(order.lines, refunded_units(order), strict=True)]
            for c in self.deps.ledger.commissions_of_order(order_id, [(s.user_id, s.level) for s in order.commissions]):
                share = next(s for s in order.commissions if (s.user_id, s.level) == (c.user_id, c.level))
                uplift = share.uplift_bp or 0
                rate = (lambda line, u=uplift: line.level1_rate_bp + u) if c.level == 1 \
                    else (lambda line: line.level2_rate_bp)
                accrued = sum(share_of(line.paid_fen, rate(line)) for line in order.lines)
                on_kept = sum(share_of(line.unit_price_fen * n, rate(line))
                              for line, n in zip(order.lines, units, strict=True))
                instant = order.status is OrderStatus.REFUNDED and not order.refunds
                assert c.amount_fen == (0 if instant else on_kept), (c, units)
                assert c.amount_fen + c.reversed_fen == accrued

    @invariant()
    def wallets_equal_their_ledgers(self) -> None:
        if not hasattr(self, "top"):
            return
        for user in (self.top, self.mid):
            assert self.deps.ledger.wallet(user) == balances_from(self.deps.settlement.entry_movements(user))


RefundMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=25, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
TestRefundConservation = RefundMachine.TestCase
