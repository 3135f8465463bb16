"""WeChat Pay failing at the refund of an approval and of a receipt (on moto): refused before
doing it, or done with its answer lost. The decision stands (the buyer can no longer cancel, the
operator can no longer reject), and the same decision again refunds once: WeChat holds one refund
under the case's number and the order counts it once, as in a run without the fault."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.after_sales import CaseKind, CaseStatus
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import DomainError, Unavailable
from chalicelib.domain.refunds import RefundLine
from chalicelib.jobs import run_job
from chalicelib.services import after_sales, case_refunds, orders, referrals
from chalicelib.services.sessions import Caller
from tests.service.test_orders import distributor, login, paid_order


class FlakyPay:
    """The simulator, whose next refund fails once: ``refused`` (WeChat answered 5xx, did nothing)
    or ``lost`` (WeChat refunded, the answer never came back)."""

    def __init__(self, pay: Any, mode: str) -> None:
        self._pay, self.mode = pay, mode

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pay, name)

    def refund(self, *args: Any, **kwargs: Any) -> Any:
        mode, self.mode = self.mode, ""
        if mode == "refused":
            raise Unavailable("WeChat Pay answered 500; retry")
        answer = self._pay.refund(*args, **kwargs)
        if mode == "lost":
            raise Unavailable("WeChat Pay did not answer in time; retry")
        return answer


@pytest.fixture
def world(deps: Deps) -> dict[str, str]:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 20, 2_000, 500, resell_returns=True),
                                deps.clock())
    seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, "p1", 2)
    orders.ship(order_id, "SF", "SF1234567", deps)
    return {"buyer": buyer, "seller": seller, "order": order_id}


def approval(deps: Deps, w: dict[str, str]) -> tuple[str, Callable[[], Any]]:
    case = after_sales.open_case(w["order"], Caller(w["buyer"], "user"),
                                 after_sales.Opening(CaseKind.REFUND_ONLY, [RefundLine("p1", 1)], "破损"), deps)
    return case.case_id, lambda: case_refunds.approve(case.case_id, None, deps, "admin")


def receipt(deps: Deps, w: dict[str, str]) -> tuple[str, Callable[[], Any]]:
    caller = Caller(w["buyer"], "user")
    case = after_sales.open_case(w["order"], caller, after_sales.Opening(CaseKind.RETURN_REFUND,
                                                                         [RefundLine("p1", 1)], "尺码"), deps)
    case_refunds.approve(case.case_id, 5_000, deps, "admin")
    after_sales.ship_return(case.case_id, caller, "中通", "ZT7654321", deps)
    return case.case_id, lambda: case_refunds.receive(case.case_id, deps, "admin")


def outcome(deps: Deps, w: dict[str, str], case_id: str) -> tuple[Any, ...]:
    order = deps.orders.get(w["order"])
    wallet = deps.ledger.wallet(w["seller"])
    refunds = {no: fen for no, (fen, _) in deps.pay._orders[w["order"]].refunds.items()}  # type: ignore[attr-defined]
    return (deps.after_sales.get(case_id).status, order.refunded_fen, len(order.refunds), refunds,
            wallet["pending"], deps.products.get("p1").stock)


@pytest.mark.parametrize("decision", [approval, receipt])
@pytest.mark.parametrize("mode", ["refused", "lost"])
def test_wechat_failing_at_the_refund_then_the_same_decision_again_refunds_once(deps, world, decision, mode):
    case_id, decide = decision(deps, world)
    real = deps.pay
    deps.__dict__["pay"] = FlakyPay(real, mode)
    with pytest.raises(Unavailable):
        decide()
    stuck = deps.after_sales.get(case_id)
    assert stuck.refund_under_way and stuck.status is not CaseStatus.REFUNDED
    for refused in (lambda: after_sales.cancel(case_id, Caller(world["buyer"], "user"), deps),
                    lambda: after_sales.reject(case_id, "x", deps, "admin")):
        with pytest.raises(DomainError) as no:
            refused()
        assert no.value.code == "WRONG_CASE_STATUS"
    assert decide().status is CaseStatus.REFUNDED
    assert decide().status is CaseStatus.REFUNDED  # once more: answered as it is
    assert_refunded_once(deps, world, case_id)


def counts(summary: dict[str, Any]) -> tuple[int, int, int]:
    return summary.get("refunded", 0), summary.get("later", 0), summary.get("failed", 0)


def assert_refunded_once(deps: Deps, world: dict[str, str], case_id: str) -> None:
    got = outcome(deps, world, case_id)
    assert got[:4] == (CaseStatus.REFUNDED, 5_000, 1, {case_id: 5_000})
    assert got[4] == 1_000  # level 1 keeps 20 % of the unit still paid (2 × 10.00 accrued, one reversed)


@pytest.mark.parametrize("decision", [approval, receipt])
@pytest.mark.parametrize("mode", ["refused", "lost"])
def test_wechat_failing_at_the_refund_then_the_job_finishes_it_once(deps, world, clock, decision, mode):
    case_id, decide = decision(deps, world)
    real = deps.pay
    deps.__dict__["pay"] = FlakyPay(real, mode)
    with pytest.raises(Unavailable):
        decide()
    assert counts(run_job("finish_case_refunds", clock(), deps)) == (0, 1, 0)  # its own request may still run
    clock.advance(minutes=6)
    assert counts(run_job("finish_case_refunds", clock(), deps)) == (1, 0, 0)
    assert counts(run_job("finish_case_refunds", clock(), deps)) == (0, 0, 0)  # no longer listed
    assert_refunded_once(deps, world, case_id)
    assert decide().status is CaseStatus.REFUNDED  # the operator's click afterwards: answered as it is
    assert_refunded_once(deps, world, case_id)
