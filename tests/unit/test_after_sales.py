"""The after-sales case's rules (domain/after_sales.py): its transitions, the window, the lines a
case may claim and the amount an approval may refund."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import after_sales as rules
from chalicelib.domain.after_sales import Case, CaseKind, CaseLine, CaseStatus, Wanted
from chalicelib.domain.orders import Line, OrderStatus, WrongOrderStatus

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


def test_lines_name_order_lines_once_within_what_is_left():
    claimed = rules.claim_lines(LINES, [Wanted("p1", 2), Wanted("p2", 1, "s1")], {})
    assert claimed == (CaseLine("p1", 2, 5_000), CaseLine("p2", 1, 9_900, "s1"))
    assert sum(line.paid_fen for line in claimed) == 19_900
    for wanted, refunded in (([Wanted("p3", 1)], {}), ([Wanted("p2", 1)], {}), ([Wanted("p1", 4)], {}),
                             ([Wanted("p1", 2)], {("p1", None): 2}), ([Wanted("p1", 1), Wanted("p1", 1)], {}),
                             ([Wanted("p1", 0)], {}), ([], {})):
        with pytest.raises(rules.InvalidLines):
            rules.claim_lines(LINES, wanted, refunded)


@given(st.lists(st.integers(min_value=1, max_value=3), max_size=6))
def test_cases_never_claim_more_units_than_were_bought(quantities):
    refunded: dict[tuple[str, str | None], int] = {}
    done = []
    for quantity in quantities:
        try:
            lines = rules.claim_lines(LINES, [Wanted("p1", quantity)], refunded)
        except rules.InvalidLines:
            assert quantity > 3 - refunded.get(("p1", None), 0)
            continue
        done.append(case(CaseStatus.REFUNDED, lines=lines))
        refunded = rules.refunded_units(done)
    assert refunded.get(("p1", None), 0) <= 3


def test_an_approval_refunds_up_to_what_the_lines_were_paid():
    assert rules.approved_refund(case(), None) == 10_000
    assert rules.approved_refund(case(), 1) == 1
    for bad in (0, 10_001, -5):
        with pytest.raises(rules.RefundExceedsLines):
            rules.approved_refund(case(), bad)


def test_a_refund_is_under_way_once_approved_or_received_until_refunded():
    assert case(CaseStatus.APPROVED).refund_under_way
    assert case(CaseStatus.RETURNING, CaseKind.RETURN_REFUND, received_at=NOW).refund_under_way
    assert not case(CaseStatus.RETURNING, CaseKind.RETURN_REFUND).refund_under_way
    assert not case(CaseStatus.REFUNDED, CaseKind.RETURN_REFUND, received_at=NOW).refund_under_way
    assert case().refund_no == "as1"


def test_a_case_id_fits_wechats_refund_number():
    case_id = rules.new_case_id(NOW)
    assert len(case_id) <= 64 and case_id.isalnum() and case_id != rules.new_case_id(NOW)
