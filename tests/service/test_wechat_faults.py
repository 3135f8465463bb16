"""WeChat faults: the real Pay and transfer clients against a fake WeChat Pay on loopback whose
calls time out after WeChat did the work, answer 5xx without doing it, or answer 5xx after doing
it; each call is then asked again with the same numbers (the client's retry, WeChat's
redelivery, the next job run) and WeChat answers a second time. In the end every order, stock,
refund, wallet and transfer is as in a fault-free run: WeChat holds one prepay, refund or bill
per number, and the tables hold one effect.

On moto (``mock_aws``) with the fast-tier ``deps``; the fake signs its answers with the
simulator's platform key, so the clients verify them as they verify WeChat's.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.errors import DomainError, Unavailable
from chalicelib.domain.wallet import balances_from
from chalicelib.domain.withdrawals import WithdrawalStatus
from chalicelib.services import groups, orders, payments, referrals, withdrawals
from chalicelib.services.sessions import Caller
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.pay import PayConfig, RealPayClient
from chalicelib.wechat.pay_crypto import new_nonce, sign_headers
from chalicelib.wechat.pay_simulator import PaySimulator
from chalicelib.wechat.transfer import RealTransferClient, TransferScene
from tests import order_jobs
from tests.service.test_orders import ADDRESS, distributor, login
from tests.service.test_withdrawals import poll_transfers, verified
from tests.unit.loopback import Answer, answering, serve_on_loopback

CLIENT_TIMEOUT = 0.3  # seconds the clients wait for an answer here
BUDGET = HttpBudget(CLIENT_TIMEOUT, CLIENT_TIMEOUT)
FAULTS = ("lost_answer", "5xx", "5xx_after")  # done but unanswered in time; refused undone; done then 5xx
BILLS = "/v3/fund-app/mch-transfer/transfer-bills"


@dataclass
class FakeWeChatPay:
    """Prepay, refund, close and transfer bills, kept by the merchant's numbers as WeChat keeps
    them; ``fail(kind, mode)`` makes the next call of that kind fail that way."""

    config: PayConfig
    platform_private: str
    base: str = ""
    faults: dict[str, list[str]] = field(default_factory=dict)
    prepays: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    bills: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    release: threading.Event = field(default_factory=threading.Event)

    def fail(self, kind: str, mode: str) -> None:
        self.faults.setdefault(kind, []).append(mode)

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[str, int, object]:
        """(kind, status, answer) of a call, doing what WeChat does unless told to fail first."""
        kind = _kind(method, path)
        self.calls[kind] += 1
        mode = (self.faults.get(kind) or ["ok"]).pop(0) if self.faults.get(kind) else "ok"
        if mode == "5xx":
            return mode, 500, {"code": "SYSTEM_ERROR", "message": "系统繁忙"}
        status, answer = self._do(kind, path, body)
        return mode, (500 if mode == "5xx_after" else status), answer

    def _do(self, kind: str, path: str, body: dict[str, Any]) -> tuple[int, object]:
        if kind == "prepay":
            self.prepays.setdefault(body["out_trade_no"], body)
            return 200, {"prepay_id": "wx" + body["out_trade_no"]}
        if kind == "refund":
            refund = self.refunds.setdefault(body["out_refund_no"], {
                "refund_id": f"50{len(self.refunds):08d}", "out_refund_no": body["out_refund_no"],
                "out_trade_no": body["out_trade_no"], "status": "SUCCESS", "amount": body["amount"]})
            return 200, refund
        if kind == "close":
            self.closed.add(path.split("/")[-2])
            return 204, None
        if kind == "create_bill":
            bill = self.bills.setdefault(body["out_bill_no"], {
                "out_bill_no": body["out_bill_no"], "transfer_bill_no": f"1330{len(self.bills):08d}",
                "state": "WAIT_USER_CONFIRM", "transfer_amount": body["transfer_amount"],
                "package_info": "pkg-" + body["out_bill_no"], "create_time": "2026-11-10T12:00:00+08:00"})
            return 200, {k: v for k, v in bill.items() if k != "transfer_amount"}
        if kind == "query_bill":
            number = path.rsplit("/", 1)[-1]
            if number not in self.bills:
                return 404, {"code": "NOT_FOUND", "message": "记录不存在"}
            return 200, self.bills[number]
        return 404, {"code": "NOT_FOUND", "message": "no such API"}


def _kind(method: str, path: str) -> str:
    if path == "/v3/pay/transactions/jsapi":
        return "prepay"
    if path == "/v3/refund/domestic/refunds":
        return "refund"
    if path.endswith("/close"):
        return "close"
    if path == BILLS and method == "POST":
        return "create_bill"
    if path.startswith(BILLS) and method == "GET":
        return "query_bill"
    return "unknown"


@pytest.fixture
def wechat(deps: Deps) -> Iterator[FakeWeChatPay]:
    """The fake on loopback, and ``deps`` calling it through the real clients (the simulator's
    keys; the simulator itself stays for signing payment notifications: ``deps.notifier``)."""
    simulator = deps.pay
    assert isinstance(simulator, PaySimulator)
    fake = FakeWeChatPay(simulator.config, simulator._platform_private or "")

    def respond(method: str, path: str, headers: Any, raw: bytes) -> Answer:
        mode, status, answer = fake.answer(method, path, json.loads(raw) if raw else {})
        if mode == "lost_answer":
            fake.release.wait(CLIENT_TIMEOUT * 3)  # the client has given up by then
        body = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
        signed = sign_headers(body, private_key_pem=fake.platform_private, key_id=fake.config.platform_key_id,
                              timestamp=int(time.time()), nonce=new_nonce()) if 200 <= status < 300 else {}
        return status, body, signed

    with serve_on_loopback(answering(respond), before_stop=fake.release.set) as base:
        fake.base = base
        config = PayConfig(**{**simulator.config.__dict__, "api_base": base})
        deps.__dict__["pay"] = RealPayClient(config, budget=BUDGET)
        deps.__dict__["transfers"] = RealTransferClient(config, TransferScene(), budget=BUDGET)
        deps.__dict__["notifier"] = simulator
        yield fake


def until_answered(call: Any, tries: int = 3) -> Any:
    """The caller's retry of the same call (the client, WeChat's redelivery): up to ``tries``."""
    for _ in range(tries - 1):
        try:
            return call()
        except Unavailable:
            continue
    return call()


def new_product(deps: Deps, stock: int = 10, group_buy: bool = False) -> str:
    product_id = f"p{uuid.uuid4().hex[:8]}"
    deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, stock, 2_000, 500,
                                        GroupBuy() if group_buy else None), deps.clock())
    return product_id


def bound_buyer(deps: Deps, name: str) -> tuple[str, str]:
    seller, code = distributor(deps, f"{name}-seller")
    buyer = login(deps, name)
    referrals.bind(buyer, code, deps)
    return buyer, seller


def place(deps: Deps, buyer: str, product_id: str, key: str) -> orders.Checkout:
    body = {"items": [{"product_id": product_id, "quantity": 1}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, 1)], body, key, deps)


def notify(deps: Deps, order_id: str) -> str:
    order = deps.orders.get(order_id)
    assert order is not None
    headers, body = deps.notifier.build_payment_notification(  # type: ignore[attr-defined]
        order_id, deps.clock(), amount_fen=order.amount_fen)
    return payments.handle_notification(headers, body, deps).outcome


def wallet_is_its_ledger(deps: Deps, user_id: str) -> dict[str, int]:
    wallet = deps.ledger.wallet(user_id)
    assert wallet == balances_from(deps.settlement.entry_movements(user_id))
    return wallet


# Pay: prepay at checkout -----------------------------------------------------------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_a_checkout_whose_prepay_fails_is_retried_with_its_key_into_one_order_and_one_prepay(deps, wechat, fault):
    buyer, _ = bound_buyer(deps, "buyer")
    product_id = new_product(deps)
    wechat.fail("prepay", fault)
    with pytest.raises(Unavailable):  # 503 TRY_AGAIN: the order is made, its payment not yet
        place(deps, buyer, product_id, "k1")
    again = place(deps, buyer, product_id, "k1")
    answered_twice = place(deps, buyer, product_id, "k1")  # WeChat answers the same prepay again
    assert again.replayed and again.payment["package"] == f"prepay_id=wx{again.order.order_id}"
    assert answered_twice.payment["package"] == again.payment["package"]
    assert [o.order_id for o in deps.orders.by_buyer(buyer, 10, None)[0]] == [again.order.order_id]
    assert deps.products.get(product_id).stock == 9
    assert list(wechat.prepays) == [again.order.order_id]
    assert notify(deps, again.order.order_id) == "paid"


# Pay: refunds ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_a_refund_whose_wechat_call_fails_is_asked_again_and_refunds_once(deps, wechat, fault):
    buyer, seller = bound_buyer(deps, "buyer")
    product_id = new_product(deps)
    order_id = place(deps, buyer, product_id, "k1").order.order_id
    assert notify(deps, order_id) == "paid"
    wechat.fail("refund", fault)
    with pytest.raises(Unavailable):  # nothing changed here; WeChat may have refunded ("lost", "5xx_after")
        orders.refund(order_id, Caller(buyer, "user"), "不要了", deps)
    assert deps.orders.get(order_id).status.value == "paid"
    assert orders.refund(order_id, Caller(buyer, "user"), "不要了", deps).status.value == "refunded"
    assert list(wechat.refunds) == [f"{order_id}R"] and wechat.calls["refund"] == 2
    assert deps.products.get(product_id).stock == 10
    assert wallet_is_its_ledger(deps, seller) == dict.fromkeys(("pending", "frozen", "available", "withdrawing",
                                                                "withdrawn"), 0)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_late_payment_whose_refund_fails_is_refunded_once_when_wechat_redelivers(deps, wechat, clock, fault):
    """Paid after the cancellation job: the notification's refund fails, so the notification is
    answered 503 and WeChat delivers it again."""
    buyer, _ = bound_buyer(deps, "buyer")
    product_id = new_product(deps)
    order = place(deps, buyer, product_id, "k1").order
    clock.advance(minutes=16)
    assert order_jobs.cancel_unpaid(clock(), deps) == {"cancelled": 1}
    headers, body = deps.notifier.build_payment_notification(  # type: ignore[attr-defined]
        order.order_id, clock(), amount_fen=order.amount_fen)
    wechat.fail("refund", fault)
    with pytest.raises(Unavailable):
        payments.handle_notification(headers, body, deps)
    assert payments.handle_notification(headers, body, deps).outcome == "refunded_late"
    assert payments.handle_notification(headers, body, deps).outcome == "refunded_late"  # answered twice
    assert list(wechat.refunds) == [f"{order.order_id}L"]
    assert deps.orders.get(order.order_id).status.value == "cancelled"
    assert deps.products.get(product_id).stock == 10


def test_a_failed_group_whose_refund_fails_is_refunded_once_by_the_next_expiry_run(deps, wechat):
    product_id = new_product(deps, group_buy=True)
    leader, _ = bound_buyer(deps, "leader")
    opened = groups.open_group(leader, product_id, {"product_id": product_id}, "open", deps)
    assert notify(deps, opened.order.order_id) == "paid"
    late = opened.group.expires_at + timedelta(minutes=1)
    wechat.fail("refund", "lost_answer")
    assert order_jobs.expire_groups(late, deps) == {"failed": 1, "refunded": 0, "cancelled": 0}
    assert deps.orders.get(opened.order.order_id).status.value == "paid"
    assert order_jobs.expire_groups(late, deps) == {"failed": 0, "refunded": 1, "cancelled": 0}
    assert order_jobs.expire_groups(late, deps) == {"failed": 0, "refunded": 0, "cancelled": 0}
    assert list(wechat.refunds) == [f"{opened.order.order_id}R"]
    assert deps.orders.get(opened.order.order_id).status.value == "refunded"
    assert deps.products.get(product_id).stock == 10


@pytest.mark.parametrize("fault", FAULTS)
def test_the_cancellation_job_cancels_once_whatever_closing_at_wechat_answers(deps, wechat, clock, fault):
    buyer, _ = bound_buyer(deps, "buyer")
    product_id = new_product(deps)
    order_id = place(deps, buyer, product_id, "k1").order.order_id
    clock.advance(minutes=16)
    wechat.fail("close", fault)
    assert order_jobs.cancel_unpaid(clock(), deps) == {"cancelled": 1}  # closing is best effort
    assert order_jobs.cancel_unpaid(clock(), deps) == {"cancelled": 0}
    assert deps.orders.get(order_id).status.value == "cancelled" and deps.products.get(product_id).stock == 10


# Transfer: withdrawals -------------------------------------------------------------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_a_withdrawal_whose_transfer_call_fails_is_paid_by_one_bill_after_the_polling_job(deps, wechat, fault):
    user = verified(deps, "payee", 3_000)
    wechat.fail("create_bill", fault)
    first = withdrawals.request_withdrawal(user, 2_000, "w1", deps)
    assert first.status is WithdrawalStatus.TRANSFERRING  # left for the polling job
    assert withdrawals.request_withdrawal(user, 2_000, "w1", deps).withdrawal_id == first.withdrawal_id
    wechat.fail("query_bill", "5xx")
    assert poll_transfers(deps.clock(), deps)["unreachable"] == 1
    assert poll_transfers(deps.clock(), deps)["waiting"] == 1
    assert poll_transfers(deps.clock(), deps)["waiting"] == 1  # WeChat answers the bill again
    now = deps.withdrawals.get(first.withdrawal_id)
    assert now is not None and now.status is WithdrawalStatus.WAIT_USER_CONFIRM
    assert list(wechat.bills) == [first.out_bill_no]
    assert wallet_is_its_ledger(deps, user)["available"] == 1_000


def test_the_clients_raise_unavailable_on_each_fault_and_never_invent_a_number(deps, wechat):
    """What the services above rely on: each fault is ``Unavailable`` (503 TRY_AGAIN), and a
    retried call names the same merchant number."""
    for fault in FAULTS:
        wechat.fail("refund", fault)
        with pytest.raises(DomainError) as caught:
            deps.pay.refund("o1", "o1R", 100, 100, "r")
        assert caught.value.code == "TRY_AGAIN", fault
    assert deps.pay.refund("o1", "o1R", 100, 100, "r").status == "SUCCESS"
    assert list(wechat.refunds) == ["o1R"]
