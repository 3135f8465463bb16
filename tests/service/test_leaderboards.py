"""The monthly leaderboards on moto: kept by payments and refunds, read without a scan, closed
once by the ``leaderboard_rewards`` job (as deployed: ``run_job``), rewards through the ledger."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import LeaderboardRules, Rules
from chalicelib.domain.catalog import Product
from chalicelib.domain.leaderboards import Board, MonthOutOfRange
from chalicelib.jobs import run_job
from chalicelib.services import distributors, leaderboards, orders, referrals, settlement
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem
from tests.service.test_orders import distributor, login, paid_order
from tests.service.test_settlement import settle

DECEMBER_1ST = datetime(2026, 11, 30, 16, 50, tzinfo=UTC)  # 00:50 in Shanghai: the job's hour
HOLD_OVER = DECEMBER_1ST + timedelta(days=15, minutes=1)


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"


def with_boards(deps: Deps, **rules: Any) -> None:
    deps.settings = deps.settings.model_copy(update={"rules": Rules(leaderboards=LeaderboardRules(**rules))})


def november(deps: Deps, product: str) -> dict[str, Any]:
    """Three distributors' November: alice brings b1 (two orders) and b2, bob brings b3 (one order
    of two units), carol brings b4. Sales: alice 15,000, bob 10,000, carol 5,000 fen; new
    customers: alice 2, bob 1, carol 1."""
    people: dict[str, Any] = {}
    for name in ("alice", "bob", "carol"):
        people[name], people[f"{name}_code"] = distributor(deps, name)
    for buyer, seller in (("b1", "alice"), ("b2", "alice"), ("b3", "bob"), ("b4", "carol")):
        people[buyer] = login(deps, buyer)
        referrals.bind(people[buyer], people[f"{seller}_code"], deps)
    people["o1"] = paid_order(deps, people["b1"], product)
    people["o1b"] = paid_order(deps, people["b1"], product)  # b1's second order: not a new customer again
    people["o2"] = paid_order(deps, people["b2"], product)
    people["o3"] = paid_order(deps, people["b3"], product, quantity=2)
    people["o4"] = paid_order(deps, people["b4"], product)
    return people


def board(deps: Deps, name: str, caller: str, month: str | None = None) -> tuple[list[tuple[int, str, int]], Any]:
    standing = leaderboards.read_board(name, month, caller, deps)
    return [(r.rank, nick, r.value) for r, nick in standing.rows], standing.me


def close(now: datetime, deps: Deps) -> dict[str, Any]:
    return run_job("leaderboard_rewards", now, deps)


def reward(user_id: str, board_name: str, month: str = "2026-11") -> LedgerItem:
    return LedgerItem.get(user_id, f"leaderboard#{board_name}#{month}", consistent_read=True)


def refund(deps: Deps, order_id: str) -> None:
    order = deps.orders.get(order_id)
    assert order is not None
    orders.refund(order_id, Caller(order.buyer_id, "user"), "不想要了", deps)


def balanced(deps: Deps, *user_ids: str) -> bool:
    return all(settlement.wallet_differences(u, deps) == {} for u in user_ids)


def test_payments_rank_level_1_by_sales_and_by_first_orders_brought_with_others_masked(deps, product):
    p = november(deps, product)
    rows, me = board(deps, "sales", p["alice"])
    assert rows == [(1, "alice", 15_000), (2, "b**", 10_000), (3, "c**", 5_000)] and me == (1, 15_000)
    rows, me = board(deps, "new_customers", p["carol"])
    assert sorted(rows) == [(1, "a**", 2), (2, "b**", 1), (2, "carol", 1)] and me == (2, 1)  # a tie shares rank 2
    assert board(deps, "sales", p["b1"])[1] == (None, 0)  # a buyer is on no board


def test_the_callers_rank_outside_the_top_is_counted_not_scanned(deps, product):
    p = november(deps, product)
    with_boards(deps, top=1, sales_rewards_fen=[100], new_customers_rewards_fen=[100])
    rows, me = board(deps, "sales", p["carol"])
    assert rows == [(1, "a**", 15_000)] and me == (3, 5_000)
    rows, me = board(deps, "new_customers", p["bob"])
    assert rows == [(1, "a**", 2)] and me == (2, 1)


def test_a_refund_in_the_month_moves_the_ranking_and_takes_a_first_orders_customer_back(deps, product):
    p = november(deps, product)
    refund(deps, p["o3"])
    assert board(deps, "sales", p["bob"]) == ([(1, "a**", 15_000), (2, "c**", 5_000)], (None, 0))
    assert board(deps, "new_customers", p["bob"]) == ([(1, "a**", 2), (2, "c**", 1)], (None, 0))
    refund(deps, p["o1b"])  # b1's second order: sales only; b1 stays alice's new customer
    assert board(deps, "sales", p["alice"])[1] == (1, 10_000)
    assert board(deps, "new_customers", p["alice"])[1] == (1, 2)


def test_a_distributor_reads_the_current_month_and_the_history_only(deps, clock, product):
    p = november(deps, product)
    clock.at = DECEMBER_1ST
    rows, me = board(deps, "sales", p["alice"])
    assert rows == [] and me == (None, 0)  # December: nothing yet
    assert board(deps, "sales", p["alice"], "2026-11")[1] == (1, 15_000)
    with pytest.raises(MonthOutOfRange):
        board(deps, "sales", p["alice"], "2027-01")
    with pytest.raises(MonthOutOfRange):
        board(deps, "sales", p["alice"], "2025-11")
    assert leaderboards.admin_board("sales", "2025-11", deps).rows == []  # the operator reads any month


def test_the_close_pays_each_ranked_distributor_its_reward_once_into_pending(deps, product):
    p = november(deps, product)
    before = {name: deps.ledger.wallet(p[name]) for name in ("alice", "bob", "carol")}
    first = close(DECEMBER_1ST, deps)
    assert (first["paid"], first["paid_fen"], first["closed"]) == (6, 170_000, ["2026-11", "2026-10"])
    late = close(DECEMBER_1ST + timedelta(days=9), deps)
    assert (late["paid"], late["paid_fen"], late["closed"]) == (0, 0, [])
    gained = {name: deps.ledger.wallet(p[name])["pending"] - before[name]["pending"] for name in before}
    assert gained == {"alice": 50_000 + 30_000, "bob": 30_000 + 20_000, "carol": 20_000 + 20_000}
    item = reward(p["bob"], "new_customers")
    assert (item.status, item.amount_fen, item.reward_fen, item.rank, item.close_value) == ("pending", 20_000, 20_000, 2, 1)
    entries = [e for e in deps.ledger.entries(p["alice"]) if e["kind"] == "leaderboard_reward"]
    assert sorted((e["sk"], e["amount_fen"]) for e in entries) == [
        ("entry#leaderboard#new_customers#2026-11#0#leaderboard_reward", 30_000),
        ("entry#leaderboard#sales#2026-11#0#leaderboard_reward", 50_000)]
    assert balanced(deps, p["alice"], p["bob"], p["carol"])
    admin = leaderboards.admin_board("sales", "2026-11", deps)
    assert [(a.rank, a.user_id, a.reward_fen, r.status if r else None) for a, r in admin.awards or []] == [
        (1, p["alice"], 50_000, "pending"), (2, p["bob"], 30_000, "pending"), (3, p["carol"], 20_000, "pending")]


def test_a_reward_becomes_available_after_the_hold_once(deps, product):
    p = november(deps, product)
    close(DECEMBER_1ST, deps)
    before = deps.ledger.wallet(p["carol"])
    assert settle(HOLD_OVER - timedelta(minutes=2), deps)["settled"] == 0
    assert settle(HOLD_OVER, deps)["settled"] == 6
    assert settle(HOLD_OVER + timedelta(days=1), deps)["settled"] == 0
    after = deps.ledger.wallet(p["carol"])
    assert (after["pending"], after["available"]) == (before["pending"] - 40_000, before["available"] + 40_000)
    assert reward(p["carol"], "sales").status == "available"
    assert balanced(deps, p["alice"], p["bob"], p["carol"])


def test_a_refund_after_the_close_reverses_the_pending_rewards_refunded_share(deps, clock, product):
    p = november(deps, product)
    close(DECEMBER_1ST, deps)
    clock.at = DECEMBER_1ST + timedelta(days=1)
    before = deps.ledger.wallet(p["bob"])
    refund(deps, p["o3"])  # all of bob's sales and his one customer
    commission = 10_000 * 2_000 // 10_000
    assert deps.ledger.wallet(p["bob"])["pending"] == before["pending"] - 30_000 - 20_000 - commission
    bobs = reward(p["bob"], "sales")
    assert (bobs.amount_fen, bobs.lost_value, bobs.status, bobs.settle_shard) == (0, 10_000, "reversed", None)
    taken = [e for e in deps.ledger.entries(p["bob"]) if e["kind"] == "leaderboard_reversal"]
    assert sorted((e["sk"], e["amount_fen"], e["order_id"]) for e in taken) == [
        (f"entry#leaderboard#new_customers#2026-11#0#leaderboard_reversal#{p['o3']}", 20_000, p["o3"]),
        (f"entry#leaderboard#sales#2026-11#0#leaderboard_reversal#{p['o3']}", 30_000, p["o3"])]
    assert board(deps, "sales", p["bob"], "2026-11")[1] == (None, 0)  # the board moves; the standing stays
    assert [a.user_id for a, _ in leaderboards.admin_board("sales", "2026-11", deps).awards or []] == [
        p["alice"], p["bob"], p["carol"]]
    assert settle(HOLD_OVER, deps)["settled"] == 4  # bob's two rewards have nothing left to settle
    assert balanced(deps, p["bob"])


def test_a_refund_after_the_reward_is_available_claws_its_share_back(deps, clock, product):
    p = november(deps, product)
    close(DECEMBER_1ST, deps)
    settle(HOLD_OVER, deps)
    clock.at = HOLD_OVER + timedelta(hours=1)
    before = deps.ledger.wallet(p["alice"])
    refund(deps, p["o2"])  # 5,000 of alice's 15,000, and b2, one of her 2 customers
    taken = 50_000 * 5_000 // 15_000 + 30_000 * 1 // 2
    assert deps.ledger.wallet(p["alice"])["available"] == before["available"] - taken
    assert reward(p["alice"], "sales").amount_fen == 50_000 - 16_666
    claws = [e for e in deps.ledger.entries(p["alice"]) if e["kind"] == "leaderboard_clawback"]
    assert sorted(e["amount_fen"] for e in claws) == [15_000, 16_666] and {e["order_id"] for e in claws} == {p["o2"]}
    assert balanced(deps, p["alice"])


def test_without_clawback_a_refund_after_the_close_leaves_the_reward(deps, clock, product):
    p = november(deps, product)
    with_boards(deps, clawback=False)
    close(DECEMBER_1ST, deps)
    clock.at = DECEMBER_1ST + timedelta(days=1)
    pending = deps.ledger.wallet(p["bob"])["pending"]
    refund(deps, p["o3"])
    assert deps.ledger.wallet(p["bob"])["pending"] == pending - 2_000  # only the commission goes
    assert reward(p["bob"], "sales").amount_fen == 30_000
    assert board(deps, "sales", p["bob"], "2026-11")[1] == (None, 0)
    assert balanced(deps, p["bob"])


def test_a_refund_between_the_standing_and_the_payment_is_taken_from_the_reward_paid(deps, clock, product):
    p = november(deps, product)
    clock.at = DECEMBER_1ST
    leaderboards.decide(Board.SALES, "2026-11", DECEMBER_1ST, deps)  # a run decided, then stopped
    refund(deps, p["o2"])
    close(DECEMBER_1ST + timedelta(minutes=5), deps)
    assert reward(p["alice"], "sales").amount_fen == 50_000 - 16_666  # ranked on 15,000, 5,000 refunded since
    assert reward(p["alice"], "sales").lost_value == 5_000
    assert balanced(deps, p["alice"])


def test_a_frozen_distributor_forfeits_the_reward_and_nobody_moves_up(deps, clock, product):
    p = november(deps, product)
    admin = login(deps, "admin")
    distributors.freeze(p["carol"], "刷单", admin, deps)
    result = close(DECEMBER_1ST, deps)
    assert (result["paid"], result["forfeited"]) == (4, 2)
    assert reward(p["carol"], "sales").status == "forfeited" and reward(p["carol"], "sales").amount_fen == 0
    assert [e for e in deps.ledger.entries(p["carol"]) if e["kind"] == "leaderboard_reward"] == []
    distributors.unfreeze(p["carol"], "误判", admin, deps)
    assert close(DECEMBER_1ST + timedelta(days=1), deps)["paid"] == 0  # decided once: no payment after the freeze
    assert reward(p["bob"], "new_customers").rank == 2 and reward(p["bob"], "sales").rank == 2


def test_a_month_without_sales_closes_with_no_awards(deps):
    assert close(DECEMBER_1ST, deps)["closed"] == ["2026-11", "2026-10"]  # and the month before, missed
    assert leaderboards.admin_board("sales", "2026-11", deps).awards == []
