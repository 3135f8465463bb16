"""A fault at every DynamoDB call of a leaderboard's close, on DynamoDB Local (tests/faults.py):
after each, the part run again (the message redelivered, the next day's run) leaves every table
as a fault-free close does: the standing decided once, each award paid once."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.leaderboards import Board, part_key
from chalicelib.domain.shards import shard_of
from chalicelib.jobs.engine import Deadline
from chalicelib.services import leaderboards, settlement
from chalicelib.store.leaderboards import board_sk
from chalicelib.store.ledger import LedgerItem
from tests.faults import Case, restore, run_with_faults
from tests.service.test_orders import distributor

pytestmark = pytest.mark.race

DECEMBER_2ND = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: DECEMBER_2ND)


def close_setup(deps: Deps) -> list[str]:
    """Three distributors with November's sales (3, 2 and 1 hundred yuan), the third frozen."""
    people = []
    for n, name in enumerate(("first", "second", "third")):
        user_id, _ = distributor(deps, name)
        LedgerItem(user_id, board_sk(Board.SALES, "2026-11"), board_value=30_000 - 10_000 * n,
                   board_part=part_key(Board.SALES, "2026-11", shard_of(user_id))).save()
        people.append(user_id)
    admin, _ = distributor(deps, "admin")
    from chalicelib.services import distributors

    distributors.freeze(people[2], "刷单", admin, deps)
    return people


def close_part(deps: Deps, _: Any) -> Any:
    return leaderboards.close_part("sales#2026-11", None, DECEMBER_2ND, deps, Deadline.after(600))


def test_a_fault_at_any_call_of_a_close_then_the_part_again_pays_each_award_once(deps, faults):
    calls, _ = run_with_faults(Case(close_setup, close_part, close_part), deps, faults)
    assert calls.count("TransactWriteItems") == 3 and "PutItem" in calls  # two paid, one forfeited; the standing
    people = [a.user_id for a in deps.leaderboards.standing(Board.SALES, "2026-11") or []]
    assert [deps.ledger.wallet(p)["pending"] for p in people] == [50_000, 30_000, 0]
    assert all(settlement.wallet_differences(p, deps) == {} for p in people)
