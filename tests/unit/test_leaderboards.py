"""The leaderboards' pure rules: ranking, the shards' merge edge, awards, what a reward keeps."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.config import LeaderboardRules
from chalicelib.domain.binding import Upline
from chalicelib.domain.leaderboards import (
    Award,
    Board,
    BoardNotFound,
    MonthOutOfRange,
    Ranked,
    Row,
    awards,
    board_named,
    check_month,
    counted_boards,
    kept_fen,
    mask_nickname,
    rank_rows,
    threshold,
)
from chalicelib.domain.orders import Order, OrderStatus

NOW = datetime(2026, 11, 10, tzinfo=UTC)


def test_equal_values_share_a_rank_and_the_next_rank_skips():
    rows = [Row("a", 5), Row("b", 9), Row("c", 5), Row("d", 1), Row("e", 0)]
    assert rank_rows(rows, 10) == [Ranked(1, "b", 9), Ranked(2, "a", 5), Ranked(2, "c", 5), Ranked(4, "d", 1)]


def test_the_top_keeps_every_distributor_tied_at_its_last_rank_and_never_a_zero():
    rows = [Row("a", 5), Row("b", 9), Row("c", 5), Row("d", 1), Row("z", 0), Row("n", -3)]
    assert [r.user_id for r in rank_rows(rows, 2)] == ["b", "a", "c"]  # rank 2 is shared: both shown
    assert [r.user_id for r in rank_rows(rows, 1)] == ["b"]
    assert threshold(rows, 2) == 5 and threshold(rows, 5) is None


def test_a_rank_earns_its_reward_for_everyone_holding_it_and_past_the_list_nothing():
    ranked = [Ranked(1, "b", 9), Ranked(2, "a", 5), Ranked(2, "c", 5), Ranked(4, "d", 1)]
    assert awards(ranked, (300, 200, 100)) == [Award(1, "b", 9, 300), Award(2, "a", 5, 200), Award(2, "c", 5, 200)]
    assert awards(ranked, (300, 0)) == [Award(1, "b", 9, 300)]  # a rank of 0 fen pays nothing
    assert awards(ranked, ()) == []


def test_without_clawback_a_reward_keeps_everything_whatever_is_refunded():
    assert kept_fen(50_000, 10_000, 10_000, clawback=False) == 50_000


def test_with_clawback_a_reward_loses_its_refunded_share_floored_to_the_fen():
    assert kept_fen(50_000, 30_000, 10_000, clawback=True) == 50_000 - 16_666  # a third, floored
    assert kept_fen(50_000, 30_000, 30_000, clawback=True) == 0
    assert kept_fen(50_000, 30_000, 99_999, clawback=True) == 0  # never below 0
    assert kept_fen(50_000, 30_000, 0, clawback=True) == 50_000


@settings(max_examples=60, deadline=None)
@given(reward=st.integers(0, 10_000_000), close=st.integers(1, 1_000_000),
       refunds=st.lists(st.integers(1, 200_000), max_size=8))
def test_successive_refunds_never_take_more_than_one_refund_of_their_sum(reward, close, refunds):
    """Each refund takes kept(before) − kept(after): the takes add up to the share of the sum, so
    splitting a refund never takes an extra fen, and no take is negative."""
    lost, kept, taken = 0, reward, 0
    for fen in refunds:
        after = kept_fen(reward, close, lost + fen, True)
        assert kept - after >= 0
        taken += kept - after
        lost, kept = lost + fen, after
    assert taken == reward - kept_fen(reward, close, sum(refunds), True)
    assert 0 <= kept <= reward


def test_a_month_in_the_future_or_past_the_history_is_refused_and_the_operator_reads_any_past_month():
    assert check_month("2026-11", "2026-11", 12) == "2026-11"
    assert check_month("2025-11", "2026-11", 12) == "2025-11"
    for month, history in (("2026-12", 12), ("2025-10", 12), ("2026-10", 0), ("2027-01", None)):
        with pytest.raises(MonthOutOfRange):
            check_month(month, "2026-11", history)
    assert check_month("2019-01", "2026-11", None) == "2019-01"


def test_an_unknown_board_is_not_found():
    assert board_named("new_customers") is Board.NEW_CUSTOMERS
    with pytest.raises(BoardNotFound):
        board_named("heads_recruited")


def _order(level1: str | None, amount: int, new_customer: bool = False, buyer: str = "buyer") -> Order:
    return Order("o1", buyer, OrderStatus.PAID, [], amount, NOW, NOW, upline=Upline(level1, None),
                 new_customer=new_customer)


def test_an_order_counts_for_its_level_1_only_and_a_free_one_on_no_board():
    assert counted_boards(_order("seller", 5_000)) == [Board.SALES]
    assert counted_boards(_order("seller", 5_000, new_customer=True)) == [Board.SALES, Board.NEW_CUSTOMERS]
    assert counted_boards(_order(None, 5_000)) == []
    assert counted_boards(_order("seller", 0, new_customer=True)) == []  # a gift order ranks nobody


def test_others_see_a_masked_nickname():
    assert (mask_nickname("张小明"), mask_nickname("Alice"), mask_nickname("")) == ("张**", "A**", "**")


def test_the_rules_refuse_rewards_that_rise_down_the_ranks_or_reach_past_the_board():
    assert LeaderboardRules().rewards_of("sales") == (50_000, 30_000, 20_000)
    with pytest.raises(ValueError, match="never higher"):
        LeaderboardRules(sales_rewards_fen=[100, 200])
    with pytest.raises(ValueError, match="never higher"):
        LeaderboardRules(new_customers_rewards_fen=[-1])
    with pytest.raises(ValueError, match="than the board shows"):
        LeaderboardRules(top=2, sales_rewards_fen=[3, 2, 1])
