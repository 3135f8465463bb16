"""The WeChat Pay simulators remember across a restart of the local stack (issue 13): their state
lives with the data (DynamoDB), so refunding an order paid before the restart succeeds instead of
failing with RESOURCE_NOT_EXISTS, and a transfer bill made before it can still be confirmed."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bootstrap import Deps, set_default_deps
from chalicelib.domain.orders import OrderStatus
from chalicelib.services import orders, payments
from chalicelib.services.sessions import Caller
from chalicelib.wechat.pay import PayRejected
from chalicelib.wechat.pay_simulator import PaySimulator, simulator_config
from chalicelib.wechat.simulator_state import MemoryState
from chalicelib.wechat.transfer import TransferRejected, TransferState
from tests.service.test_orders import login, paid_order, product  # noqa: F401 - the product fixture

EXPIRES = datetime(2026, 11, 10, 5, tzinfo=UTC)


def test_an_order_paid_before_a_restart_is_refunded_after_it(deps: Deps, clock, product):  # noqa: F811
    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    restarted = Deps(settings=deps.settings, clock=clock)  # a new process: a new simulator instance
    set_default_deps(restarted)
    assert restarted.pay is not deps.pay
    orders.refund(order_id, Caller(buyer, "user"), "不想要了", restarted)
    order = restarted.orders.get(order_id)
    assert order is not None and order.status is OrderStatus.REFUNDED
    result = restarted.pay.query(order_id)
    assert result is not None and result.trade_state == "REFUND" and result.transaction_id == order.transaction_id
    [refund_no] = restarted.pay._orders[order_id].refunds  # type: ignore[attr-defined]
    headers, raw = restarted.pay.build_refund_notification(order_id, refund_no, clock())  # type: ignore[attr-defined]
    assert payments.handle_notification(headers, raw, restarted).outcome == "ignored"  # verified, then not a payment


def test_the_simulator_state_is_what_the_instances_share():
    config, key = simulator_config("wx-app")
    shared = MemoryState()
    before = PaySimulator(config, key, state=shared)
    before.prepay("o-1", "面膜", 5_000, "openid-1", EXPIRES)
    before.build_payment_notification("o-1", EXPIRES - timedelta(minutes=5))
    after = PaySimulator(config, key, state=shared)
    assert after.refund("o-1", "r-1", 2_000, 5_000, "reason").status == "SUCCESS"
    assert after.refund("o-1", "r-1", 2_000, 5_000, "reason") == before.refund("o-1", "r-1", 2_000, 5_000, "reason")
    with pytest.raises(PayRejected) as refused:  # 2,000 + 4,000 > 5,000: the first refund is remembered
        before.refund("o-1", "r-2", 4_000, 5_000, "reason")
    assert refused.value.details["wechat_code"] == "PARAM_ERROR"
    forgetful = PaySimulator(config, key)  # a state of its own: the old behaviour after a restart
    with pytest.raises(PayRejected) as unknown:
        forgetful.refund("o-1", "r-3", 1_000, 5_000, "reason")
    assert unknown.value.details["wechat_code"] == "RESOURCE_NOT_EXISTS"


def test_a_transfer_bill_made_before_a_restart_is_known_and_confirmed_after_it(deps: Deps, clock):
    bill = deps.transfers.create_bill("W20261110x1", "openid-1", 3_000, "佣金提现", "张三")
    restarted = Deps(settings=deps.settings, clock=clock)
    assert restarted.transfers is not deps.transfers
    known = restarted.transfers.query_bill("W20261110x1")
    assert known is not None and known.state is TransferState.WAIT_USER_CONFIRM
    assert (known.transfer_bill_no, known.amount_fen) == (bill.transfer_bill_no, 3_000)
    restarted.transfers.confirm("W20261110x1", "success", clock())  # type: ignore[attr-defined]
    after = Deps(settings=deps.settings, clock=clock).transfers.query_bill("W20261110x1")
    assert after is not None and after.state is TransferState.SUCCESS
    with pytest.raises(TransferRejected) as refused:  # the instance from before reads the state afresh:
        deps.transfers.cancel_bill("W20261110x1")  # a finished bill cannot be cancelled
    assert refused.value.details["wechat_code"] == "INVALID_REQUEST"
