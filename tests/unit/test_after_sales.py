"""The after-sales case's rules (domain/after_sales.py): its transitions, the window, the lines a
case may claim and the amount an approval may refund."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import after_sales as rules
from chalicelib.domain.after_sales import Case, CaseKind, CaseLine, CaseStatus
from chalicelib.domain.orders import Line, Order, OrderStatus, RefundRecord, WrongOrderStatus
from chalicelib.domain.refunds import InvalidLines, RefundExceedsPaid, RefundLine

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
LINES = [Line("p1", "面膜", 3, 5_000, 1_500, 2_000, 500), Line("p2", "衬衫", 1, 9_900, 3_000, 1_000, 500, "s1")]


def case(status: CaseStatus = CaseStatus.REQUESTED, kind: CaseKind = CaseKind.REFUND_ONLY, **more: object) -> Case:
    fields = {"lines": (CaseLine("p1", 2, 5_000),), **more}
    return Case("as1", "o1", "u1", kind, status, reason="破损", created_at=NOW, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "target"), [(c, t) for c in CaseStatus for t in CaseStatus])
def test_only_the_mapped_transitions_are_allowed(current, target):
    if target in rules.TRANSITIONS[current]:
        rules.check_transition(current, target)
    else:
        with pytest.raises(rules.WrongCaseStatus):
            rules.check_transition(current, target)


def test_closed_cases_go_nowhere_and_open_ones_can_end():
    assert all(not rules.TRANSITIONS[s] for s in rules.CLOSED)
    assert set(rules.OPEN) | rules.CLOSED == set(CaseStatus)
    for status in rules.OPEN:  # every open case can still be refunded or closed
        assert rules.TRANSITIONS[status] & (rules.CLOSED | {CaseStatus.APPROVED, CaseStatus.AWAITING_RETURN,
                                                           CaseStatus.RETURNING})


def test_an_approval_refunds_a_refund_only_case_and_awaits_a_return_of_the_other():
    assert rules.approval_target(CaseKind.REFUND_ONLY) is CaseStatus.APPROVED
    assert rules.approval_target(CaseKind.RETURN_REFUND) is CaseStatus.AWAITING_RETURN


@pytest.mark.parametrize("status", list(OrderStatus))
def test_a_case_needs_a_shipped_or_completed_order(status):
    if status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        rules.check_order(status)
    else:
        with pytest.raises(WrongOrderStatus):
            rules.check_order(status)


def test_the_window_counts_from_the_first_of_delivery_and_confirmation():
    assert rules.receipt_at(None, None) is None
    assert rules.receipt_at(NOW, NOW - timedelta(days=2)) == NOW - timedelta(days=2)
    rules.check_window(None, 7, NOW + timedelta(days=365))  # shipped, not yet received: open
    rules.check_window(NOW, 7, NOW + timedelta(days=7) - timedelta(microseconds=1))
    with pytest.raises(rules.WindowClosed):
        rules.check_window(NOW, 7, NOW + timedelta(days=7))


def order(refunds: tuple[RefundRecord, ...] = ()) -> Order:
    return Order("o1", "u1", OrderStatus.SHIPPED, LINES, 24_900, NOW, NOW, refunds=refunds,
                 refunded_fen=sum(r.amount_fen for r in refunds))


def test_lines_name_order_lines_once_within_what_is_left():
    claimed = rules.case_lines(order(), [RefundLine("p1", 2), RefundLine("p2", 1, "s1")])
    assert claimed == (CaseLine("p1", 2, 5_000, None, 10_000), CaseLine("p2", 1, 9_900, "s1", 9_900))
    assert sum(line.paid_fen for line in claimed) == 19_900
    two_back = (RefundRecord("as0", 10_000, ((0, 2, 10_000),), (), NOW),)
    for wanted, refunds in (([RefundLine("p3", 1)], ()), ([RefundLine("p2", 1)], ()), ([RefundLine("p1", 4)], ()),
                            ([RefundLine("p1", 2)], two_back), ([RefundLine("p1", 1), RefundLine("p1", 1)], ()),
                            ([RefundLine("p1", 0)], ()), ([], ())):
        with pytest.raises(InvalidLines):
            rules.case_lines(order(refunds), wanted)
    assert rules.case_lines(order(two_back), [RefundLine("p1", 1)]) == (CaseLine("p1", 1, 5_000, None, 5_000),)


@given(st.lists(st.integers(min_value=1, max_value=3), max_size=6))
def test_cases_never_claim_more_units_than_were_bought(quantities):
    records: tuple[RefundRecord, ...] = ()
    for n, quantity in enumerate(quantities):
        left = 3 - sum(r.lines[0][1] for r in records)
        try:
            lines = rules.case_lines(order(records), [RefundLine("p1", quantity)])
        except InvalidLines:
            assert quantity > left
            continue
        records += (RefundRecord(f"as{n}", lines[0].paid_fen, ((0, quantity, lines[0].paid_fen),), (), NOW),)
    assert sum(r.lines[0][1] for r in records) <= 3


def test_an_approval_refunds_up_to_what_the_lines_were_paid_and_what_is_left():
    assert rules.approved_refund(case(), order(), None) == 10_000
    assert rules.approved_refund(case(), order(), 1) == 1
    for bad in (0, 10_001, -5):
        with pytest.raises(RefundExceedsPaid):
            rules.approved_refund(case(), order(), bad)
    mostly_back = order((RefundRecord("as0", 20_000, ((1, 1, 9_900), (0, 2, 10_100)), (), NOW),))
    assert rules.approved_refund(case(), mostly_back, None) == 4_900
    with pytest.raises(RefundExceedsPaid):
        rules.approved_refund(case(), mostly_back, 4_901)


def test_a_refund_is_under_way_once_approved_or_received_until_refunded():
    assert case(CaseStatus.APPROVED).refund_under_way
    assert case(CaseStatus.RETURNING, CaseKind.RETURN_REFUND, received_at=NOW).refund_under_way
    assert not case(CaseStatus.RETURNING, CaseKind.RETURN_REFUND).refund_under_way
    assert not case(CaseStatus.REFUNDED, CaseKind.RETURN_REFUND, received_at=NOW).refund_under_way
    assert case().refund_no == "as1"


def test_a_case_id_fits_wechats_refund_number():
    case_id = rules.new_case_id(NOW)
    assert len(case_id) <= 64 and case_id.isalnum() and case_id != rules.new_case_id(NOW)
