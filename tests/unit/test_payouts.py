"""Properties of the payout rules: commission shares (domain/orders.py), team sales and the team
bonus (domain/payouts.py). Every payout is floored by the one rounding function, reaches nobody
beyond level 2 and never adds up to more than was paid."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.binding import Member, Upline
from chalicelib.domain.catalog import BP, Product, share_of
from chalicelib.domain.orders import CommissionExceedsMargin, Line, check_margin, commission_shares, payout_upline
from chalicelib.domain.payouts import (
    earns_team_bonus,
    month_close,
    partner_months,
    team_bonus_available_at,
    team_bonus_fen,
    team_bonus_refund_fen,
    team_sharers,
)
from chalicelib.domain.tiers import Tier

NOW = datetime(2026, 11, 15, 4, tzinfo=UTC)
ids = st.sampled_from(["u1", "u2", "u3", "u4", "u5"])
rates = st.integers(min_value=0, max_value=BP)
fen = st.integers(min_value=0, max_value=10**9)


@st.composite
def lines(draw: st.DrawFn, level1_bp: st.SearchStrategy[int] = rates,
          level2_bp: st.SearchStrategy[int] = rates) -> list[Line]:
    count = draw(st.integers(min_value=1, max_value=5))
    return [Line(f"p{i}", "x", draw(st.integers(min_value=1, max_value=99)), draw(st.integers(0, 10**7)), 0,
                 draw(level1_bp), draw(level2_bp)) for i in range(count)]


@st.composite
def members(draw: st.DrawFn) -> Member:
    """A buyer with a parent, a grandparent and further ancestors the rules must ignore."""
    parent, grandparent = draw(st.none() | ids), draw(st.none() | ids)
    until = draw(st.none() | st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=1)]))
    return Member("buyer", parent_id=parent, grandparent_id=grandparent if parent else None,
                  grandparent_until=until)


@given(members(), st.booleans(), st.booleans(), lines(), st.integers(0, 2_000))
def test_no_payout_reaches_anyone_beyond_level_2(member: Member, distributor: bool, self_purchase: bool,
                                                 order_lines: list[Line], uplift: int) -> None:
    upline = payout_upline(member.upline(NOW), member.user_id, distributor, self_purchase)
    allowed = {member.user_id, member.parent_id} if self_purchase and distributor \
        else {member.parent_id, member.grandparent_id}
    shares = commission_shares(order_lines, upline, uplift)
    assert {s.user_id for s in shares} <= allowed - {None}
    assert {s.level for s in shares} <= {1, 2}
    assert set(team_sharers(upline)) <= allowed - {None}


@given(st.none() | ids, st.none() | ids)
def test_team_sales_count_for_the_orders_level_1_and_level_2_once_each(level1: str | None,
                                                                      level2: str | None) -> None:
    sharers = team_sharers(Upline(level1, level2))
    assert sharers == list(dict.fromkeys(u for u in (level1, level2) if u))
    assert len(sharers) == len(set(sharers))


@given(st.integers(min_value=-10**9, max_value=10**12), rates)
def test_team_bonus_is_the_rate_on_team_sales_floored_by_the_one_rounding_function(sales: int, bp: int) -> None:
    bonus = team_bonus_fen(sales, bp)
    assert bonus == share_of(max(sales, 0), bp)
    assert bonus == (int(Fraction(sales * bp, BP)) if sales > 0 else 0)  # floor, never rounded up
    assert 0 <= bonus <= max(sales, 0)


@given(fen, fen, rates)
def test_more_team_sales_never_earn_a_smaller_bonus(a: int, b: int, bp: int) -> None:
    low, high = sorted((a, b))
    assert team_bonus_fen(low, bp) <= team_bonus_fen(high, bp)


@given(st.sampled_from(list(Tier)))
def test_only_partners_earn_the_team_bonus(tier: Tier) -> None:
    assert earns_team_bonus(tier) is (tier is Tier.PARTNER)


@given(lines(level1_bp=st.integers(0, 5_000), level2_bp=st.integers(0, 2_000)), st.integers(0, 3_000))
def test_the_sum_of_commission_shares_never_exceeds_what_was_paid(order_lines: list[Line], uplift: int) -> None:
    shares = commission_shares(order_lines, Upline("u1", "u2"), uplift)
    paid = sum(line.paid_fen for line in order_lines)
    by_level = {s.level: s.amount_fen for s in shares}
    assert by_level.get(1, 0) == sum(share_of(line.paid_fen, line.level1_rate_bp + uplift) for line in order_lines)
    assert by_level.get(2, 0) == sum(share_of(line.paid_fen, line.level2_rate_bp) for line in order_lines)
    assert sum(by_level.values()) <= paid


@given(st.integers(1, 10**6), st.integers(0, 10**6), rates, rates, st.integers(0, 2_000), st.integers(0, 2_000))
def test_a_product_the_margin_rule_accepts_never_pays_out_more_than_its_margin(
        price: int, cost: int, level1_bp: int, level2_bp: int, uplift: int, team_bp: int) -> None:
    product = Product("p", "x", "beauty", cost, price, 1, level1_bp, level2_bp)
    try:
        check_margin(product, uplift, team_bp)
    except CommissionExceedsMargin:
        return
    line = Line("p", "x", 1, price, cost, level1_bp, level2_bp)
    shares = commission_shares([line], Upline("u1", "u2"), uplift)
    both_partners_bonuses = 2 * team_bonus_fen(price, team_bp)  # level 1 and level 2 each earn it
    assert sum(s.amount_fen for s in shares) + both_partners_bonuses <= price - cost


def test_a_margin_that_covers_only_one_team_bonus_is_refused() -> None:
    # 100 yuan, 40 yuan of margin: partner level 1 35 + level 2 2 + one 3% bonus = 40 fits, two do not
    product = Product("p", "x", "beauty", 6_000, 10_000, 1, 2_500, 200)
    with pytest.raises(CommissionExceedsMargin) as refused:
        check_margin(product, 1_000, 300)
    assert refused.value.details["largest_payout_fen"] == 4_300


# The team bonus as money like a commission ---------------------------------------------------

def test_a_months_team_bonus_becomes_available_the_hold_after_the_month_closes() -> None:
    assert team_bonus_available_at("2026-11", 3) == datetime(2026, 12, 3, 16, tzinfo=UTC)  # Dec 4th, 00:00 Shanghai
    assert team_bonus_available_at("2026-12", 3) == datetime(2027, 1, 3, 16, tzinfo=UTC)
    assert team_bonus_available_at("2026-11", 0) == month_close("2026-11") == datetime(2026, 11, 30, 16, tzinfo=UTC)


@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=30), st.data(), st.integers(0, 2_000))
def test_refunds_after_the_accrual_never_take_back_more_than_the_bonus(orders: list[int], data: st.DataObject,
                                                                        bp: int) -> None:
    """Each refunded order gives back its own share, floored like the accrual; whatever subset of
    the month's orders is refunded, the shares add up to at most the bonus, so the bonus never
    goes below zero and the cap never bites."""
    bonus = team_bonus_fen(sum(orders), bp)
    refunded = data.draw(st.lists(st.sampled_from(range(len(orders))), unique=True))
    left = bonus
    for i in refunded:
        back = team_bonus_refund_fen(orders[i], bp, left)
        assert back == share_of(orders[i], bp)
        left -= back
    assert left >= 0
    kept = sum(v for i, v in enumerate(orders) if i not in refunded)
    assert left >= team_bonus_fen(kept, bp)  # the platform keeps at most the rounding of each refund


@given(fen, rates, st.integers(-10, 10**9))
def test_a_refund_takes_back_the_orders_floored_share_but_never_more_than_is_left(order: int, bp: int,
                                                                                 left: int) -> None:
    back = team_bonus_refund_fen(order, bp, left)
    assert back == min(share_of(order, bp), max(left, 0))
    assert Fraction(back) <= Fraction(order * bp, BP)


def test_the_months_held_as_partner_are_recorded_by_the_tier_held_not_the_tier_after() -> None:
    # downgraded at the first evaluation of December: November (the tier held) is recorded
    assert partner_months(Tier.PARTNER, "2026-11", Tier.SENIOR, "2026-12") == ["2026-11"]
    # kept: both months
    assert partner_months(Tier.PARTNER, "2026-11", Tier.PARTNER, "2026-12") == ["2026-11", "2026-12"]
    # upgraded during the month: this month
    assert partner_months(Tier.SENIOR, "2026-12", Tier.PARTNER, "2026-12") == ["2026-12"]
    # never a partner: nothing
    assert partner_months(Tier.SENIOR, "2026-11", Tier.REGULAR, "2026-12") == []
    assert partner_months(Tier.REGULAR, None, Tier.REGULAR, "2026-12") == []
