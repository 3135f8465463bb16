"""The after-sales refund's money on moto (services/refunds.py): units and amounts, commissions
kept on the units still paid, replays, settlement of what is kept, refusals that change nothing."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.errors import DomainError, Kind, error
from chalicelib.domain.refunds import RefundLine
from chalicelib.jobs import run_job
from chalicelib.services import orders, referrals
from chalicelib.services.refunds import partial_refund
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem, commission_key, team_sales_key
from chalicelib.store.order_items import OrderItem, OrderPart
from tests.service.test_orders import distributor, login, paid_order

P1 = RefundLine("p1", 1)


@pytest.fixture
def product(deps: Deps) -> str:
    # cost 15.00, price 50.00, stock 50, level 1 20 %, level 2 5 %
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"


def shipped(deps: Deps, product: str, quantity: int = 3) -> tuple[str, str, str, str]:
    """An order of ``quantity`` units, shipped: (level 2, level 1, buyer, order)."""
    top, top_code = distributor(deps, "top")
    seller, code = distributor(deps, "seller")
    referrals.bind(seller, top_code, deps)
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, product, quantity)
    orders.ship(order_id, "SF", "SF123456", deps)
    return top, seller, buyer, order_id


def wechat_refunded(deps: Deps, order_id: str) -> int:
    return sum(fen for fen, _ in deps.pay._orders[order_id].refunds.values())  # type: ignore[attr-defined]


def commission(user_id: str, order_id: str, level: int) -> LedgerItem:
    return LedgerItem.get(user_id, commission_key(order_id, level), consistent_read=True)


def snapshot(deps: Deps, order_id: str, users: list[str]) -> dict[str, Any]:
    """What a refund could change: the order item, the payees' ledger items, the stock."""
    item = OrderItem.get(order_id, consistent_read=True).attribute_values
    ledger = {(i.pk, i.sk): i.attribute_values for u in users for i in LedgerItem.query(u, consistent_read=True)}
    return {"order": item, "ledger": ledger, "stock": deps.products.get("p1").stock,
            "wechat": wechat_refunded(deps, order_id)}


def test_refunding_one_of_three_units_keeps_the_commission_of_two(deps, product):
    top, seller, _, order_id = shipped(deps, product)
    done = partial_refund(order_id, "case1", [P1], 5_000, deps, reason="坏了")
    assert not done.replayed
    order = done.order
    assert (order.status.value, order.refunded_fen) == ("shipped", 5_000)
    assert wechat_refunded(deps, order_id) == 5_000
    assert [(s.user_id, s.amount_fen) for s in order.commissions] == [(seller, 2_000), (top, 500)]
    assert deps.ledger.wallet(seller)["pending"] == 2_000 and deps.ledger.wallet(top)["pending"] == 500
    kept = commission(seller, order_id, 1)
    assert (kept.amount_fen, kept.reversed_fen, kept.status) == (2_000, 1_000, "pending")
    entry = LedgerItem.get(seller, f"entry#{order_id}#1#reversal#case1")
    assert (entry.amount_fen, entry.status) == (1_000, "pending>-")
    assert LedgerItem.get(seller, team_sales_key(business_date(deps.clock()).strftime("%Y-%m"))).amount_fen == 10_000
    assert deps.users.get(seller).sales.fen == 10_000
    day = deps.analytics.day_counts([business_date(deps.clock())])[business_date(deps.clock())]
    assert (day["refunded_fen"], day["refunds"], day["refunded_cost_fen"]) == (5_000, 0, 0)


def test_the_same_refund_number_again_refunds_and_counts_nothing(deps, product):
    top, seller, _, order_id = shipped(deps, product)
    partial_refund(order_id, "case1", [P1], 5_000, deps, reason="坏了")
    before = snapshot(deps, order_id, [top, seller])
    again = partial_refund(order_id, "case1", [P1], 5_000, deps, reason="坏了")
    assert again.replayed
    assert snapshot(deps, order_id, [top, seller]) == before


