"""WeChat faults of an after-sales refund (services/refunds.py): the real Pay client against the
fake WeChat Pay of tests/service/test_wechat_faults.py, whose refund call times out after WeChat
refunded, answers 5xx without refunding, or 5xx after refunding. The case's retry (the same
refund number) then refunds once: WeChat holds one refund of that number, the tables one effect,
and a refund WeChat answers abnormal changes nothing."""
from __future__ import annotations

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.errors import DomainError, Unavailable
from chalicelib.domain.refunds import RefundLine
from chalicelib.services import orders
from chalicelib.services.refunds import partial_refund
from tests.service.test_wechat_faults import (
    FAULTS,
    bound_buyer,
    new_product,
    notify,
    wallet_is_its_ledger,
    wechat,  # noqa: F401 - the fixture
)


def shipped(deps: Deps, product_id: str) -> tuple[str, str]:
    buyer, seller = bound_buyer(deps, "buyer")
    body = {"items": [{"product_id": product_id, "quantity": 2}], "address": {"name": "买家", "phone": "13800000000",
                                                                               "detail": "北京"}}
    order_id = orders.place_order(buyer, [(product_id, 2)], body, "k1", deps).order.order_id
    assert notify(deps, order_id) == "paid"
    orders.ship(order_id, "SF", "SF123456", deps)
    return seller, order_id


@pytest.mark.parametrize("fault", FAULTS)
def test_a_partial_refund_whose_wechat_call_fails_is_asked_again_and_refunds_once(deps, wechat, fault):  # noqa: F811
    product_id = new_product(deps)
    seller, order_id = shipped(deps, product_id)
    lines = [RefundLine(product_id, 1)]
    wechat.fail("refund", fault)
    with pytest.raises(Unavailable):  # nothing changed here; WeChat may have refunded
        partial_refund(order_id, "case-1", lines, 5_000, deps, reason="坏了", restock=lines)
    order = deps.orders.get(order_id)
    assert order is not None and order.refunded_fen == 0 and deps.products.get(product_id).stock == 8
    done = partial_refund(order_id, "case-1", lines, 5_000, deps, reason="坏了", restock=lines)
    assert (done.replayed, done.order.refunded_fen, done.order.status.value) == (False, 5_000, "shipped")
    assert list(wechat.refunds) == ["case-1"] and wechat.calls["refund"] == 2
    assert wechat.refunds["case-1"]["amount"] == {"refund": 5_000, "total": 10_000, "currency": "CNY"}
    assert deps.products.get(product_id).stock == 9
    assert wallet_is_its_ledger(deps, seller)["pending"] == 1_000
    assert partial_refund(order_id, "case-1", lines, 5_000, deps, reason="坏了").replayed
    assert wechat.calls["refund"] == 2  # a replay the order recorded asks WeChat nothing


def test_a_partial_refund_wechat_answers_abnormal_changes_nothing(deps, wechat, monkeypatch):  # noqa: F811
    from chalicelib.wechat.pay_results import RefundOutcome

    product_id = new_product(deps)
    seller, order_id = shipped(deps, product_id)
    monkeypatch.setattr(deps.pay, "refund", lambda *args, **kwargs: RefundOutcome("ABNORMAL", "r1"))
    with pytest.raises(DomainError) as refused:
        partial_refund(order_id, "case-1", [RefundLine(product_id, 1)], 5_000, deps, reason="坏了")
    assert refused.value.code == "REFUND_FAILED"
    order = deps.orders.get(order_id)
    assert order is not None and (order.refunded_fen, order.status.value) == (0, "shipped")
    assert wallet_is_its_ledger(deps, seller)["pending"] == 2_000
