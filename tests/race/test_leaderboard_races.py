"""The leaderboards' month close under concurrency, on DynamoDB Local: three runs at once and a
late one pay each award once; refunds racing the close leave each reward at what the rule keeps
of the value it was ranked on, and every wallet equal to its entries."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.leaderboards import Board, kept_fen
from chalicelib.jobs import run_job
from chalicelib.services import orders, payments, referrals, settlement, shops
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem
from tests.conftest import MutableClock
from tests.race.concurrency import login, race
from tests.race.test_checkout_races import buy, new_product

pytestmark = pytest.mark.race


def a_month_of_our_own() -> tuple[str, datetime]:
    """A March no other test uses (the database is the session's), and 00:50 Shanghai on April 1st."""
    year = 2040 + random.randrange(500)
    return f"{year}-03", datetime(year, 3, 31, 16, 50, tzinfo=UTC)


def sellers(orders_each: list[int]) -> tuple[Deps, MutableClock, str, list[str], list[list[tuple[str, str]]]]:
    """Distributors with ``orders_each[i]`` paid orders of 50 yuan in a month of our own, each from
    a new buyer they brought; the clock at the close. Returns (deps, clock, month, distributors,
    their [(buyer, order)])."""
    month, close_at = a_month_of_our_own()
    clock = MutableClock(close_at - timedelta(days=10))
    deps = Deps(clock=clock)
    product_id = new_product(deps, stock=sum(orders_each))
    people, paid = [], []
    for n in orders_each:
        seller = login(deps, "seller")
        code = shops.open_shop(seller, "shop", deps).invite_code
        assert code
        mine = []
        for _ in range(n):
            buyer = login(deps, "b")
            referrals.bind(buyer, code, deps)
            order = buy(deps, buyer, product_id).order
            headers, body = deps.pay.build_payment_notification(order.order_id, clock(),  # type: ignore[attr-defined]
                                                                amount_fen=order.amount_fen)
            payments.handle_notification(headers, body, deps)
            mine.append((buyer, order.order_id))
        people.append(seller)
        paid.append(mine)
    clock.at = close_at
    return deps, clock, month, people, paid


def reward(user_id: str, board: Board, month: str) -> LedgerItem:
    return LedgerItem.get(user_id, f"leaderboard#{board.value}#{month}", consistent_read=True)


def test_three_closes_at_once_and_a_late_one_pay_each_award_exactly_once(deps):
    deps, clock, month, people, _ = sellers([3, 2, 1])
    runs = race([lambda: run_job("leaderboard_rewards", clock(), Deps(clock=clock)) for _ in range(3)])
    assert all(isinstance(r, dict) for r in runs), runs
    assert sum(r["paid"] for r in runs) == 6 and sum(r["paid_fen"] for r in runs) == 100_000 + 60_000
    late = run_job("leaderboard_rewards", clock() + timedelta(days=12), deps)
    assert (late["paid"], late["already_paid"]) == (0, 0)  # the month is marked done: nothing planned
    for seller, n, fen in zip(people, (3, 2, 1), (50_000 + 30_000, 30_000 + 20_000, 20_000 + 10_000), strict=True):
        assert deps.ledger.wallet(seller)["pending"] == fen + n * 1_000  # the rewards and each order's 20%
        rewards = [e for e in deps.ledger.entries(seller) if e["kind"] == "leaderboard_reward"]
        assert sorted(e["amount_fen"] for e in rewards) == sorted(
            [reward(seller, b, month).reward_fen for b in Board])
        assert sum(e["amount_fen"] for e in rewards) == fen
        assert settlement.wallet_differences(seller, deps) == {}


def test_refunds_racing_the_close_leave_each_reward_what_the_rule_keeps_of_its_ranked_value(deps):
    """Four of the leader's eight orders refunded while the close runs: a refund before the
    standing lowers the value ranked on, one after it takes its share from the reward (before or
    after the payment); either way the reward is the rule's share of what it was ranked on."""
    deps, clock, month, people, paid = sellers([8, 1])
    leader = people[0]

    def refund(i: int, buyer: str, order_id: str) -> str:
        time.sleep(0.03 * i)  # spread over the close: some before its standing, some after its payment
        return orders.refund(order_id, Caller(buyer, "user"), "退", deps).status.value

    calls: list[Callable[[], Any]] = [lambda: run_job("leaderboard_rewards", clock(), Deps(clock=clock))]
    calls += [lambda i=i, b=b, o=o: refund(i, b, o) for i, (b, o) in enumerate(paid[0][:4])]
    outcomes = race(calls)
    assert outcomes[1:] == ["refunded"] * 4, outcomes
    final = {Board.SALES: 4 * 5_000, Board.NEW_CUSTOMERS: 4}
    for board, decided in ((Board.SALES, 50_000), (Board.NEW_CUSTOMERS, 30_000)):
        item = reward(leader, board, month)
        assert (item.rank, item.reward_fen) == (1, decided)
        assert item.close_value - item.lost_value == final[board]
        assert item.amount_fen == kept_fen(decided, item.close_value, item.lost_value, True)
    assert deps.leaderboards.value(leader, Board.SALES, month) == 20_000
    assert settlement.wallet_differences(leader, deps) == {}
    assert run_job("leaderboard_rewards", clock(), deps)["paid"] == 0