def test_two_partial_refunds_summing_to_the_order_refund_it_and_reverse_every_commission(deps, product):
    top, seller, _, order_id = shipped(deps, product)
    partial_refund(order_id, "case1", [RefundLine("p1", 2)], 9_000, deps, reason="a", restock=[RefundLine("p1", 2)])
    order = partial_refund(order_id, "case2", [P1], 5_000, deps, reason="b").order
    assert (order.status.value, order.refunded_fen) == ("refunded", 14_000)
    assert order.refunded_at is not None
    for user_id, level, accrued in ((seller, 1, 3_000), (top, 2, 750)):
        item = commission(user_id, order_id, level)
        assert (item.status, item.amount_fen, item.reversed_fen) == ("reversed", 0, accrued)
        assert deps.ledger.wallet(user_id)["pending"] == 0
    assert deps.products.get("p1").stock == 50 - 3 + 2
    day = deps.analytics.day_counts([business_date(deps.clock())])[business_date(deps.clock())]
    assert (day["refunds"], day["refunded_fen"], day["refunded_cost_fen"]) == (1, 14_000, 3_000)
    assert OrderItem.get(order_id).confirm_day is None  # no longer waiting for auto-confirmation
    with pytest.raises(DomainError) as refused:
        partial_refund(order_id, "case3", [P1], 0, deps, reason="c")
    assert refused.value.code == "WRONG_ORDER_STATUS"


def test_a_refund_smaller_than_the_units_value_keeps_no_commission_on_them(deps, product):
    _, seller, _, order_id = shipped(deps, product)
    order = partial_refund(order_id, "case1", [P1], 1_000, deps, reason="补偿").order
    assert order.refunded_fen == 1_000
    assert commission(seller, order_id, 1).amount_fen == 2_000  # the accrual on the two units still paid


def test_a_settled_commission_is_clawed_back_and_a_frozen_one_settles_what_it_keeps(deps, clock, product):
    top, seller, buyer, order_id = shipped(deps, product)
    orders.confirm(order_id, Caller(buyer, "user"), deps)
    partial_refund(order_id, "case1", [P1], 5_000, deps, reason="a")  # frozen: reversed from frozen
    assert deps.ledger.wallet(seller)["frozen"] == 2_000
    clock.advance(days=4)
    run_job("settle_commissions", clock(), deps)
    assert deps.ledger.wallet(seller)["available"] == 2_000 and deps.ledger.wallet(seller)["frozen"] == 0
    assert deps.ledger.wallet(top)["available"] == 500
    order = partial_refund(order_id, "case2", [P1], 5_000, deps, reason="b").order  # available: clawed back
    assert order.status.value == "completed"
    assert deps.ledger.wallet(seller)["available"] == 1_000
    item = commission(seller, order_id, 1)
    assert (item.status, item.amount_fen, item.reversed_fen) == ("available", 1_000, 2_000)
    assert LedgerItem.get(seller, f"entry#{order_id}#1#clawback#case2").amount_fen == 1_000
    page = deps.ledger.commissions(seller, None, 10, None)[0]
    assert [(c.amount_fen, c.reversed_fen) for c in page] == [(1_000, 2_000)]


def test_refusals_change_nothing(deps, product):
    top, seller, _, order_id = shipped(deps, product)
    before = snapshot(deps, order_id, [top, seller])
    bad: list[tuple[dict[str, Any], str]] = [
        ({"lines": [P1], "amount_fen": 5_001}, "REFUND_EXCEEDS_PAID"),
        ({"lines": [P1], "amount_fen": -1}, "REFUND_EXCEEDS_PAID"),
        ({"lines": [RefundLine("p1", 4)], "amount_fen": 1}, "INVALID_LINES"),
        ({"lines": [RefundLine("p1", 0)], "amount_fen": 0}, "INVALID_LINES"),
        ({"lines": [RefundLine("p2", 1)], "amount_fen": 1}, "INVALID_LINES"),
        ({"lines": [P1, P1], "amount_fen": 1}, "INVALID_LINES"),
        ({"lines": [], "amount_fen": 0}, "INVALID_LINES"),
        ({"lines": [P1], "amount_fen": 1, "restock": [RefundLine("p1", 2)]}, "INVALID_LINES"),
        ({"lines": [RefundLine("p1", 1, "sku-x")], "amount_fen": 1}, "INVALID_LINES"),
    ]
    for args, code in bad:
        with pytest.raises(DomainError) as refused:
            partial_refund(order_id, "case1", args["lines"], args["amount_fen"], deps, reason="x",
                           restock=args.get("restock", ()))
        assert refused.value.code == code, args
    assert snapshot(deps, order_id, [top, seller]) == before


