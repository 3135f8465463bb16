"""The after-sales refund's pure rules (domain/refunds.py): lines, amounts, the spread, and the
commission kept on the units still paid."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import share_of
from chalicelib.domain.orders import Line, Order, OrderStatus, Share, WrongOrderStatus, commission_shares
from chalicelib.domain.refunds import (
    InvalidLines,
    RefundExceedsPaid,
    RefundLine,
    applied,
    check_lines,
    fully_refunded,
    kept_commission,
    lines_paid_fen,
    plan_record,
    refundable,
    restocked_cost_fen,
    share_uplift,
    spread,
    with_refund,
)

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
MASK = Line("p1", "面膜", 3, 5_000, 1_500, 2_000, 500)
SERUM = Line("p2", "精华", 2, 3_333, 1_000, 1_500, 300, sku_id="s1")


def order(*lines: Line, status: OrderStatus = OrderStatus.SHIPPED, uplift: int = 0) -> Order:
    shares = commission_shares(list(lines), Upline("l1", "l2"), uplift)
    return Order("o1", "buyer", status, list(lines), sum(line.paid_fen for line in lines), NOW, NOW,
                 Upline("l1", "l2"), paid_at=NOW, commissions=shares)


def refund(o: Order, no: str, lines: list[RefundLine], fen: int, restock: list[RefundLine] | None = None) -> Order:
    return with_refund(o, plan_record(o, no, lines, fen, restock or [], NOW))


def test_a_record_spreads_the_amount_over_the_lines_by_their_value_and_names_them_by_index():
    o = order(MASK, SERUM)
    record = plan_record(o, "c1", [RefundLine("p2", 1, "s1"), RefundLine("p1", 1)], 8_000, [RefundLine("p1", 1)], NOW)
    assert record.lines == ((1, 1, 3_199), (0, 1, 4_801))  # 8,000 × 3,333 / 8,333 floored; the rest on 50.00
    assert record.restocked == ((0, 1),)
    assert restocked_cost_fen(o, record) == 1_500


def test_the_spread_never_gives_a_line_more_than_its_value_and_sums_to_the_amount():
    assert spread(10, [(0, 5), (1, 5)]) == [5, 5]
    assert spread(7, [(0, 1), (1, 100)]) == [0, 7]
    assert spread(0, [(0, 3)]) == [0]
    assert spread(6, [(0, 3), (1, 2), (2, 2)]) == [3, 2, 1]  # the remainder 2 does not fit the largest line alone


@given(st.lists(st.integers(1, 100_000), min_size=1, max_size=20), st.data())
def test_spread_sums_to_the_amount_and_caps_each_line_at_its_value(values, data):
    amount = data.draw(st.integers(0, sum(values)))
    parts = spread(amount, list(enumerate(values)))
    assert sum(parts) == amount
    assert all(0 <= part <= value for part, value in zip(parts, values, strict=True))


def test_lines_are_refused_when_not_in_the_order_named_twice_empty_or_more_than_left():
    o = refund(order(MASK, SERUM), "c1", [RefundLine("p1", 2)], 100)
    for lines in ([RefundLine("p3", 1)], [RefundLine("p2", 1)], [RefundLine("p1", 1), RefundLine("p1", 1)], [],
                  [RefundLine("p1", 2)], [RefundLine("p1", 0)]):
        with pytest.raises(InvalidLines):
            check_lines(o, lines)
    check_lines(o, [RefundLine("p1", 1), RefundLine("p2", 2, "s1")])
    assert refundable(o) == {("p1", None): 1, ("p2", "s1"): 2}


def test_the_amount_is_capped_by_the_units_paid_and_by_what_is_left_of_the_payment():
    o = order(MASK)
    assert lines_paid_fen(o, [RefundLine("p1", 2)]) == 10_000
    with pytest.raises(RefundExceedsPaid):
        plan_record(o, "c1", [RefundLine("p1", 1)], 5_001, [], NOW)
    with pytest.raises(RefundExceedsPaid):
        plan_record(o, "c1", [RefundLine("p1", 1)], -1, [], NOW)
    with pytest.raises(InvalidLines):
        plan_record(o, "c1", [RefundLine("p1", 1)], 1, [RefundLine("p1", 2)], NOW)


def test_only_a_shipped_or_completed_order_takes_an_after_sales_refund():
    for status in (OrderStatus.PAID, OrderStatus.PENDING_PAYMENT, OrderStatus.REFUNDED, OrderStatus.CANCELLED):
        with pytest.raises(WrongOrderStatus):
            plan_record(order(MASK, status=status), "c1", [RefundLine("p1", 1)], 1, [], NOW)
    plan_record(order(MASK, status=OrderStatus.COMPLETED), "c1", [RefundLine("p1", 1)], 1, [], NOW)


def test_the_order_is_fully_refunded_once_every_unit_is_whatever_the_amounts():
    o = refund(order(MASK, SERUM), "c1", [RefundLine("p1", 3)], 1)
    assert not fully_refunded(o) and applied(o, "c1") and not applied(o, "c2")
    o = refund(o, "c2", [RefundLine("p2", 2, "s1")], 0)
    assert fully_refunded(o) and o.refunded_fen == 1


def test_a_commission_keeps_the_accrual_on_the_units_still_paid_with_its_uplift():
    o = order(MASK, SERUM, uplift=500)
    level1, level2 = o.commissions
    assert level1.uplift_bp == 500 and level2.uplift_bp == 0
    after = refund(o, "c1", [RefundLine("p1", 1), RefundLine("p2", 1, "s1")], 100)
    assert kept_commission(after, level1) == share_of(10_000, 2_500) + share_of(3_333, 2_000)
    assert kept_commission(after, level2) == share_of(10_000, 500) + share_of(3_333, 300)


def test_an_older_share_finds_its_uplift_among_the_candidates_or_is_capped_by_its_amount():
    o = order(MASK, uplift=1_000)
    legacy = replace(o.commissions[0], uplift_bp=None)
    assert share_uplift(o.lines, legacy, (0, 500, 1_000)) == 1_000
    assert share_uplift(o.lines, legacy, (0, 500)) == 0
    odd = Share("l1", 1, 10, None)  # reproduced by no candidate: capped by what it holds
    assert kept_commission(replace(o, commissions=[odd]), odd, (0,)) == 10


@given(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 20_000), st.integers(0, 3_000)), min_size=1,
                max_size=4),
       st.integers(0, 1_000), st.data())
def test_no_commission_is_kept_on_a_refunded_unit_and_refunds_never_raise_it(specs, uplift, data):
    lines = [Line(f"p{i}", "x", q, price, 0, rate, rate // 4) for i, (q, price, rate) in enumerate(specs)]
    o = order(*lines, uplift=uplift)
    kept = {s.level: s.amount_fen for s in o.commissions}
    for n in range(data.draw(st.integers(1, 4))):
        left = {k: v for k, v in refundable(o).items() if v}
        if not left:
            break
        picks = data.draw(st.lists(st.sampled_from(sorted(left, key=str)), min_size=1, unique=True))
        asked = [RefundLine(p, data.draw(st.integers(1, left[(p, s)])), s) for p, s in picks]
        o = refund(o, f"c{n}", asked, data.draw(st.integers(0, lines_paid_fen(o, asked))))
        for share in o.commissions:
            now_kept = kept_commission(o, share)
            assert now_kept <= kept[share.level]
            kept[share.level] = now_kept
    units_left = [line.quantity - sum(u for r in o.refunds for i, u, _ in r.lines if i == index)
                  for index, line in enumerate(o.lines)]
    for share in o.commissions:
        rate = (lambda line: line.level1_rate_bp + uplift) if share.level == 1 else (lambda line: line.level2_rate_bp)
        assert kept[share.level] == sum(share_of(line.unit_price_fen * u, rate(line))
                                        for line, u in zip(o.lines, units_left, strict=True))
    assert o.refunded_fen <= o.amount_fen
    if fully_refunded(o):
        assert all(value == 0 for value in kept.values())
