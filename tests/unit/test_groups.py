"""The group-buy state machine and seat arithmetic (pure)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.groups import (
    TRANSITIONS,
    AlreadyMember,
    Group,
    GroupClosed,
    GroupFull,
    GroupStatus,
    NotAGroupProduct,
    Seat,
    SeatState,
    WrongGroupStatus,
    check_transition,
    expiry,
    group_settings,
)
from chalicelib.domain.orders import ProductNotFound

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


def group(*seats: tuple[str, SeatState], status: GroupStatus = GroupStatus.OPEN, size: int = 3) -> Group:
    return Group("g1", "p1", "leader", size, status, NOW, NOW + timedelta(hours=24),
                 seats={user: Seat(f"o-{user}", state) for user, state in seats})


def test_a_group_is_open_until_it_completes_or_fails_and_then_never_changes():
    assert TRANSITIONS[GroupStatus.OPEN] == {GroupStatus.COMPLETE, GroupStatus.FAILED}
    check_transition(GroupStatus.OPEN, GroupStatus.COMPLETE)
    check_transition(GroupStatus.OPEN, GroupStatus.FAILED)
    for closed in (GroupStatus.COMPLETE, GroupStatus.FAILED):
        for target in GroupStatus:
            with pytest.raises(WrongGroupStatus):
                check_transition(closed, target)


def test_held_and_paid_seats_count_towards_size_released_ones_do_not():
    g = group(("leader", SeatState.PAID), ("a", SeatState.HELD), ("b", SeatState.RELEASED))
    assert (g.held_count, g.paid_count) == (2, 1)
    assert [user for user, _ in g.members()] == ["leader", "a"]
    assert not g.completes_with_one_more_payment()
    assert replace(g, seats={**g.seats, "a": Seat("o-a", SeatState.PAID)}).completes_with_one_more_payment()


def test_join_is_refused_when_full_closed_expired_or_already_a_member():
    full = group(("leader", SeatState.HELD), ("a", SeatState.HELD), ("b", SeatState.PAID))
    with pytest.raises(GroupFull):
        full.check_joinable("c", NOW)
    with pytest.raises(AlreadyMember):
        full.check_joinable("leader", NOW)  # a leader cannot join their own group
    with pytest.raises(GroupClosed):
        group(status=GroupStatus.FAILED).check_joinable("c", NOW)
    with pytest.raises(GroupClosed):
        group(("leader", SeatState.HELD)).check_joinable("c", NOW + timedelta(hours=24))
    group(("leader", SeatState.HELD), ("a", SeatState.RELEASED)).check_joinable("a", NOW)  # may take it again


def test_a_seat_is_the_orders_only_while_held_in_an_open_group():
    g = group(("leader", SeatState.HELD))
    assert g.owns_seat("leader", "o-leader")
    assert not g.owns_seat("leader", "another-order")
    assert not replace(g, status=GroupStatus.FAILED).owns_seat("leader", "o-leader")
    assert not group(("leader", SeatState.RELEASED)).owns_seat("leader", "o-leader")
    assert not group(("leader", SeatState.PAID)).owns_seat("leader", "o-leader")


def test_only_an_open_group_past_its_deadline_is_due():
    g = group()
    assert not g.is_due(NOW + timedelta(hours=23, minutes=59))
    assert g.is_due(NOW + timedelta(hours=24))
    assert not replace(g, status=GroupStatus.COMPLETE).is_due(NOW + timedelta(days=3))


def test_group_settings_default_to_three_people_thirty_percent_off_a_day():
    settings = GroupBuy()
    assert (settings.size, settings.discount_bp, settings.ttl_hours) == (3, 3_000, 24)
    product = Product("p", "x", "food", 1_000, 5_000, 1, 1_000, 500, settings)
    assert product.group_price_fen == 3_500
    assert group_settings(product) is settings
    assert expiry(NOW, settings) == NOW + timedelta(hours=24)
    with pytest.raises(NotAGroupProduct):
        group_settings(replace(product, group_buy=None))
    with pytest.raises(ProductNotFound):
        group_settings(None)
    with pytest.raises(ProductNotFound):
        group_settings(replace(product, listed=False))
