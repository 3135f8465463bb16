"""Order rules: statuses, pricing, commission shares, the margin rule, T+N dates."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.orders import (
    CommissionExceedsMargin,
    InvalidOrder,
    Line,
    OrderStatus,
    OutOfStock,
    ProductNotFound,
    WrongOrderStatus,
    available_on,
    breakdown,
    check_margin,
    check_transition,
    commission_shares,
    payout_upline,
    price_lines,
)

SERUM = Product("p1", "serum", "beauty", 5_000, 15_000, 10, 2_000, 500)


def test_allowed_transitions_pass_and_every_other_is_refused():
    check_transition(OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
    check_transition(OrderStatus.COMPLETED, OrderStatus.REFUNDED)
    for target in (OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.REFUNDED):
        with pytest.raises(WrongOrderStatus):
            check_transition(OrderStatus.PENDING_PAYMENT, target)
    for terminal in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        for target in OrderStatus:
            with pytest.raises(WrongOrderStatus):
                check_transition(terminal, target)


@pytest.mark.parametrize(("wanted", "error"), [
    ([], InvalidOrder), ([("p1", 0)], InvalidOrder), ([("p1", 100)], InvalidOrder),
    ([("p1", 1), ("p1", 1)], InvalidOrder), ([("zz", 1)], ProductNotFound), ([("p1", 11)], OutOfStock),
])
def test_bad_lines_are_refused(wanted, error):
    with pytest.raises(error):
        price_lines(wanted, {"p1": SERUM})


def test_the_seed_rows_split_as_domain_md_says():
    line = price_lines([("p1", 1)], {"p1": SERUM})
    shares = commission_shares(line, Upline("a", "b"), 0)
    assert [(s.user_id, s.level, s.amount_fen) for s in shares] == [("a", 1, 3_000), ("b", 2, 750)]
    assert breakdown(line, shares).platform_profit_fen == 15_000 - 5_000 - 3_750


def test_a_tier_uplift_adds_points_to_level_one_only():
    shares = commission_shares(price_lines([("p1", 2)], {"p1": SERUM}), Upline("a", "b"), 1_000)
    assert [(s.level, s.amount_fen) for s in shares] == [(1, 9_000), (2, 1_500)]


def test_self_purchase_pays_the_buyer_level_one_only_when_enabled():
    assert payout_upline(Upline("p", "g"), "me", True, True) == Upline("me", "p")
    assert payout_upline(Upline("p", "g"), "me", True, False) == Upline("p", "g")
    assert payout_upline(Upline("p", "g"), "me", False, True) == Upline("p", "g")


def test_the_margin_rule_uses_the_group_price_too():
    check_margin(SERUM, 1_000, 300)
    with pytest.raises(CommissionExceedsMargin):
        check_margin(Product("x", "x", "food", 4_000, 5_000, 1, 1_600, 500), 1_000, 300)
    cheap_group = Product("g", "g", "food", 3_000, 5_000, 1, 1_600, 500, GroupBuy(3, 3_000, 24))
    with pytest.raises(CommissionExceedsMargin):  # 3,500 group price leaves 500 of margin
        check_margin(cheap_group, 1_000, 300)


def test_commission_becomes_available_three_shanghai_days_after_completion():
    completed = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)  # 01:00 on the 11th in Shanghai
    assert available_on(completed, 3).isoformat() == "2026-11-14T00:00:00+08:00"
    assert available_on(completed, 0).isoformat() == "2026-11-11T00:00:00+08:00"


lines_strategy = st.lists(st.builds(
    Line, product_id=st.uuids().map(str), name=st.just("x"), quantity=st.integers(1, 99),
    unit_price_fen=st.integers(1, 1_000_000), unit_cost_fen=st.just(0), level1_rate_bp=st.integers(0, 3_000),
    level2_rate_bp=st.integers(0, 1_000)), min_size=1, max_size=20)
uplines = st.builds(Upline, st.none() | st.sampled_from(["l1"]), st.none() | st.sampled_from(["l2"]))


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, upline=uplines, uplift=st.integers(0, 1_000))
def test_no_order_ever_pays_beyond_level_two_and_the_money_adds_up(lines, upline, uplift):
    shares = commission_shares(lines, upline, uplift)
    payees = {(s.user_id, s.level) for s in shares}
    assert payees <= {("l1", 1), ("l2", 2)}
    assert all(s.level == 1 or upline.level1 for s in shares)  # level 2 only behind a level 1
    total = breakdown(lines, shares)
    assert total.paid_fen == total.cost_fen + total.commission_fen + total.platform_profit_fen
    assert 0 <= total.commission_fen <= total.paid_fen
    exact = sum(line.paid_fen * (line.level1_rate_bp + uplift) for line in lines) / 10_000 if upline.level1 else 0
    level1 = next((s.amount_fen for s in shares if s.level == 1), 0)
    assert exact - len(lines) < level1 <= exact  # floored per line, never rounded up
