"""The distributor's ledger on moto: every kind of money line, newest first, with balances that
add up to the wallet on every page."""
from __future__ import annotations

from itertools import pairwise

import pytest

from chalicelib.domain.ledger_lines import BUCKETS, before
from chalicelib.services import ledger_view, orders
from chalicelib.services.sessions import Caller
from chalicelib.store.base import InvalidCursor
from tests.service.test_orders import distributor, login, paid_order
from tests.service.test_rewards import (
    DECEMBER_1ST,
    DECEMBER_4TH,
    LADDER,
    invitees,
    qualify,
    team,
    team_bonus,
    with_ladder,
)
from tests.service.test_rewards import product as rewards_product
from tests.service.test_settlement import settle

product = pytest.fixture(rewards_product.__wrapped__)  # type: ignore[attr-defined]
ZERO = dict.fromkeys(BUCKETS, 0)


def every_line(user_id: str, deps, limit: int, kind: str | None = None) -> list:
    lines, cursor = ledger_view.ledger(user_id, kind, limit, None, deps)
    while cursor:
        page, cursor = ledger_view.ledger(user_id, kind, limit, cursor, deps)
        lines += page
    return lines


def test_a_partners_ledger_lists_commissions_their_refund_the_team_bonus_and_its_settlement_newest_first(
        deps, clock, product):
    partner, _ = team(deps, product)
    clock.at = DECEMBER_1ST
    team_bonus(DECEMBER_1ST, deps)
    clock.at = DECEMBER_4TH
    settle(DECEMBER_4TH, deps)
    lines = every_line(partner, deps, limit=2)
    kinds = [line.kind for line in lines]
    assert kinds[:2] == ["settlement", "team_bonus"]  # newest first
    assert sorted(kinds[2:]) == ["commission", "commission", "commission", "reversal"]
    assert [line.note for line in lines[:2]] == ["team_bonus 2026-11", "team_bonus 2026-11"]
    times = [line.entry.at for line in lines]
    assert times == sorted(times, reverse=True)
    # the newest line's balances are the wallet's; undoing every line leaves nothing
    assert lines[0].balances == deps.ledger.wallet(partner)
    oldest = lines[-1]
    assert before(oldest.balances, oldest.entry.status, oldest.entry.amount_fen) == ZERO
    for newer, older in pairwise(lines):  # pages continue each other's balances
        assert older.balances == before(newer.balances, newer.entry.status, newer.entry.amount_fen)


def test_the_ladders_cash_and_a_clawback_appear_as_their_kinds_and_a_filter_shows_only_them(deps, product):
    with_ladder(deps, LADDER)
    alice, code = distributor(deps, "alice")
    buyers = invitees(deps, code, 3)
    completed = [qualify(deps, buyer, product) for buyer in buyers]
    from chalicelib.store.ledger import LedgerItem, commission_key

    # the first order's commission settled by hand, then refunded after sales: clawed back
    LedgerItem(alice, commission_key(completed[0], 1)).update(actions=[LedgerItem.status.set("available")])
    LedgerItem(alice, "wallet").update(actions=[LedgerItem.frozen_fen.add(-1_000),
                                                LedgerItem.available_fen.add(1_000)])
    from tests.refunds import refund_whole

    refund_whole(completed[0], deps)
    [reward] = every_line(alice, deps, limit=100, kind="invitation_reward")
    assert (reward.entry.amount_fen, reward.note, reward.balances) == (5_000, "milestone 3", None)
    [clawback] = every_line(alice, deps, limit=1, kind="clawback")
    assert clawback.entry.order_id == completed[0] and clawback.entry.status == "available>-"
    assert every_line(alice, deps, limit=5, kind="withdrawal") == []


def test_a_cursor_of_another_filter_or_not_ours_is_refused(deps, product):
    seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    from chalicelib.services import referrals

    referrals.bind(buyer, code, deps)
    for _ in range(2):
        order_id = paid_order(deps, buyer, product)
    orders.refund(order_id, Caller(buyer, "user"), "x", deps)
    _, unfiltered = ledger_view.ledger(seller, None, 1, None, deps)
    _, filtered = ledger_view.ledger(seller, "commission", 1, None, deps)
    assert unfiltered and filtered
    with pytest.raises(InvalidCursor):
        ledger_view.ledger(seller, "commission", 1, unfiltered, deps)
    with pytest.raises(InvalidCursor):
        ledger_view.ledger(seller, None, 1, filtered, deps)
    with pytest.raises(InvalidCursor):
        ledger_view.ledger(seller, None, 1, "bm90IG91cnM", deps)
