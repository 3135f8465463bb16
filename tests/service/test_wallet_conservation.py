"""The conservation test (issue 5): random sequences of orders, completions, refunds,
settlements, month ends with their team bonuses, withdrawals and transfer outcomes never break
"each wallet = the sum of its ledger entries", and no balance goes below zero except
``available`` by a clawback; each team bonus is what accrued less what refunds took back.

A hypothesis state machine on moto, through the services as the HTTP layer calls them.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from chalicelib.bootstrap import set_default_deps
from chalicelib.config import WithdrawalRules
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_month
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.payouts import month_close
from chalicelib.domain.tiers import Tier
from chalicelib.domain.wallet import balances_from
from chalicelib.domain.withdrawals import Withdrawal, WithdrawalStatus
from chalicelib.jobs import run_job
from chalicelib.services import identity, orders, payments, withdrawals
from chalicelib.services.sessions import Caller
from tests.network import two_levels
from tests.refunds import refund_whole
from tests.service.moto_machine import MotoMachine
from tests.service.test_orders import ADDRESS
from tests.service.test_settlement import settle
from tests.service.test_withdrawals import id_number

NON_NEGATIVE = ("pending", "frozen", "withdrawing", "withdrawn")


class WalletMachine(MotoMachine):
    """Two distributors (level 2 ``top`` above level 1 ``mid``) earn from one buyer's orders."""

    def __init__(self) -> None:
        super().__init__()
        rules = self.deps.settings.rules.model_copy(
            update={"withdrawals": WithdrawalRules(minimum_fen=100, daily_count=50, review_above_fen=2_500)})
        self.deps.settings = self.deps.settings.model_copy(update={"rules": rules})
        set_default_deps(self.deps)
        self.orders: list[str] = []
        self.withdrawals: list[Withdrawal] = []

    @initialize()
    def network(self) -> None:
        d = self.deps
        d.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 10_000, 2_000, 500), self.clock())
        self.top, self.mid, self.buyer = two_levels(d)
        for n, user in enumerate((self.top, self.mid), start=1):
            identity.verify_real_name(user, "王五", id_number(n), d)

    # the mall ---------------------------------------------------------------------------------

    @rule(quantity=st.integers(1, 3))
    def buy_and_pay(self, quantity: int) -> None:
        d = self.deps
        body = {"items": [{"product_id": "p1", "quantity": quantity}], "address": ADDRESS}
        order = orders.place_order(self.buyer, [("p1", quantity)], body, uuid.uuid4().hex, d).order
        headers, raw = d.pay.build_payment_notification(  # type: ignore[attr-defined]
            order.order_id, self.clock(), amount_fen=order.amount_fen)
        assert payments.handle_notification(headers, raw, d).outcome == "paid"
        self.orders.append(order.order_id)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        if self.deps.orders.get(order_id).status is OrderStatus.PAID:  # type: ignore[union-attr]
            orders.ship(order_id, "SF", "SF1234567", self.deps)
            orders.confirm(order_id, Caller(self.buyer, "user"), self.deps)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        status = self.deps.orders.get(order_id).status  # type: ignore[union-attr]
        if status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):  # after shipment: a case refunds it whole
            refund_whole(order_id, self.deps)
            return
        try:
            orders.refund(order_id, Caller(self.buyer, "user"), "不要了", self.deps)
        except DomainError:
            pass  # refunded already

    @rule(days=st.integers(1, 4))
    def days_pass_and_settlement_runs(self, days: int) -> None:
        self.clock.advance(days=days)
        settle(self.clock(), self.deps)

    @rule()
    def a_month_ends_and_the_team_bonus_runs(self) -> None:
        """Both are partners of the month (level 1 and level 2 each earn the bonus); the month
        closes and its bonuses accrue into pending, for settlement and later refunds to move."""
        month = business_month(self.clock())
        for user in (self.top, self.mid):
            tier = self.deps.users.get(user).tier
            assert self.deps.users.set_tier(user, Tier.PARTNER, month, expected=tier, now=self.clock())
        self.clock.at = month_close(month) + timedelta(minutes=30)
        run_job("team_bonus", self.clock(), self.deps)

    # the distributors' money ------------------------------------------------------------------

    @rule(who=st.sampled_from(["top", "mid"]), amount=st.integers(50, 6_000), key=st.sampled_from("abcdef"))
    def withdraw(self, who: str, amount: int, key: str) -> None:
        user = getattr(self, who)
        available = self.deps.ledger.wallet(user)["available"]
        try:
            w = withdrawals.request_withdrawal(user, amount, f"{key}{len(self.withdrawals) // 3}", self.deps)
        except DomainError as refused:
            assert refused.code in ("INSUFFICIENT_BALANCE", "BELOW_MINIMUM", "IDEMPOTENCY_KEY_REUSED",
                                    "DAILY_LIMIT_EXCEEDED"), refused.code
            return
        if w.withdrawal_id not in {known.withdrawal_id for known in self.withdrawals}:
            assert amount <= available  # never from money that is not there
        self.withdrawals.append(w)

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data(), outcome=st.sampled_from(["success", "fail", "cancel"]))
    def transfer_ends(self, data: st.DataObject, outcome: str) -> None:
        w = self.deps.withdrawals.get(data.draw(st.sampled_from(self.withdrawals)).withdrawal_id)
        assert w is not None
        if w.status is WithdrawalStatus.WAIT_USER_CONFIRM:
            headers, body = self.deps.transfers.confirm(  # type: ignore[attr-defined]
                w.out_bill_no, outcome, self.clock())
            withdrawals.handle_transfer_notification(headers, body, self.deps)

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data(), approve=st.booleans())
    def operator_decides(self, data: st.DataObject, approve: bool) -> None:
        w = data.draw(st.sampled_from(self.withdrawals))
        try:
            if approve:
                withdrawals.approve(w.withdrawal_id, "admin", self.deps)
            else:
                withdrawals.reject(w.withdrawal_id, "admin", "no", self.deps)
        except DomainError as refused:
            assert refused.code == "NOT_UNDER_REVIEW"

    # what must always hold ---------------------------------------------------------------------

    @invariant()
    def wallets_equal_their_ledgers_and_stay_above_zero(self) -> None:
        if not hasattr(self, "top"):
            return
        for user in (self.top, self.mid):
            wallet = self.deps.ledger.wallet(user)
            entries = list(self.deps.settlement.entry_movements(user))
            assert wallet == balances_from(entries)
            assert all(wallet[bucket] >= 0 for bucket in NON_NEGATIVE), wallet
            clawed_back = sum(fen for movement, fen in entries if movement == "available>-")
            assert wallet["available"] >= -clawed_back, (wallet, clawed_back)

    @invariant()
    def each_team_bonus_is_what_accrued_less_what_refunds_took_back(self) -> None:
        if not hasattr(self, "top"):
            return
        from chalicelib.store.ledger import LedgerItem

        for user in (self.top, self.mid):
            kinds = {"team_bonus": 1, "team_bonus_reversal": -1, "team_bonus_clawback": -1}
            moved = sum(kinds.get(str(e["kind"]), 0) * int(str(e["amount_fen"]))
                        for e in self.deps.ledger.entries(user))
            left = sum(int(i.amount_fen or 0) for i in LedgerItem.query(user, LedgerItem.sk.startswith("teambonus#")))
            assert left == moved and left >= 0, (left, moved)


WalletMachine.TestCase.settings = settings(max_examples=10, stateful_step_count=20, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
TestWalletConservation = WalletMachine.TestCase