def test_an_unshipped_order_takes_the_instant_refund_not_a_partial_one(deps, product):
    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    with pytest.raises(DomainError) as refused:
        partial_refund(order_id, "case1", [P1], 100, deps, reason="x")
    assert refused.value.code == "WRONG_ORDER_STATUS"
    assert wechat_refunded(deps, order_id) == 0


def test_the_instant_refund_of_a_shipped_or_completed_order_asks_for_after_sales(deps, product):
    _, _, buyer, order_id = shipped(deps, product)
    for _ in ("shipped", "completed"):
        with pytest.raises(DomainError) as refused:
            orders.refund(order_id, Caller(buyer, "user"), "x", deps)
        assert refused.value.code == "AFTER_SALES_REQUIRED"
        assert wechat_refunded(deps, order_id) == 0
        if _ == "shipped":
            orders.confirm(order_id, Caller(buyer, "user"), deps)
    assert deps.orders.get(order_id).status.value == "completed"


CaseMoved = error("CASE_MOVED", Kind.CONFLICT, "The case is no longer where the caller moves it from.")


def test_a_refused_callers_part_ends_in_the_callers_error_and_records_no_money(deps, product):
    _, seller, _, order_id = shipped(deps, product)
    checks: list[int] = []

    def check() -> None:  # the caller's state moved once the first commit was refused
        checks.append(1)
        if len(checks) > 1:
            raise CaseMoved("the case moved")

    refused_part = OrderPart((OrderItem.report_error.set("case1"),), OrderItem.kind == "gift")
    with pytest.raises(CaseMoved):
        partial_refund(order_id, "case1", [P1], 5_000, deps, reason="x", order_part=refused_part, check=check)
    assert deps.orders.get(order_id).refunded_fen == 0
    assert commission(seller, order_id, 1).amount_fen == 3_000
    # called again with the same number once the caller's condition holds: WeChat answers the same
    # refund (it refunds once), and the caller's part commits with the money
    part = OrderPart((OrderItem.report_error.set("case1"),), OrderItem.kind == "normal")
    extra: list[str] = []
    done = partial_refund(order_id, "case1", [P1], 5_000, deps, reason="x", order_part=part,
                          extra=lambda tx: extra.append("added"))
    assert extra == ["added"] and OrderItem.get(order_id).report_error == "case1"
    assert done.order.refunded_fen == 5_000 and wechat_refunded(deps, order_id) == 5_000


def test_a_share_accrued_before_uplifts_were_recorded_is_recomputed_with_the_tier_uplift_it_had(deps, product):
    _, seller, _, order_id = shipped(deps, product)
    shares = json.loads(OrderItem.get(order_id).commissions_json)
    shares[0]["amount_fen"] = 3_750  # level 1 accrued 25 % (20 % + a senior's 5 %), before uplifts were recorded
    for share in shares:
        del share["uplift_bp"]
    OrderItem(order_id).update(actions=[OrderItem.commissions_json.set(json.dumps(shares))])
    LedgerItem(seller, commission_key(order_id, 1)).update(actions=[LedgerItem.amount_fen.set(3_750)])
    LedgerItem(seller, "wallet").update(actions=[LedgerItem.pending_fen.add(750)])
    order = partial_refund(order_id, "case1", [P1], 5_000, deps, reason="x").order
    assert (order.commissions[0].amount_fen, order.commissions[0].uplift_bp) == (2_500, 500)
    assert deps.ledger.wallet(seller)["pending"] == 2_500


def test_settlement_listed_before_a_refund_skips_it_and_the_next_run_pays_what_is_kept(deps, clock, product):
    _, seller, buyer, order_id = shipped(deps, product)
    orders.confirm(order_id, Caller(buyer, "user"), deps)
    clock.advance(days=4)
    listed = [c for shard in "0123456789abcdef" for c in deps.settlement.due(shard, clock())[0]
              if c.user_id == seller]
    partial_refund(order_id, "case1", [P1], 5_000, deps, reason="x")
    with pytest.raises(DomainError):
        deps.settlement.settle(listed, clock())  # it read 3,000: the commission holds 2,000 now
    run_job("settle_commissions", clock() + timedelta(seconds=1), deps)
    wallet = deps.ledger.wallet(seller)
    assert (wallet["available"], wallet["frozen"]) == (2_000, 0)
